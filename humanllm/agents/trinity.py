"""Parsing "trinity" text, `[inner thought] (action) speech`, robustly and without loss.

Models are sloppy: brackets nest or go unclosed, several thoughts or actions appear in one turn,
speakers are written as "Name:" or "**Name**:". The parser keeps every piece in the order written,
quotes and newlines included (`parse_trinity(turn.as_trinity()) == turn`; the grammar is
`humanllm.core._trinity`), never raises on odd input, and reports an unknown speaker instead of
silently merging it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from humanllm.core import Segment, Turn, split_trinity

_SPEAKER = re.compile(r"^\s*(?:[-*#>\s]*)\**\s*([A-Z][\w' .-]{0,40}?)\s*\**\s*[:：]\s*\**\s*(.*)$")


def parse_trinity(text: str, speaker: str = "") -> Turn:
    """One turn's text as a turn: thoughts (square brackets), actions (parentheses) and speech, in order."""
    pieces = split_trinity(text)
    return Turn(speaker=speaker, segments=[Segment(channel=c, text=t, space=s) for c, t, s in pieces])


class UnknownSpeakerError(ValueError):
    """A transcript line names someone outside the cast."""


def parse_transcript(text: str, cast: Sequence[str]) -> list[Turn]:
    """Turns from "Name: [thought] (action) speech" lines; continuation lines join the last turn (newlines kept)."""
    by_lower = {name.lower(): name for name in cast}
    turns: list[Turn] = []
    chunks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _SPEAKER.match(line)
        if match:
            who = match.group(1).strip().strip("*").strip()
            name = by_lower.get(who.lower()) or next(
                (full for low, full in by_lower.items() if low.split()[0] == who.lower().split()[0]), None
            )
            if name is None:
                raise UnknownSpeakerError(f"line names {who!r}, who is not in the cast {list(cast)}")
            chunks.append((name, [match.group(2)]))
        elif chunks:
            chunks[-1][1].append(line.strip())
    for name, parts in chunks:
        turns.append(parse_trinity("\n".join(parts), name))
    return turns
