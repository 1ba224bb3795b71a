"""Nodes of the conversation graph: small functions over the state."""

from __future__ import annotations

import asyncio
from typing import Literal

from langgraph.runtime import Runtime

from humanllm.agents.human import human_line
from humanllm.graphs.conversation.context import ConversationContext
from humanllm.graphs.conversation.state import ConversationState


def direct(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The director picks the next speaker, or ends the conversation."""
    if state.get("closed", False):
        return {"next_speaker": None}  # keep the reason given for the closing turn
    decision = runtime.context.director(state.get("scenario")).decide(state.get("turns", []))
    return {"next_speaker": decision.speaker, "closing": decision.closing, "ended_by": decision.reason}


async def speak(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The picked character takes one turn."""
    speaker = state["next_speaker"]
    assert speaker is not None
    parts = runtime.context.parts
    if parts is not None:  # attached (batch runs): a lookup, not worth a thread hop on every turn
        agent = parts.agents[speaker]
    else:  # built from the settings: reads the pattern library, so off the event loop
        agent = await asyncio.to_thread(runtime.context.agent, state.get("scenario"), speaker)
    closing = state.get("closing", False)
    turn = await agent.take_turn(state.get("turns", []), closing=closing)
    return {"turns": [turn], "closed": closing}


def human_turn(state: ConversationState) -> ConversationState:
    """The person playing the picked character gives their line (the run pauses here until they do)."""
    speaker = state["next_speaker"]
    assert speaker is not None
    closing = state.get("closing", False)
    turn = human_line(speaker, closing=closing)
    if turn is None:
        return {}  # nothing said or done: the director picks them again, and they are asked again
    return {"turns": [turn], "closed": closing}


def route(state: ConversationState, runtime: Runtime[ConversationContext]) -> Literal["speak", "human_turn", "__end__"]:
    speaker = state.get("next_speaker")
    if not speaker:
        return "__end__"
    return "human_turn" if speaker == runtime.context.human else "speak"
