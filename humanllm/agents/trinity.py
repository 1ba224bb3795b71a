"""Parsing "trinity" text, `[inner thought] (action) speech`, robustly.

Models are sloppy: brackets nest or go unclosed, several thoughts or actions appear in one turn,
speakers are written as "Name:" or "**Name**:". The parser keeps every channel's text in order and
never raises on odd input; an unknown speaker is reported, not silently merged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from humanllm.core import Turn

_SPEAKER = re.compile(r"^\s*(?:[-*#>\s]*)\**\s*([A-Z][\w' .-]{0,40}?)\s*\**\s*[:：]\s*\**\s*(.*)$")
_OPENERS = {"[": "]", "(": ")"}


def parse_trinity(text: str, speaker: str = "") -> Turn:
    """Split one turn's text into thought (square brackets), action (parentheses) and speech."""
    thoughts: list[str] = []
    actions: list[str] = []
    speech: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _OPENERS:
            close = _OPENERS[char]
            depth, j = 1, i + 1
            while j < len(text) and depth:
                if text[j] == char:
                    depth += 1
                elif text[j] == close:
                    depth -= 1
                j += 1
            inner = text[i + 1 : j - 1 if depth == 0 else j].strip()
            (thoughts if char == "[" else actions).append(inner)
            i = j
        else:
            j = i
            while j < len(text) and text[j] not in _OPENERS:
                j += 1
            speech.append(text[i:j])
            i = j
    clean = " ".join(" ".join(speech).replace("]", " ").replace(")", " ").split())
    return Turn(
        speaker=speaker,
        thought=" ".join(t for t in thoughts if t),
        action="; ".join(a for a in actions if a),
        speech=clean.strip(" \"'"),
    )


class UnknownSpeakerError(ValueError):
    """A transcript line names someone outside the cast."""


def parse_transcript(text: str, cast: Sequence[str]) -> list[Turn]:
    """Turns from "Name: [thought] (action) speech" lines; continuation lines join the last turn."""
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
        turns.append(parse_trinity(" ".join(parts), name))
    return turns
