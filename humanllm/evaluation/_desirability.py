"""The social-desirability probe: do holistic scores reward prosocial characters beyond what the checklist finds?

The paper's central claim is that holistic ratings (anthropomorphism, character fidelity) reward
socially desirable characters while the pattern checklists do not: a cruel character played
faithfully should score well on its checklist (the cruelty shows) but may be marked down by a
holistic judge that likes nice people. The probe splits the judged characters by their patterns
into a prosocial and an antisocial group and compares, per group, the holistic score with the
checklist score on one scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from humanllm.core import Family, Pole
from humanllm.evaluation._scoring import HOLISTIC, SampleInfo, SampleKey
from humanllm.evaluation._stats import mean
from humanllm.patterns import PatternLibrary

Desirability = Literal["prosocial", "antisocial"]

PROSOCIAL_PATTERNS = ("gratitude mechanism", "reciprocity principle")
"""Social-cognitive patterns whose behaviour is plainly prosocial: thanking and repaying others."""
ANTISOCIAL_PATTERNS = ("sadistic pleasure",)
"""Social-cognitive patterns whose behaviour is plainly antisocial: enjoying another's suffering."""


def desirability_groups(library: PatternLibrary) -> dict[str, Desirability]:
    """Pattern name -> prosocial or antisocial, for the patterns that place a character in one group.

    Agreeableness is the Big-Five domain of prosocial motivation and behaviour (Graziano & Eisenberg,
    1997, "Agreeableness: a dimension of personality", in Handbook of Personality Psychology): its
    positive-pole markers (kind, warm, helpful, cooperative, ...) describe prosocial characters and
    its negative-pole markers (cold, harsh, cruel, callous, ...) antisocial ones. To these come the
    social-cognitive patterns that are clearly one or the other (`PROSOCIAL_PATTERNS`,
    `ANTISOCIAL_PATTERNS`); every other pattern (a cognitive bias, say) places no one. Patterns
    missing from the library are skipped, so a trimmed library still works.
    """
    groups: dict[str, Desirability] = {}
    for card in library:
        if card.family is Family.AGREEABLENESS and card.pole is not None:
            groups[card.name] = "prosocial" if card.pole is Pole.POSITIVE else "antisocial"
    for names, group in ((PROSOCIAL_PATTERNS, "prosocial"), (ANTISOCIAL_PATTERNS, "antisocial")):
        for name in names:
            if name in library:
                groups[library.get(name).name] = group  # type: ignore[assignment]
    return groups


def desirability_of(patterns: Iterable[str], groups: Mapping[str, Desirability]) -> Desirability | None:
    """A character's group: the one its patterns place it in; None when they place it in both or neither."""
    found = {groups[name] for name in patterns if name in groups}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class SampleScores:
    """One judge's scores of one sample, each averaged over the judge's runs (None: no value)."""

    ipe: float | None
    """Mean of the sample's IPE items, -1..1."""
    anthropomorphism: float | None
    """0..100."""
    fidelity: float | None
    """0..100."""


class DesirabilityGroup(BaseModel):
    """The prosocial or antisocial characters under one judge."""

    samples: int = Field(description="Characters of the group with an IPE value.")
    ipe: float | None = Field(description="Mean IPE x 100 (-100..100).")
    ipe_0_100: float | None = Field(description="The same on the holistic scale: (IPE + 100) / 2.")
    anthropomorphism: float | None = Field(description="Mean anthropomorphism (0..100) of the group's characters.")
    fidelity: float | None = Field(description="Mean character fidelity (0..100).")
    gap: dict[str, float | None] = Field(
        description="Holistic metric -> mean over the characters with both scores of holistic - (IPE + 100) / 2."
    )


class DesirabilityProbe(BaseModel):
    """One judge's holistic-vs-checklist gap for prosocial vs antisocial characters."""

    prosocial: DesirabilityGroup
    antisocial: DesirabilityGroup
    both: int = Field(description="Characters whose patterns are prosocial and antisocial: left out.")
    neither: int = Field(description="Characters with no prosocial or antisocial pattern: left out.")
    headline: dict[str, float | None] = Field(
        description="Holistic metric -> gap(prosocial) - gap(antisocial): positive means the holistic score "
        "rewards prosocial characters beyond what the checklist finds."
    )


def desirability_probe(
    scores: Mapping[SampleKey, SampleScores],
    infos: Mapping[SampleKey, SampleInfo],
    groups: Mapping[str, Desirability],
) -> DesirabilityProbe:
    """The probe over one judge's per-sample scores; a sample of no group (or of both) is counted, not used."""
    members: dict[Desirability, list[SampleScores]] = {"prosocial": [], "antisocial": []}
    both = neither = 0
    for key, sample in scores.items():
        info = infos.get(key)
        patterns = info.patterns if info is not None else ()
        group = desirability_of(patterns, groups)
        if group is not None:
            members[group].append(sample)
        elif any(name in groups for name in patterns):
            both += 1
        else:
            neither += 1
    prosocial, antisocial = _group(members["prosocial"]), _group(members["antisocial"])
    headline = {metric: _minus(prosocial.gap[metric], antisocial.gap[metric]) for metric in HOLISTIC}
    return DesirabilityProbe(prosocial=prosocial, antisocial=antisocial, both=both, neither=neither, headline=headline)


def _group(samples: list[SampleScores]) -> DesirabilityGroup:
    scored = [s for s in samples if s.ipe is not None]
    ipe = mean([100 * s.ipe for s in scored if s.ipe is not None])
    gap: dict[str, float | None] = {}
    holistic: dict[str, float | None] = {}
    for metric in HOLISTIC:
        values = [(getattr(s, metric), s.ipe) for s in scored if getattr(s, metric) is not None]
        holistic[metric] = mean([h for h, _ in values])
        gap[metric] = mean([h - (100 * i + 100) / 2 for h, i in values if i is not None])
    return DesirabilityGroup(
        samples=len(scored),
        ipe=ipe,
        ipe_0_100=None if ipe is None else (ipe + 100) / 2,
        anthropomorphism=holistic["anthropomorphism"],
        fidelity=holistic["fidelity"],
        gap=gap,
    )


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
