"""State of the episode pipeline graph."""

from __future__ import annotations

from typing_extensions import TypedDict  # typing.TypedDict on 3.11 breaks LangGraph's /schemas endpoint

from humanllm.core import Conversation, Scenario


class EpisodeState(TypedDict, total=False):
    patterns: list[str]
    """The bundle."""
    situation: str
    """A DIAMONDS type, a domain or free text."""
    scenario: Scenario
    """The scene: written by the scenario graph, or given in the input (then played as is)."""
    conversation: Conversation
    """The finished conversation."""
