"""A person at the keyboard playing one character, for interactive simulations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from humanllm.agents.trinity import parse_trinity
from humanllm.core import Turn

Reader = Callable[[str], str]
"""Shows a prompt and returns what the person typed."""


@dataclass
class HumanAgent:
    """Same interface as `CharacterAgent`: the person types `[thought] (action) speech`."""

    name: str
    read: Reader

    async def take_turn(self, turns: Sequence[Turn], *, closing: bool = False) -> Turn:
        hint = " (last turn: close the conversation)" if closing else ""
        while True:
            text = await asyncio.to_thread(self.read, f"{self.name}{hint} › [thought] (action) speech")
            turn = parse_trinity(text, self.name)
            if turn.speech or turn.action:
                return turn
