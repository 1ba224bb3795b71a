"""The turns a verdict cites: its evidence's turn numbers, as the judge numbered the transcript.

The judge reads `render_turns(turns, character, numbered=True)`: turns numbered from 1 in
conversation order, every speaker counted. Its evidence is written `turns 2, 5: "quote"`
(`humanllm.agents.judge`); imported verdicts may say `turn 3`, `turns 2-4` or `T3`. Without any
number, the turns of the judged character that contain the quote are the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from humanllm.core import Turn

_CITED = re.compile(r"\b(?:turns?|t)\s*#?\s*(\d+(?:\s*(?:,|and|&|to|-|–)\s*#?\s*\d+)*)", re.IGNORECASE)
_RANGE = re.compile(r"(\d+)\s*(?:-|–|to)\s*(\d+)")
_QUOTE = re.compile(r"[\"“”']([^\"“”]{4,})[\"“”']")
MAX_RANGE = 50


def cited_turns(evidence: str, n_turns: int) -> list[int]:
    """The 1-based turn numbers `evidence` cites, within 1..n_turns, in order, each once."""
    found: list[int] = []
    for match in _CITED.finditer(evidence):
        text = match.group(1)
        for low, high in _RANGE.findall(text):
            a, b = int(low), int(high)
            if a <= b and b - a <= MAX_RANGE:
                found.extend(range(a, b + 1))
        found.extend(int(n) for n in re.findall(r"\d+", _RANGE.sub(" ", text)))
    return sorted({n for n in found if 1 <= n <= n_turns})


def quoted_turns(evidence: str, turns: Sequence[Turn], character: str) -> list[int]:
    """The character's turns that contain the evidence's quote (when it cites no number)."""
    match = _QUOTE.search(evidence)
    if match is None:
        return []
    needle = " ".join(match.group(1).lower().split())
    out = []
    for number, turn in enumerate(turns, 1):
        text = " ".join(f"{turn.thought} {turn.action} {turn.speech}".lower().split())
        if turn.speaker == character and needle in text:
            out.append(number)
    return out


def evidence_turns(evidence: str, turns: Sequence[Turn], character: str) -> list[int]:
    return cited_turns(evidence, len(turns)) or quoted_turns(evidence, turns, character)
