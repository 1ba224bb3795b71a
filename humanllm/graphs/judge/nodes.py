"""Nodes of the judge graph: plan batches, judge them in parallel (Send), review and retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from humanllm.agents.judge import checklist_items, measured_patterns, system_message
from humanllm.core import ChecklistItem, Episode
from humanllm.graphs._build import as_model
from humanllm.graphs.judge.context import JudgeContext
from humanllm.graphs.judge.state import BatchTask, JudgeState


def batched(items: Sequence[ChecklistItem], size: int) -> list[list[ChecklistItem]]:
    """Consecutive batches of at most `size` items, in checklist order."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


async def plan(state: JudgeState, runtime: Runtime[JudgeContext]) -> JudgeState:
    """The items (unless given), the character's fixed prompt prefix and the first round's batches."""
    ctx = runtime.context
    episode, character = as_model(Episode, state["episode"]), state["character"]
    items = [as_model(ChecklistItem, item) for item in state.get("items") or []] or checklist_items(
        episode.scenario, character, (await ctx.abuilt()).judge.library, measured_patterns(episode, character)
    )
    return {
        "episode": episode,
        "items": items,
        "system": system_message(episode, character),
        "batches": batched(items, ctx.batch_size),
        "rounds": 0,
        "verdicts": {},
    }


def _task(state: JudgeState, items: list[ChecklistItem], attempt: int) -> BatchTask:
    return {
        "system": state["system"],
        "character": state["character"],
        "items": items,
        "n_turns": len(state["episode"].conversation.turns),
        "actor_turns": sum(turn.speaker == state["character"] for turn in state["episode"].conversation.turns),
        "attempt": attempt,
    }


async def fan_out(state: JudgeState) -> list[Send]:
    """One judge call per batch, plus the holistic rating, all in parallel."""
    sends = [Send("judge_batch", _task(state, batch, 0)) for batch in state.get("batches", [])]
    sends.append(Send("holistic", _task(state, [], 0)))
    return sends


async def judge_batch(state: BatchTask, runtime: Runtime[JudgeContext]) -> JudgeState:
    """Judge one batch; every item comes back, scored or unscored with a reason."""
    verdicts = await (await runtime.context.abuilt()).judge.score_items(
        state["system"], state["character"], state["items"], state["n_turns"], attempt=state["attempt"]
    )
    return {"verdicts": verdicts}


async def holistic(state: BatchTask, runtime: Runtime[JudgeContext]) -> JudgeState:
    """Anthropomorphism and fidelity of the character, when the run asks for them (CoSER or direct)."""
    method = runtime.context.holistic
    if method == "off":
        return {}
    scores = await (await runtime.context.abuilt()).judge.score_holistic(
        state["system"], state["character"], method=method, actor_turns=state["actor_turns"]
    )
    return {"holistic": scores}


async def review(state: JudgeState) -> JudgeState:
    """Count the finished round."""
    return {"rounds": state.get("rounds", 0) + 1}


async def retry_or_end(state: JudgeState, runtime: Runtime[JudgeContext]) -> list[Send] | Literal["__end__"]:
    """Re-ask the items still unscored, in smaller batches, until the retries run out."""
    ctx = runtime.context
    rounds = state.get("rounds", 0)
    verdicts = state.get("verdicts", {})
    missing = [item for item in state.get("items", []) if not (v := verdicts.get(item.id)) or not v.answered]
    if not missing or rounds > ctx.retries:
        return "__end__"
    size = max(1, ctx.batch_size // (2**rounds))
    return [Send("judge_batch", _task(state, batch, rounds)) for batch in batched(missing, size)]
