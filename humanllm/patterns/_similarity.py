"""How alike two checklist items are in meaning, measured lexically: TF-IDF cosine over stemmed content words.

Why this method: a sentence-embedding model would catch paraphrases with no word in common, but the small
ones are ~90 MB and nothing may be downloaded at run time, so none can ship. Checklist items are short,
formulaic questions ("Does the character ...?") in one register, so after the boilerplate and stop words
are dropped and words are cut to a stem, two items that ask for the same behaviour share most of their
rare words, and TF-IDF weighs exactly those (a word that appears in half the library's items, such as
"thought", counts for little). It is deterministic, explainable (the shared terms are the reason) and fast
enough to compare every pair of the library's ~3,300 items in about a second.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from humanllm.core import Pattern, PatternKind

if TYPE_CHECKING:  # numpy is imported where it computes, so loading the CLI does not pay for it
    import numpy as np

_WORD = re.compile(r"[a-z]+")
_STOP_WORDS = """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else even ever every few for from
    further had has have having he her here hers herself him himself his how i if in into is it its itself just
    least less let like made make makes many may me might more most much must my myself no nor not now of off
    on once one only or other others our out over own rather same she should so some such than that the their
    theirs them themselves then there these they this those through to too toward towards under until up upon
    us very was we were what when where whether which while who whom whose why will with within without would
    you your yours character characters someone somebody something anyone anything person people another
    other's someone's s inner thought thoughts show shows"""
_STOP = frozenset(_STOP_WORDS.split())
"""Function words, plus the words every item uses to point at its subject ("Does the character's inner
thought show ...")."""

_SUFFIXES = (
    *("ations", "ation", "ions", "ion", "ingly", "ings", "ing", "edly", "ness", "ments", "ment"),
    *("ies", "ied", "ily", "ers", "er", "ed", "ly", "es", "s"),
)


def stem(word: str) -> str:
    """A light suffix-stripping stemmer: `worries`, `worried`, `worrying` -> `worr`; keeps stems of 3+ letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word[:-1] if word.endswith("e") and len(word) > 4 else word  # rehearse = rehears(ing)


def content_terms(text: str) -> list[str]:
    """The stemmed content words of one item, in order."""
    return [stem(word) for word in _WORD.findall(text.lower().replace("'", "")) if word not in _STOP]


class TfidfSpace:
    """TF-IDF vectors (L2-normalised, sublinear term frequency) of a fixed set of texts."""

    def __init__(self, texts: Sequence[str]) -> None:
        import numpy as np

        terms = [content_terms(text) for text in texts]
        documents = Counter(term for item in terms for term in set(item))
        self.vocabulary = {term: index for index, term in enumerate(sorted(documents))}
        count = len(texts)
        idf = {term: math.log((1 + count) / (1 + df)) + 1.0 for term, df in documents.items()}
        self.matrix = np.zeros((count, len(self.vocabulary)), dtype=np.float32)
        for row, item in enumerate(terms):
            for term, frequency in Counter(item).items():
                self.matrix[row, self.vocabulary[term]] = (1.0 + math.log(frequency)) * idf[term]
        norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.matrix /= np.where(norms == 0, 1.0, norms)

    def similarities(self) -> np.ndarray:
        """Cosine similarity of every pair of texts (a square matrix)."""
        return self.matrix @ self.matrix.T

    def shared_terms(self, first: str, second: str) -> list[str]:
        """The content terms two texts have in common: why they were found alike."""
        return sorted(set(content_terms(first)) & set(content_terms(second)))


@dataclass(frozen=True)
class NearDuplicate:
    """Two checklist items of different cards that ask for nearly the same behaviour."""

    first_card: str
    first_item: str
    second_card: str
    second_item: str
    similarity: float
    shared: tuple[str, ...]


DEFAULT_THRESHOLD = 0.45
"""Cosine at or above which two items are flagged. Chosen on the built-in library before its near-synonym
checklists were rewritten: at 0.45 the pairs that share their behaviour words are caught (nervous / shy
"rehearse what to say in their head", 0.86; reserved / inhibited "muted reaction", 0.51), while items that
only share a topic word mostly score below it. A lexical measure cannot see a paraphrase in other words
(quiet's "deciding that something does not need saying" and silent's "judge that nothing needs saying" score
0.44); `humanllm patterns discriminate` tests the checklists on played transcripts instead."""


def near_duplicates(items: Iterable[tuple[str, str]], *, threshold: float = DEFAULT_THRESHOLD) -> list[NearDuplicate]:
    """Pairs of (card, question) from different cards whose similarity reaches `threshold`, most alike first."""
    import numpy as np

    pairs = list(items)
    if len(pairs) < 2:
        return []
    space = TfidfSpace([question for _, question in pairs])
    scores = space.similarities()
    first, second = np.nonzero(np.triu(scores >= threshold, k=1))
    found = [
        NearDuplicate(
            pairs[i][0],
            pairs[i][1],
            pairs[j][0],
            pairs[j][1],
            round(float(scores[i, j]), 3),
            tuple(space.shared_terms(pairs[i][1], pairs[j][1])),
        )
        for i, j in zip(first.tolist(), second.tolist(), strict=True)
        if pairs[i][0] != pairs[j][0]
    ]
    return sorted(found, key=lambda d: (-d.similarity, d.first_card, d.second_card))


def _mirrors(first: Pattern, second: Pattern) -> bool:
    """Opposite poles of one Big-Five dimension: their items mirror each other by design."""
    return (
        first.kind is second.kind is PatternKind.TRAIT and first.family is second.family and first.pole != second.pole
    )


def near_duplicate_items(cards: Iterable[Pattern], *, threshold: float = DEFAULT_THRESHOLD) -> list[NearDuplicate]:
    """Checklist items of different cards that ask for nearly the same behaviour, across a whole library.

    Items of opposite poles of one dimension (assertive's "interrupts to make their point" and unassertive's
    "lets themselves be interrupted") share their words because they mirror each other; they are left out."""
    by_name = {card.name: card for card in cards}
    found = near_duplicates(
        ((card.name, question) for card in by_name.values() for question in card.checklist), threshold=threshold
    )
    return [d for d in found if not _mirrors(by_name[d.first_card], by_name[d.second_card])]


RESTATES_SHARE = 0.5
"""An item restates the guidance when at least this share of its IDF-weighted content words appear in it."""


@dataclass(frozen=True)
class GuidanceOverlap:
    """How much of a card's checklist its character's private guidance already spells out."""

    pattern: str
    restated: tuple[str, ...]
    """Checklist items most of whose (IDF-weighted) content words the guidance uses."""
    items: int

    @property
    def share(self) -> float:
        return len(self.restated) / self.items if self.items else 0.0


def guidance_overlaps(cards: Iterable[Pattern], guidance: Callable[[Pattern], Sequence[str]]) -> list[GuidanceOverlap]:
    """For each card, the checklist items that restate `guidance(card)` (the lines its character is told).

    IDF is taken over every card's items and guidance lines together, so words all cards use weigh little."""
    by_card = [(card, list(guidance(card))) for card in cards]
    texts = [text for card, lines in by_card for text in (*card.checklist, *lines)]
    documents = Counter(term for text in texts for term in set(content_terms(text)))
    count = len(texts)
    idf = {term: math.log((1 + count) / (1 + df)) + 1.0 for term, df in documents.items()}
    overlaps = []
    for card, lines in by_card:
        told = {term for line in lines for term in content_terms(line)}
        restated = []
        for question in card.checklist:
            terms = set(content_terms(question))
            weight = sum(idf[t] for t in terms)
            if weight and sum(idf[t] for t in terms & told) / weight >= RESTATES_SHARE:
                restated.append(question)
        overlaps.append(GuidanceOverlap(card.name, tuple(restated), len(card.checklist)))
    return overlaps
