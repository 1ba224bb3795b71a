"""Detecting a turn that names its own patterns (they must be shown, never named)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from humanllm.core import Pattern, PatternKind, Turn


def _phrase(text: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(text.lower()) + r"\b")


def leaked_labels(turn: Turn, patterns: Sequence[Pattern]) -> list[str]:
    """Labels of the speaker's patterns that appear in the turn.

    Social-cognitive names and aliases count anywhere in the text. A trait adjective is an everyday
    word ("be careful"), so it counts only as a self-label: "I am X", "I'm so X", "I'm being X".
    """
    text = " ".join([turn.thought, turn.action, turn.speech]).lower()
    found = []
    for card in patterns:
        if card.kind is PatternKind.SOCIAL_COGNITIVE:
            if any(_phrase(label).search(text) for label in (card.name, *card.aliases)):
                found.append(card.name)
        else:
            word = re.escape(card.name.lower())
            if re.search(rf"\bi(?:'m| am)\s+(?:so\s+|very\s+|too\s+|being\s+|just\s+|really\s+)?{word}\b", text):
                found.append(card.name)
    return found
