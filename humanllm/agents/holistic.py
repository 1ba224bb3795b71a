"""The judge's holistic baseline: CoSER's flaw-penalty score (the paper's comparison) or a direct 0-100 rating.

CoSER (Wang et al. 2025) has the judge list the flaws it finds per dimension, each with a type and
a severity from 1 (minor) to 5 (severe), and turns them into a score with `coser_score`:
100 - (sum of severities - 0.3 x actor turns) x 5, clipped to 0..100, as CoSER's evaluation code
does (`max(0, min(..., 100))`). The 0.3 per turn is CoSER's allowance for length: a longer
transcript has more room for flaws. CoSER judges a whole conversation and counts every actor
message; here the judge rates one character, so the actor turns are that character's turns.

The dimensions are the two the HumanLLM paper reports as its holistic baseline: anthropomorphism
and character fidelity; the flaw types are CoSER's, reworded for a scene with a written profile
(there is no book and no reference conversation). `direct` keeps the earlier one-call 0-100 rating.

A reply that cannot be read leaves the dimension *unscored, with the reason*, never 0.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from humanllm.agents._budget import JUDGE_MAX_TOKENS, fit, scaled
from humanllm.llm import schema_of

HolisticMethod = Literal["coser", "direct"]
"""How the holistic baseline is scored: CoSER's flaw penalty, or a direct 0-100 rating."""
HolisticChoice = Literal["coser", "direct", "off"]
"""A judge run's holistic setting: one of the methods, or no holistic call at all."""
HOLISTIC_CHOICES: tuple[HolisticChoice, ...] = ("coser", "direct", "off")
HOLISTIC_DEFAULT: HolisticChoice = "coser"
"""The holistic rating a judge run asks for by default (the judge graph and `eval`'s options share it)."""

SEVERITY_MIN, SEVERITY_MAX = 1, 5
TURN_ALLOWANCE = 0.3
"""Severity points forgiven per actor turn (CoSER's length allowance)."""
POINTS_PER_SEVERITY = 5
"""Score points one severity point costs."""

REASON_MAX = 160
"""Characters of the direct rating's one-sentence reasons."""
INSTANCE_MAX, INSTANCE_MIN = 120, 30
"""Characters of a flaw's description, at its largest and at the least a tight budget may give it."""
FLAWS_MAX, FLAWS_MIN = 8, 4
"""Flaws listed per dimension, at most (and the least a tight budget may cut that to)."""
TYPE_MAX = 40
"""Characters of a flaw type kept from a reply that ignores the schema's enum."""
FLAWS_TITLE = "HolisticFlaws"
"""Title of the CoSER reply schema (the fakes and the mock server route on it)."""

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "anthropomorphism": ("self_identity", "emotional_depth", "persona_coherence", "social_interaction"),
    "character_fidelity": (
        "character_language",
        "knowledge_background",
        "personality_behaviour",
        "relationship_status",
    ),
}
"""Reply key of each CoSER dimension -> its flaw types (the schema's enum, the prompt's headings)."""
METRIC_OF = {"anthropomorphism": "anthropomorphism", "character_fidelity": "fidelity"}
"""Reply key -> the reported metric name."""


def coser_score(severities: Sequence[int], actor_turns: int) -> float:
    """CoSER's score of one dimension: 100 - (sum(severities) - 0.3 x actor_turns) x 5, clipped to 0..100."""
    penalty = (sum(severities) - TURN_ALLOWANCE * actor_turns) * POINTS_PER_SEVERITY
    return max(0.0, min(100.0, round(100.0 - penalty, 6)))


class Flaw(BaseModel):
    """One flaw the judge found in a character's role-play."""

    model_config = ConfigDict(extra="forbid")

    instance: str = Field(default="", description="Where and how the flaw shows.")
    type: str = Field(description="The flaw type (one of the dimension's types).")
    severity: int = Field(ge=SEVERITY_MIN, le=SEVERITY_MAX, description="1 minor, 3 moderate, 5 severe.")


class HolisticScores(BaseModel):
    """Holistic scores of one character (0-100); None = unscored (the reason says why)."""

    model_config = ConfigDict(extra="forbid")

    anthropomorphism: float | None = Field(default=None, description="0-100, or None when unscored.")
    fidelity: float | None = Field(default=None, description="0-100, or None when unscored.")
    reason: str = Field(default="", description="The judge's reasons, or why there is no score.")
    method: HolisticMethod = Field(
        default="direct", description="coser (flaw penalty) or direct (0-100 rating); records before CoSER: direct."
    )
    flaws: dict[str, list[Flaw]] = Field(
        default_factory=dict, description="coser: metric -> the flaws found (for each scored metric)."
    )
    actor_turns: int | None = Field(default=None, description="coser: the character's turns the allowance counted.")


# --- direct rating -----------------------------------------------------------------------------
Rating = Annotated[int, Field(ge=0, le=100, json_schema_extra={"enum": list(range(101))})]
"""A 0-100 rating, written as an enum so a grammar cannot produce a number out of range."""


class HolisticReply(BaseModel):
    """The judge's direct holistic rating of one character (0-100 per dimension)."""

    anthropomorphism_reason: str = Field(max_length=REASON_MAX, description="Why this anthropomorphism score.")
    anthropomorphism: Rating = Field(description="How much the character comes across as a real person.")
    fidelity_reason: str = Field(max_length=REASON_MAX, description="Why this fidelity score.")
    fidelity: Rating = Field(description="How faithfully the character keeps to its profile.")


def direct_scores(reply: HolisticReply) -> HolisticScores:
    return HolisticScores(
        anthropomorphism=reply.anthropomorphism,
        fidelity=reply.fidelity,
        reason=f"anthropomorphism: {reply.anthropomorphism_reason} fidelity: {reply.fidelity_reason}",
        method="direct",
    )


# --- CoSER flaws: schema -----------------------------------------------------------------------
def _flaws_at(scale: float) -> type[BaseModel]:
    instance = scaled(INSTANCE_MAX, scale, INSTANCE_MIN)
    count = max(FLAWS_MIN, int(FLAWS_MAX * scale))
    fields: dict[str, Any] = {}
    for key, types in DIMENSIONS.items():
        kind: Any = Literal[types]  # the dimension's flaw types as an enum
        entry = create_model(
            f"{key.title().replace('_', '')}Flaw",
            __config__=ConfigDict(extra="forbid"),
            instance=(str, Field(max_length=instance, description="Where and how the flaw shows (cite the turn).")),
            type=(kind, Field(description="The flaw type.")),
            severity=(Literal[1, 2, 3, 4, 5], Field(description="1 minor, 3 moderate, 5 severe.")),
        )
        dimension = create_model(
            f"{key.title().replace('_', '')}Flaws",
            __config__=ConfigDict(extra="forbid"),
            flaws=(list[entry], Field(max_length=count, description="Every flaw found; empty when there is none.")),  # type: ignore[valid-type]
        )
        fields[key] = (dimension, Field(description=f"The {key.replace('_', ' ')} flaws."))
    return create_model(FLAWS_TITLE, __config__=ConfigDict(extra="forbid"), **fields)


@functools.lru_cache(maxsize=16)
def flaws_schema(max_tokens: int = JUDGE_MAX_TOKENS) -> type[BaseModel]:
    """The CoSER reply schema: per dimension a bounded list of {instance, type, severity}, fitted to `max_tokens`.

    A tight budget lists fewer and shorter flaws (never fewer than `FLAWS_MIN`); with
    `FLAWS_MIN` flaws of severity 5 a dimension can still lose 100 points on a short transcript.
    """
    return fit(_flaws_at, max_tokens, what="holistic (CoSER) judge reply")


def flaws_limit(schema: type[BaseModel]) -> int:
    """How many flaws per dimension the schema allows (the prompt states it)."""
    root = schema_of(schema)
    dimension = root["$defs"][root["properties"][next(iter(DIMENSIONS))]["$ref"].split("/")[-1]]
    return int(dimension["properties"]["flaws"]["maxItems"])


# --- CoSER flaws: parsing ----------------------------------------------------------------------
def _severity(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and SEVERITY_MIN <= value <= SEVERITY_MAX else None


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _dimension(data: Mapping[str, object], key: str) -> object:
    """The reply's entry for one dimension; also under CoSER's own names ("Character Fidelity") or "fidelity"."""
    by_key = {_key(k): v for k, v in data.items()}
    return by_key.get(key, by_key.get(METRIC_OF[key]))


def _flaws(entry: object) -> tuple[list[Flaw] | None, str]:
    """The flaws of one dimension's entry, or None and why they cannot be used."""
    if isinstance(entry, dict):
        entry = entry.get("flaws")
    if not isinstance(entry, list):
        return None, "no list of flaws"
    flaws = []
    for raw in entry:
        if not isinstance(raw, dict):
            return None, f"a flaw is not an object ({str(raw)[:40]!r})"
        severity = _severity(raw.get("severity"))
        if severity is None:
            return None, f"a flaw's severity {raw.get('severity')!r} is not 1-5"
        kind = str(raw.get("type") or "unspecified")[:TYPE_MAX]
        flaws.append(Flaw(instance=str(raw.get("instance") or "")[:INSTANCE_MAX], type=kind, severity=severity))
    return flaws, ""


def parse_flaws(text: str, actor_turns: int) -> HolisticScores:
    """CoSER scores from a reply; a dimension whose flaws cannot be read is unscored with the reason.

    Lenient where it costs nothing (prose or fences around the JSON, CoSER's dimension names, a
    severity written "3", an unknown flaw type), strict where it changes the score: a severity
    that is missing or outside 1-5 leaves the dimension unscored.
    """
    from humanllm.llm import extract_json

    try:
        data = json.loads(extract_json(text), strict=False)
    except json.JSONDecodeError as exc:
        return HolisticScores(
            method="coser", actor_turns=actor_turns, reason=f"the judge's reply is not valid JSON ({exc.msg})"
        )
    if not isinstance(data, dict):
        return HolisticScores(method="coser", actor_turns=actor_turns, reason="the judge's reply is not an object")
    scores: dict[str, float] = {}
    found: dict[str, list[Flaw]] = {}
    notes = []
    for key in DIMENSIONS:
        metric = METRIC_OF[key]
        flaws, problem = _flaws(_dimension(data, key))
        if flaws is None:
            notes.append(f"{metric}: unscored ({problem})")
            continue
        found[metric] = flaws
        scores[metric] = coser_score([f.severity for f in flaws], actor_turns)
        worst = max((f.severity for f in flaws), default=0)
        notes.append(f"{metric}: {len(flaws)} flaw(s)" + (f", worst severity {worst}" if flaws else ""))
    return HolisticScores(
        anthropomorphism=scores.get("anthropomorphism"),
        fidelity=scores.get("fidelity"),
        reason="; ".join(notes),
        method="coser",
        flaws=found,
        actor_turns=actor_turns,
    )


def scored_count(scores: HolisticScores) -> int:
    """How many of the two dimensions have a score."""
    return (scores.anthropomorphism is not None) + (scores.fidelity is not None)
