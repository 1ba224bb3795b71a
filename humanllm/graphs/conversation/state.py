"""State of the conversation graph."""

from __future__ import annotations

from typing import Annotated

from typing_extensions import TypedDict  # typing.TypedDict on 3.11 breaks LangGraph's /schemas endpoint

from humanllm.core import Scenario, Turn
from humanllm.graphs._build import as_model


def add_turns(old: list[Turn], new: list[Turn]) -> list[Turn]:
    """Reducer: append the new turns (given as plain dicts by a run started from JSON, read as turns)."""
    return [*old, *(as_model(Turn, turn) for turn in new)]


class ConversationState(TypedDict, total=False):
    """What flows between the director and the characters."""

    scenario: Scenario
    """The scene the agents are built from (needed unless the caller attached its own agents)."""
    turns: Annotated[list[Turn], add_turns]
    """Every turn so far, thoughts included; each agent filters what it may see."""
    next_speaker: str | None
    """Who the director picked; None ends the conversation."""
    closing: bool
    """The picked turn is the closing one."""
    closed: bool
    """The closing turn has been taken."""
    ended_by: str
    """The director's reason for the last decision (the end reason once finished)."""
