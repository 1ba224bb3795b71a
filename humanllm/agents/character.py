"""A character agent: one person in the scene, who sees only what that person could know."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from humanllm.agents._budget import fit, max_tokens_of, scaled, worst_case_tokens
from humanllm.agents._templates import render
from humanllm.agents.leaks import leaked_labels
from humanllm.core import CharacterProfile, Pattern, Turn, render_turns
from humanllm.llm import RoleModel

logger = logging.getLogger(__name__)

MAX_LEAK_RETRIES = 2


class TurnReply(BaseModel):
    """What a character returns for one turn (lengths bounded so small models stop)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    thought: str = Field(max_length=400, description="Private inner thought.")
    action: str = Field(max_length=200, description="Visible action or expression.")
    speech: str = Field(min_length=1, max_length=600, description="What is said aloud.")


_TURN_FLOORS = {"thought": 80, "action": 40, "speech": 120}
"""The lowest bounds of a turn's parts when the character's token budget is small."""


def _turn_at(scale: float) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in TurnReply.model_fields.items():
        bound = next(m.max_length for m in info.metadata if hasattr(m, "max_length"))
        low = 1 if name == "speech" else 0
        fields[name] = (
            str,
            Field(min_length=low, max_length=scaled(bound, scale, _TURN_FLOORS[name]), description=info.description),
        )
    return create_model("TurnReply", __config__=ConfigDict(str_strip_whitespace=True), **fields)


@functools.lru_cache(maxsize=64)
def turn_schema(max_tokens: int) -> type[BaseModel]:
    """`TurnReply`, or one with tighter bounds when its longest reply would not fit `max_tokens`."""
    if worst_case_tokens(TurnReply) <= max_tokens:
        return TurnReply
    return fit(_turn_at, max_tokens, what="character turn")


def private_guidance(patterns: Sequence[Pattern]) -> list[str]:
    """How the character's patterns show, in behaviour: their markers, never their names."""
    lines = []
    for card in patterns:
        lines.extend(card.markers.thought[:2])
        lines.extend(card.markers.action[:2])
        lines.extend(card.markers.speech[:2])
    return lines


@dataclass
class CharacterAgent:
    """Plays one character. The system prompt is fixed for the whole conversation, and the
    transcript grows at the end of the user message, so each call's prompt extends the previous
    one (prefix-cache friendly)."""

    profile: CharacterProfile
    background: str
    patterns: list[Pattern]
    model: RoleModel
    guidance: bool = True
    min_words: int = 5
    max_words: int = 60
    leak_retries: int = MAX_LEAK_RETRIES
    _system: str | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.profile.name

    def system_prompt(self) -> str:
        """Fixed for the whole conversation (rendered once)."""
        if self._system is None:
            self._system = self._render_system()
        return self._system

    def _render_system(self) -> str:
        return render(
            "character_system",
            name=self.name,
            about_self=self.profile.about_self,
            about_others=self.profile.about_others,
            background=self.background,
            guidance=private_guidance(self.patterns) if self.guidance else [],
            min_words=self.min_words,
            max_words=self.max_words,
        )

    def messages(self, turns: Sequence[Turn], *, closing: bool = False) -> list[BaseMessage]:
        user = render("character_turn", transcript=render_turns(turns, self.name), closing=closing, name=self.name)
        return [SystemMessage(content=self.system_prompt()), HumanMessage(content=user)]

    async def take_turn(self, turns: Sequence[Turn], *, closing: bool = False) -> Turn:
        """The next turn; regenerated (bounded) when it names one of the character's patterns."""
        messages = self.messages(turns, closing=closing)
        turn = Turn(speaker=self.name, speech="...")
        for attempt in range(self.leak_retries + 1):
            reply = await self.model.astructured(messages, turn_schema(max_tokens_of(self.model)))
            turn = Turn(speaker=self.name, **reply.model_dump())
            leaked = leaked_labels(turn, self.patterns)
            if not leaked:
                return turn
            logger.info("%s named %s (attempt %d); regenerating", self.name, leaked, attempt + 1)
            messages = [
                *messages[:-1],
                HumanMessage(content=f"{messages[-1].text}\n\n{render('character_leak_retry', leaked=leaked)}"),
            ]
        logger.warning("%s kept naming a pattern after %d retries; keeping the last turn", self.name, self.leak_retries)
        return turn
