"""Names in the authors' released records, and conversations written as one text.

The authors' scripts keep the raw heading text of a profile as its name (`**Sarah Chen**`,
`Sarah Chen (34, nurse)`) while `protagonist`, `supporting_characters` and each turn's `char` hold
the clean name; `char2pattern` and checklist keys may be either. A `Cast` resolves any of these
spellings to one canonical name: the same text, then the same name once markdown, a trailing
parenthesis, case and accents are set aside, then (when only one character fits) a name's words
without titles, the rule their scripts use to assign a conversation line to a speaker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_MARKUP = re.compile(r"[*_`\[\]]+")
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_TITLES = frozenset(
    {"dr", "mr", "mrs", "ms", "miss", "sir", "madam", "madame", "prof", "professor", "coach", "capt", "captain"}
    | {"doctor"}
)
_SPEAKER_LINE = re.compile(r"^\s*([^\n:]{1,100}?)\s*:\s*(.*)$")


def clean_name(raw: str) -> str:
    """A heading's name without markdown or a trailing note: `**Sarah Chen** (34, nurse)` -> `Sarah Chen`."""
    text = _MARKUP.sub("", raw).strip()
    text = _TRAILING_NOTE.sub("", text).strip().rstrip(":").strip()
    return " ".join(text.split())


def name_key(raw: str) -> str:
    """The clean name folded for comparison: lower case, no accents, words separated by one space."""
    folded = unicodedata.normalize("NFKD", clean_name(raw))
    plain = "".join(char for char in folded if not unicodedata.combining(char)).lower()
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _words(raw: str) -> list[str]:
    return [word for word in name_key(raw).split() if word not in _TITLES]


class Cast:
    """The characters of one record by canonical name; `resolve` maps any spelling of a name to it."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self._by_key = {name_key(name): name for name in self.names}

    def resolve(self, raw: str) -> str | None:
        """The canonical name `raw` spells, or None when it names no one (or could be several)."""
        text = raw.strip()
        if text in self.names:
            return text
        key = name_key(text)
        if key in self._by_key:
            return self._by_key[key]
        words = _words(text)
        if not words:
            return None
        joined = " ".join(words)
        fits = [
            name
            for name in self.names
            if (aliases := _words(name)) and (" ".join(aliases) == joined or any(a in words for a in aliases))
        ]
        return fits[0] if len(fits) == 1 else None


def split_conversation_text(text: str, cast: Cast) -> list[tuple[str, str, str]]:
    """(speaker, speaker as written, content) turns from a conversation written as one text, `Name: ...` per turn.

    As the authors' own converter reads it: a line starts a turn only when what precedes its first
    colon names a cast member; other lines continue the turn before (newlines kept); lines before
    the first turn open it.
    """
    turns: list[tuple[str, str, list[str]]] = []
    preamble: list[str] = []
    for line in text.splitlines():
        match = _SPEAKER_LINE.match(line)
        speaker = cast.resolve(match.group(1)) if match else None
        if match and speaker is not None:
            turns.append((speaker, match.group(1).strip(), [*preamble, match.group(2)]))
            preamble = []
        elif turns:
            turns[-1][2].append(line)
        else:
            preamble.append(line)
    return [(speaker, written, "\n".join(lines).strip()) for speaker, written, lines in turns]
