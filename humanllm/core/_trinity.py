"""The trinity text grammar, `[inner thought] (action) speech`, both ways, in one place.

A turn's text is a sequence of segments: `[...]` is a thought, `(...)` an action, anything else
speech. Inside a thought, square brackets nest (`[I hate this [really]]`) and parentheses are plain
text; inside an action the reverse. Each segment keeps the whitespace written before it (one space
is the usual, kept as None). Rendering escapes with a backslash only what would otherwise be read
as another segment: `[` and `(` in speech, an unmatched `]` in a thought or `)` in an action, and a
backslash before one of `\\[]()` or at the end of a text. So a `Turn`'s rendering reads back as
the same turn, and the authors' texts (which never escape) read as they were meant and render back
as written (each piece trimmed). Reading never raises: an unclosed `[` or `(` runs to the end of
the text, and a stray closer in speech is kept as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

Channel = Literal["thought", "action", "speech"]

SPECIAL = frozenset("\\[]()")
_CHANNELS: dict[str, tuple[Channel, str]] = {"[": ("thought", "]"), "(": ("action", ")")}
_OPEN: dict[Channel, tuple[str, str]] = {"thought": ("[", "]"), "action": ("(", ")")}


def _unmatched(text: str, opener: str, closer: str) -> set[int]:
    """Positions of the `opener`/`closer` characters of `text` that have no partner."""
    stack: list[int] = []
    lonely: set[int] = set()
    for index, char in enumerate(text):
        if char == opener:
            stack.append(index)
        elif char == closer:
            if stack:
                stack.pop()
            else:
                lonely.add(index)
    return lonely | set(stack)


def escape(channel: Channel, text: str) -> str:
    """`text` as written inside its channel's brackets (or as speech), escaped where needed."""
    if channel == "speech":
        must = {i for i, char in enumerate(text) if char in "[("}
    else:
        must = _unmatched(text, *_OPEN[channel])
    out = []
    for index, char in enumerate(text):
        if char == "\\" and (index + 1 == len(text) or text[index + 1] in SPECIAL):
            out.append("\\\\")
        elif index in must:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def bracketed(channel: Channel, text: str) -> str:
    """One channel's text in its brackets, for display: `[thought]`, `(action)`, `speech` (not escaped)."""
    return f"[{text}]" if channel == "thought" else f"({text})" if channel == "action" else text


def written(channel: Channel, text: str) -> str:
    """One channel's text as the trinity format writes it: in its brackets and escaped (see `escape`)."""
    if channel == "speech":
        return escape(channel, text)
    opener, closer = _OPEN[channel]
    return f"{opener}{escape(channel, text)}{closer}"


Piece = tuple[Channel, str, str | None]
"""(channel, text, space before it): the space is None for the usual single space."""


def render_segments(segments: Iterable[Piece]) -> str:
    """The segments as one trinity text, each after its space (one space when None; none before the first)."""
    out: list[str] = []
    for channel, text, space in segments:
        if out:
            out.append(" " if space is None else space)
        out.append(written(channel, text))
    return "".join(out)


def _bracket(text: str, start: int, opener: str, closer: str) -> tuple[str, int]:
    """The unescaped inside of the bracket opened at `start`, and where reading goes on."""
    depth, index, inner = 1, start + 1, []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in SPECIAL:
            inner.append(text[index + 1])
            index += 2
            continue
        if char == opener:
            depth += 1
        elif char == closer:
            depth -= 1
            if depth == 0:
                return "".join(inner), index + 1
        inner.append(char)
        index += 1
    return "".join(inner), index  # never closed: it runs to the end


def split_trinity(text: str) -> list[Piece]:
    """The segments of a trinity text in the order written, each trimmed (empty ones dropped), with the
    whitespace written before it (the first's is "")."""
    segments: list[Piece] = []
    speech: list[str] = []
    pending = ""  # whitespace not yet given to a segment

    def keep(channel: Channel, part: str) -> None:
        nonlocal pending
        body = part.strip()
        if not body:
            pending += part if channel == "speech" else ""  # whitespace between two segments
            return
        if channel == "speech":
            pending += part[: len(part) - len(part.lstrip())]
        segments.append((channel, body, pending if segments else ""))
        pending = part[len(part.rstrip()) :] if channel == "speech" else ""

    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in SPECIAL:
            speech.append(text[index + 1])
            index += 2
        elif char in _CHANNELS:
            keep("speech", "".join(speech))
            speech = []
            channel, closer = _CHANNELS[char]
            inner, index = _bracket(text, index, char, closer)
            keep(channel, inner)
        else:
            speech.append(char)
            index += 1
    keep("speech", "".join(speech))
    return segments


def joined(segments: Sequence[tuple[Channel, str]], channel: Channel) -> str:
    """One channel's texts as one: thoughts and speech joined by a space, actions by '; '."""
    return ("; " if channel == "action" else " ").join(text for kind, text in segments if kind == channel)
