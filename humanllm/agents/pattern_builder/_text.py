"""Pure text helpers for the builder: sentences, keywords, similarity, naming checks. No LLM calls."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

_WORD = re.compile(r"[a-z][a-z'-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_SPACE = re.compile(r"\s+")
_ENUMERATION = re.compile(r"^\s*(?:\(?\d{1,2}[.):]|[-*•]|q\d{1,2}[.):]?)\s+", re.IGNORECASE)
_ALIAS = re.compile(r"^[a-z][a-z0-9 '&/-]*[a-z0-9]$")

_STOPWORDS_TEXT = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor
not now of off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours character person people one ones
"""
_GENERIC_TEXT = "effect bias fallacy theory principle hypothesis heuristic law paradox mechanism impulse the of and"
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
GENERIC_NAME_WORDS = frozenset(_GENERIC_TEXT.split())


def normalise_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """Sentences of a text (a simple splitter: good enough for fallbacks and ranking)."""
    return [s.strip() for s in _SENTENCE_END.split(normalise_space(text)) if s.strip()]


def words(text: str) -> list[str]:
    """Lower-case content words (stopwords removed)."""
    return [w.strip("'-") for w in _WORD.findall(text.lower()) if w.strip("'-") not in STOPWORDS]


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary where possible."""
    text = normalise_space(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def name_phrases(names: Iterable[str]) -> list[str]:
    """Phrases that count as naming a pattern: its names, and each name without generic words."""
    out: list[str] = []
    for name in names:
        low = normalise_space(name.lower().replace("-", " "))
        if low:
            out.append(low)
        core = " ".join(w for w in low.split() if w not in GENERIC_NAME_WORDS)
        if core and core != low and len(core) >= 5:
            out.append(core)
    return list(dict.fromkeys(out))


def names_pattern(text: str, phrases: Sequence[str]) -> str | None:
    """The naming phrase that `text` contains (as whole words), or None."""
    low = " " + normalise_space(re.sub(r"[^a-z0-9]+", " ", text.lower())) + " "
    for phrase in phrases:
        if f" {re.sub(r'[^a-z0-9]+', ' ', phrase).strip()} " in low:
            return phrase
    return None


def redact(text: str, phrases: Sequence[str], replacement: str = "this tendency") -> str:
    """`text` with every naming phrase replaced (case-insensitive, whole words)."""
    for phrase in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(phrase)}\b", replacement, text, flags=re.IGNORECASE)
    return text


def similarity(a: str, b: str) -> float:
    """How alike two short texts are, 0..1: the larger of word-set overlap and sequence similarity."""
    wa, wb = set(words(a)), set(words(b))
    overlap = len(wa & wb) / max(1, min(len(wa), len(wb))) if wa and wb else 0.0
    sequence = SequenceMatcher(None, normalise_space(a.lower()), normalise_space(b.lower())).ratio()
    return max(sequence, overlap if min(len(wa), len(wb)) >= 4 else 0.0)


def rank_by_overlap(query: str, documents: dict[str, str], k: int) -> list[str]:
    """The keys of the `k` documents that share the most (IDF-weighted) words with the query."""
    doc_words = {key: set(words(text)) for key, text in documents.items()}
    frequency: Counter[str] = Counter(w for ws in doc_words.values() for w in ws)
    total = max(1, len(documents))
    query_words = set(words(query))
    scores = {key: sum(math.log(1 + total / frequency[w]) for w in query_words & ws) for key, ws in doc_words.items()}
    ranked = sorted((key for key in scores if scores[key] > 0), key=lambda key: (-scores[key], key))
    return ranked[:k]


def as_question(text: str) -> str:
    """A checklist item in question form: trimmed, one trailing '?'."""
    text = _ENUMERATION.sub("", normalise_space(text)).strip("\"' ")
    text = text.rstrip(".!;:, ").rstrip("?").rstrip()
    return text + "?" if text else ""


def plausible_alias(text: str) -> bool:
    """A name-like phrase (letters, spaces, hyphens), not an identifier or a sentence."""
    text = normalise_space(text.lower())
    return bool(_ALIAS.match(text)) and len(text.split()) <= 6 and "pattern" not in text
