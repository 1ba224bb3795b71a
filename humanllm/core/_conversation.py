"""Conversations: turns of inner thought, visible action and speech."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from humanllm.core._trinity import Channel, joined, render_segments

CHANNELS: tuple[Channel, ...] = ("thought", "action", "speech")


class Segment(BaseModel):
    """One piece of a turn in one channel, in the order it was written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel = Field(description="thought (private), action (visible) or speech (said aloud).")
    text: str = Field(description="The piece's text, trimmed, without its brackets.")
    space: str | None = Field(
        default=None, description="The whitespace written before the piece when it is not one space (e.g. a newline)."
    )

    @field_validator("text")
    @classmethod
    def _trimmed(cls, text: str) -> str:
        return text.strip()

    @field_validator("space")
    @classmethod
    def _whitespace(cls, space: str | None) -> str | None:
        if space is not None and space.strip():
            raise ValueError(f"space {space!r} is not whitespace")
        return None if space == " " else space


class Turn(BaseModel):
    """One speaking turn: what the speaker thinks, visibly does, and says.

    `thought`, `action` and `speech` always hold each channel's whole text, for every reader. A turn
    written with several thoughts or actions, or in another order than thought, action, speech
    (imported or parsed text), also keeps its `segments` in order, so its text is reproduced
    exactly; a plain turn has none. Texts are trimmed.
    """

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(description="The character who takes this turn.")
    thought: str = Field(default="", description="Private inner thought; only the speaker knows it.")
    action: str = Field(default="", description="Visible action or expression; everyone present sees it.")
    speech: str = Field(default="", description="What is said aloud.")
    segments: list[Segment] = Field(
        default_factory=list,
        description="The channels in the order written, when that is not one thought, one action, one speech; "
        "empty for a plain turn. thought/action/speech are then these joined (thoughts and speech by a "
        "space, actions by '; ').",
    )

    @field_validator("thought", "action", "speech")
    @classmethod
    def _trimmed(cls, text: str) -> str:
        return text.strip()

    @model_validator(mode="after")
    def _one_form(self) -> Turn:
        """Segments merged (adjacent speech), emptied when plain; the channel fields agree with them."""
        if not self.segments:
            return self
        merged: list[Segment] = []
        for segment in self.segments:
            if not segment.text:
                continue
            if not merged:
                merged.append(segment.model_copy(update={"space": None}))
            elif segment.channel == "speech" and merged[-1].channel == "speech":
                glue = " " if segment.space is None else segment.space
                merged[-1] = merged[-1].model_copy(update={"text": f"{merged[-1].text}{glue}{segment.text}"})
            else:
                merged.append(segment)
        pairs = [(s.channel, s.text) for s in merged]
        for channel in CHANNELS:
            whole = joined(pairs, channel)
            given = getattr(self, channel)
            if given and given != whole:
                raise ValueError(f"{channel} {given!r} disagrees with the turn's segments ({whole!r})")
            setattr(self, channel, whole)
        plain = [(c, getattr(self, c)) for c in CHANNELS if getattr(self, c)]
        usual = all(s.space is None for s in merged)
        self.segments = [] if pairs == plain and usual else merged
        return self

    def pieces(self, *, with_thought: bool = True) -> list[Segment]:
        """The non-empty pieces in the order written; a plain turn's are thought, action, speech."""
        plain = [Segment(channel=c, text=getattr(self, c)) for c in CHANNELS if getattr(self, c)]
        pieces = self.segments or plain
        return [piece for piece in pieces if with_thought or piece.channel != "thought"]

    def parts(self, *, with_thought: bool = True) -> list[tuple[Channel, str]]:
        """The non-empty pieces in the order written, each as (channel, text) (not yet bracketed)."""
        return [(piece.channel, piece.text) for piece in self.pieces(with_thought=with_thought)]

    def as_trinity(self, *, with_thought: bool = True) -> str:
        """`[thought] (action) speech` as written, the released text format (grammar: `core._trinity`)."""
        return render_segments((p.channel, p.text, p.space) for p in self.pieces(with_thought=with_thought))

    def visible(self) -> Turn:
        """This turn as another character perceives it: no thought."""
        if not self.segments:
            return Turn(speaker=self.speaker, action=self.action, speech=self.speech)
        return Turn(speaker=self.speaker, segments=self.pieces(with_thought=False))


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
