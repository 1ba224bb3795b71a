"""State of the judge graph: one character of one episode, one judge run."""

from __future__ import annotations

from typing import Annotated

from langchain_core.messages import SystemMessage
from typing_extensions import TypedDict  # typing.TypedDict on 3.11 breaks LangGraph's /schemas endpoint

from humanllm.agents.judge import HolisticScores
from humanllm.core import ChecklistItem, Episode, Verdict


def merge_verdicts(old: dict[str, Verdict], new: dict[str, Verdict]) -> dict[str, Verdict]:
    """Reducer: a later verdict replaces an earlier one, except that an unscored one never replaces a score."""
    merged = dict(old)
    for item_id, verdict in new.items():
        before = merged.get(item_id)
        if before is None or verdict.answered or not before.answered:
            merged[item_id] = verdict
    return merged


class JudgeState(TypedDict, total=False):
    """What flows between the planner, the batch judges and the reviewer."""

    episode: Episode
    """The episode being judged."""
    character: str
    """The character judged."""
    items: list[ChecklistItem]
    """The checklist items (IPE then MPD); built from the episode when not given."""
    system: SystemMessage
    """The judge's fixed prefix for this character: scene, profile, numbered transcript."""
    batches: list[list[ChecklistItem]]
    """The first round's batches."""
    verdicts: Annotated[dict[str, Verdict], merge_verdicts]
    """Item id -> the best verdict so far (scored beats unscored)."""
    holistic: HolisticScores
    """Anthropomorphism and fidelity, when asked for."""
    rounds: int
    """Judging rounds finished (the first one plus retries)."""


class BatchTask(TypedDict):
    """The input of one batch judge (sent by the planner or the reviewer)."""

    system: SystemMessage
    character: str
    items: list[ChecklistItem]
    n_turns: int
    actor_turns: int
    """The judged character's turns (CoSER's length allowance counts them)."""
    attempt: int
