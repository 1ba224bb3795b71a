"""Nodes of the conversation graph: small functions over the state."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from humanllm.graphs.conversation.context import ConversationContext
from humanllm.graphs.conversation.state import ConversationState


def direct(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The director picks the next speaker, or ends the conversation."""
    if state.get("closed", False):
        return {"next_speaker": None}  # keep the reason given for the closing turn
    decision = runtime.context.director.decide(state.get("turns", []))
    return {"next_speaker": decision.speaker, "closing": decision.closing, "ended_by": decision.reason}


async def speak(state: ConversationState, runtime: Runtime[ConversationContext]) -> ConversationState:
    """The picked character takes one turn."""
    speaker = state["next_speaker"]
    assert speaker is not None
    agent = runtime.context.agents[speaker]
    closing = state.get("closing", False)
    turn = await agent.take_turn(state.get("turns", []), closing=closing)
    return {"turns": [turn], "closed": closing}


def route(state: ConversationState) -> Literal["speak", "__end__"]:
    return "speak" if state.get("next_speaker") else "__end__"
