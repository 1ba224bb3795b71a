"""Conversations: turns of inner thought, visible action and speech."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Turn(BaseModel):
    """One speaking turn: what the speaker thinks, visibly does, and says."""

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(description="The character who takes this turn.")
    thought: str = Field(default="", description="Private inner thought; only the speaker knows it.")
    action: str = Field(default="", description="Visible action or expression; everyone present sees it.")
    speech: str = Field(default="", description="What is said aloud.")

    def as_trinity(self, *, with_thought: bool = True) -> str:
        """`[thought] (action) speech`, the released text format."""
        parts: list[str] = []
        if with_thought and self.thought:
            parts.append(f"[{self.thought}]")
        if self.action:
            parts.append(f"({self.action})")
        if self.speech:
            parts.append(self.speech)
        return " ".join(parts)

    def visible(self) -> Turn:
        """This turn as another character perceives it: no thought."""
        return self.model_copy(update={"thought": ""})


class Conversation(BaseModel):
    """An ordered list of turns."""

    model_config = ConfigDict(extra="forbid")

    turns: list[Turn] = Field(default_factory=list)
    ended_by: str = Field(default="", description="Why the conversation ended (director's reason).")

    def transcript(self, *, viewer: str | None = None) -> str:
        """Readable text; seen by `viewer`, other speakers' thoughts are removed."""
        lines = []
        for turn in self.turns:
            keep = viewer is None or turn.speaker == viewer
            lines.append(f"{turn.speaker}: {turn.as_trinity(with_thought=keep)}")
        return "\n".join(lines)
