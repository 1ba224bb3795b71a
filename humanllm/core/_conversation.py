"""Conversations: turns of inner thought, visible action and speech."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["thought", "action", "speech"]


class Turn(BaseModel):
    """One speaking turn: what the speaker thinks, visibly does, and says."""

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(description="The character who takes this turn.")
    thought: str = Field(default="", description="Private inner thought; only the speaker knows it.")
    action: str = Field(default="", description="Visible action or expression; everyone present sees it.")
    speech: str = Field(default="", description="What is said aloud.")

    def parts(self, *, with_thought: bool = True) -> list[tuple[Channel, str]]:
        """The non-empty channels in trinity order, each as its text (not yet bracketed)."""
        parts: list[tuple[Channel, str]] = []
        if with_thought and self.thought:
            parts.append(("thought", self.thought))
        if self.action:
            parts.append(("action", self.action))
        if self.speech:
            parts.append(("speech", self.speech))
        return parts

    def as_trinity(self, *, with_thought: bool = True) -> str:
        """`[thought] (action) speech`, the released text format."""
        return " ".join(bracketed(channel, text) for channel, text in self.parts(with_thought=with_thought))

    def visible(self) -> Turn:
        """This turn as another character perceives it: no thought."""
        return self.model_copy(update={"thought": ""})


def bracketed(channel: Channel, text: str) -> str:
    """One channel's text as written in the trinity format: `[thought]`, `(action)`, `speech`."""
    return f"[{text}]" if channel == "thought" else f"({text})" if channel == "action" else text


def seen_by(turn: Turn, viewer: str | None) -> Turn:
    """`turn` as `viewer` perceives it: whole when it is theirs (or `viewer` is None), else without thought."""
    return turn if viewer is None or turn.speaker == viewer else turn.visible()


def render_turns(turns: Sequence[Turn], viewer: str | None = None, *, numbered: bool = False) -> str:
    """The one visible-transcript renderer: `[n. ]Name: [thought] (action) speech` lines.

    Seen by `viewer`, everyone else's thoughts are removed (the viewer's own are kept); with no
    viewer every thought is shown. `numbered` prefixes each line with its 1-based turn number.
    """
    lines = []
    for number, turn in enumerate(turns, 1):
        prefix = f"{number}. " if numbered else ""
        lines.append(f"{prefix}{turn.speaker}: {seen_by(turn, viewer).as_trinity()}")
    return "\n".join(lines)


class Conversation(BaseModel):
    """An ordered list of turns."""

    model_config = ConfigDict(extra="forbid")

    turns: list[Turn] = Field(default_factory=list)
    ended_by: str = Field(default="", description="Why the conversation ended (director's reason).")
