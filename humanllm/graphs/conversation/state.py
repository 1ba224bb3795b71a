"""State of the conversation graph."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from humanllm.core import Turn


class ConversationState(TypedDict, total=False):
    """What flows between the director and the characters."""

    turns: Annotated[list[Turn], operator.add]
    """Every turn so far, thoughts included; each agent filters what it may see."""
    next_speaker: str | None
    """Who the director picked; None ends the conversation."""
    closing: bool
    """The picked turn is the closing one."""
    closed: bool
    """The closing turn has been taken."""
    ended_by: str
    """The director's reason for the last decision (the end reason once finished)."""
