"""An episode as its page shows it: the scenario, the turns from one perspective, the verdicts with their evidence.

Omniscient, every thought shows. "As X saw it" is what X's agent was given: its system prompt (its own
profile and view of the others, the scene, the private guidance of its patterns when the run gave it)
and the transcript with everyone else's thoughts removed (`humanllm.core.seen_by`, the same rule
`render_turns` applies to the agent's prompt).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

from humanllm.core import Episode, Verdict
from humanllm.evaluation import Judgement
from humanllm.patterns import PatternLibrary
from humanllm.viewer._evidence import evidence_turns

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    channel: str
    """thought, action or speech: the CSS class it is drawn with."""
    text: str


@dataclass(frozen=True)
class TurnView:
    number: int
    """1-based, as the judge numbered the transcript."""
    speaker: str
    pieces: list[Piece]
    hidden_thought: bool
    """The speaker had a thought this perspective cannot see."""


@dataclass(frozen=True)
class VerdictView:
    item_id: str
    metric: str
    question: str
    pattern: str
    status: str
    """'+1', '0', '-1', 'n/a' or 'unscored'."""
    css: str
    reason: str
    evidence: str
    turns: list[int]


@dataclass
class JudgementView:
    character: str
    judge: str
    run: int
    verdicts: list[VerdictView]
    ipe: float | None
    mpd: float | None
    holistic: dict[str, Any] = field(default_factory=dict)


def turn_views(episode: Episode, viewer: str | None) -> list[TurnView]:
    from humanllm.core import seen_by

    out = []
    for number, turn in enumerate(episode.conversation.turns, 1):
        seen = seen_by(turn, viewer)
        pieces = [Piece(p.channel, p.text) for p in seen.pieces()]
        out.append(TurnView(number, turn.speaker, pieces, hidden_thought=bool(turn.thought) and not seen.thought))
    return out


def given_prompt(episode: Episode, character: str, library: PatternLibrary) -> str:
    """The system prompt `character`'s agent was given (the agent's own renderer; no model is called)."""
    from humanllm.agents.character import CharacterAgent

    names = episode.scenario.char2pattern.get(character, [])
    cards = [library.get(n) for n in names if n in library]
    guidance = episode.config.get("guidance", True)
    agent = CharacterAgent(
        profile=episode.scenario.profile(character),
        background=episode.scenario.background,
        patterns=cards,
        model=cast(Any, None),  # the prompt needs no model
        guidance=bool(guidance),
    )
    return agent.system_prompt()


def _status(verdict: Verdict | None) -> tuple[str, str]:
    if verdict is None or not verdict.answered:
        return "unscored", "unscored"
    if verdict.not_applicable:
        return "n/a", "na"
    value = int(verdict.score) if verdict.score is not None else 0
    return (f"+{value}" if value > 0 else str(value)), {1: "plus", 0: "zero", -1: "minus"}[value]


def judgement_view(judgement: Judgement, episode: Episode) -> JudgementView:
    turns = episode.conversation.turns
    by_id = {v.item_id: v for v in judgement.verdicts}
    verdicts = []
    for item in judgement.items:
        verdict = by_id.get(item.id)
        status, css = _status(verdict)
        evidence = verdict.evidence if verdict is not None else ""
        verdicts.append(
            VerdictView(
                item_id=item.id,
                metric=item.metric.value,
                question=item.question,
                pattern=item.pattern or "",
                status=status,
                css=css,
                reason=(verdict.reason if verdict is not None else "") or "",
                evidence=evidence,
                turns=evidence_turns(evidence, turns, judgement.character) if evidence else [],
            )
        )

    def mean(metric: str) -> float | None:
        values = [int(v.status) for v in verdicts if v.metric == metric and v.status not in ("n/a", "unscored")]
        return 100 * sum(values) / len(values) if values else None

    holistic = judgement.holistic.model_dump(exclude_none=True) if judgement.holistic is not None else {}
    return JudgementView(
        judgement.character, judgement.judge, judgement.run, verdicts, mean("ipe"), mean("mpd"), holistic
    )
