"""State of the episode pipeline graph."""

from __future__ import annotations

from typing import TypedDict

from humanllm.core import Conversation, Scenario


class EpisodeState(TypedDict, total=False):
    patterns: list[str]
    """The bundle."""
    situation: str
    scenario: Scenario
    conversation: Conversation
