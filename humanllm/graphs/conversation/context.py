"""Run-time dependencies of the conversation graph: the agents and the director."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from humanllm.agents.director import RuleDirector
from humanllm.core import Turn


class Speaker(Protocol):
    """Anything that can take a turn: a character agent, or a person at the keyboard."""

    @property
    def name(self) -> str: ...

    async def take_turn(self, turns: Sequence[Turn], *, closing: bool = False) -> Turn: ...


@dataclass
class ConversationContext:
    """One per episode; the compiled graph is shared by every episode."""

    agents: dict[str, Speaker]
    """Character name -> the agent that plays them."""
    director: RuleDirector
