"""What the index keeps of each record: the columns of an episode, a judgement and a failed attempt."""

from __future__ import annotations

import json
from dataclasses import dataclass

from humanllm.core import Episode, Metric
from humanllm.evaluation import Judgement
from humanllm.patterns import PatternLibrary
from humanllm.simulation import Failure, reason_cause


@dataclass(frozen=True)
class EpisodeRow:
    """One episode's columns, and who carries which pattern (card name and family)."""

    id: str
    situation: str
    patterns: str
    """The bundle's pattern names, as JSON."""
    characters: str
    """The cast's names, protagonist first, as JSON."""
    n_characters: int
    turns: int
    tokens: int
    mode: str
    models: str
    label: str
    """The split the episode carries (benchmark plays) or its split file's name; '' when neither."""
    source: str
    """A benchmark play's source episode id; '' otherwise."""
    target: str
    model: str
    """A benchmark play's model under test; '' otherwise."""
    text: str
    """What the text search looks in: names, situation, background, patterns and every turn."""
    carried: list[tuple[str, str, str]]
    """(character, pattern, family) for each pattern a character carries."""


def _card(library: PatternLibrary, name: str) -> tuple[str, str]:
    if name in library:
        card = library.get(name)
        return card.name, card.family.value
    return name, ""


def episode_row(episode: Episode, library: PatternLibrary, label: str = "") -> EpisodeRow:
    scenario = episode.scenario
    names = [p.name for p in scenario.characters]
    carried = [
        (character, *_card(library, pattern))
        for character, patterns in scenario.char2pattern.items()
        for pattern in patterns
    ]
    spec = episode.spec or {}
    carried_split = episode.config.get("split")
    turns = episode.conversation.turns
    text = "\n".join(
        [
            " ".join(names),
            scenario.situation,
            " ".join(scenario.patterns),
            scenario.background,
            *(f"{t.speaker} {t.thought} {t.action} {t.speech}" for t in turns),
        ]
    )
    return EpisodeRow(
        id=episode.id,
        situation=scenario.situation,
        patterns=json.dumps([_card(library, p)[0] for p in scenario.patterns]),
        characters=json.dumps(names),
        n_characters=len(names),
        turns=len(turns),
        tokens=sum(u.total_tokens for u in episode.usage.values()),
        mode=episode.mode,
        models=json.dumps(episode.models, sort_keys=True),
        label=carried_split if isinstance(carried_split, str) and carried_split else label,
        source=str(spec.get("source", "")) if spec.get("kind") == "play" else "",
        target=str(episode.config.get("target") or spec.get("target") or ""),
        model=str(spec.get("model", "")) if spec.get("kind") == "play" else "",
        text=text,
        carried=carried,
    )


@dataclass(frozen=True)
class JudgementRow:
    key: str
    episode: str
    character: str
    judge: str
    run: int
    ipe: float | None
    """The mean of the scored IPE items, -1..1; None when none is scored."""
    mpd: float | None
    unscored: int
    not_applicable: int


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def judgement_row(judgement: Judgement) -> JudgementRow:
    return JudgementRow(
        key=judgement.key,
        episode=judgement.episode_id,
        character=judgement.character,
        judge=judgement.judge,
        run=judgement.run,
        ipe=_mean([score for _, score in judgement.scored(Metric.IPE)]),
        mpd=_mean([score for _, score in judgement.scored(Metric.MPD)]),
        unscored=sum(1 for v in judgement.verdicts if not v.answered),
        not_applicable=sum(1 for v in judgement.verdicts if v.not_applicable),
    )


def failure_row(failure: Failure) -> tuple[str, int, str, str, float]:
    """(episode id, attempt, root cause, reason, time), the cause as `EpisodeStore.failure_groups` finds it."""
    return failure.id, failure.attempt, failure.cause or reason_cause(failure.reason), failure.reason, failure.at
