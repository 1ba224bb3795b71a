"""Nodes of the conversation graph: small functions over the state.

They are coroutines (the routes too), but for the person's turn: LangGraph runs a plain function
in a worker thread when the graph runs async, a thread hop per super-step. A character's turn ends
with the director's pick of the next speaker, in the same step (one super-step per turn, not two).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from langgraph.runtime import Runtime

from humanllm.agents.human import human_line
from humanllm.graphs.conversation.context import ConversationContext
from humanllm.graphs.conversation.state import ConversationState


async def direct(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The director picks the next speaker, or ends the conversation."""
    return _directed(state, runtime)


def _directed(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    if state.get("closed", False):
        return {"next_speaker": None}  # keep the reason given for the closing turn
    decision = runtime.context.director(state.get("scenario")).decide(state.get("turns", []))
    return {"next_speaker": decision.speaker, "closing": decision.closing, "ended_by": decision.reason}


async def speak(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The picked character takes one turn; then the director picks who is next (or ends it)."""
    speaker = state["next_speaker"]
    assert speaker is not None
    parts = runtime.context.parts
    if parts is not None:  # attached (batch runs): a lookup, not worth a thread hop on every turn
        agent = parts.agents[speaker]
    else:  # built from the settings: reads the pattern library, so off the event loop
        agent = await asyncio.to_thread(runtime.context.agent, state.get("scenario"), speaker)
    closing = state.get("closing", False)
    turns = state.get("turns", [])
    turn = await agent.take_turn(turns, closing=closing)
    spoken: ConversationState = {"turns": [turn], "closed": closing}
    return spoken | _directed({**state, "turns": [*turns, turn], "closed": closing}, runtime)


def human_turn(state: ConversationState) -> ConversationState:
    """The person playing the picked character gives their line (the run pauses here until they do)."""
    speaker = state["next_speaker"]
    assert speaker is not None
    closing = state.get("closing", False)
    turn = human_line(speaker, closing=closing)
    if turn is None:
        return {}  # nothing said or done: the director picks them again, and they are asked again
    return {"turns": [turn], "closed": closing}


async def route(
    state: ConversationState, runtime: Runtime[ConversationContext]
) -> Literal["speak", "human_turn", "__end__"]:
    speaker = state.get("next_speaker")
    if not speaker:
        return "__end__"
    return "human_turn" if speaker == runtime.context.human else "speak"
