"""The paper's bundle recipe: 3-4 Big-Five markers from distinct dimensions, then maybe one social-cognitive pattern.

How the authors drew bundles (REFERENCE §4; their generator script), step for step and in the same
order of random draws, from one explicit `random.Random`:

1. choose 3 or 4 (uniformly), then that many distinct Big-Five dimensions;
2. for each dimension, in the order drawn: the positive pole with p=0.6, else the negative one; then
   the least-used adjective of that pole (ties drawn at random);
3. with p=0.7, add the least-used social-cognitive pattern (ties drawn at random).

Usage is counted per pick across every bundle the recipe draws in one run. Candidates are taken in
library order (for the built-in markers, the released order within each pole) and dimensions in
the order of `Family`, so the trait draws match the authors' script for the same seed.

The authors had no interaction graph. A paper bundle may hold an excluded pair (e.g. `shy` and
`at ease` come from different dimensions); the assigner then gives the two patterns to different
characters. Only when no character assignment of the bundle exists for the cast size is the bundle
drawn again; its picks stay counted, as in the authors' runs, whose counts also kept the bundles
their compatibility check later rejected.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from humanllm.core import Family, PatternKind, Pole
from humanllm.errors import InvalidBundleError
from humanllm.patterns._assign import assign
from humanllm.patterns._graph import InteractionGraph
from humanllm.patterns._sampler import Bundle

POSITIVE_POLE_P = 0.6
"""Chance of the positive pole for each chosen dimension."""
SOCIAL_P = 0.7
"""Chance of adding one social-cognitive pattern to a bundle."""
DIMENSION_COUNTS = (3, 4)
"""How many distinct Big-Five dimensions a bundle draws from."""
_MAX_REDRAWS = 50


class UsageCounts:
    """How often each pattern was picked so far; picks the least-used candidate, ties drawn by `rng`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def pick_least_used(self, candidates: Sequence[str], rng: random.Random) -> str:
        low = min(self.counts[name] for name in candidates)
        choice = rng.choice([name for name in candidates if self.counts[name] == low])
        self.counts[choice] += 1
        return choice


class PaperRecipe:
    """Draws bundles the way the paper's authors did; each bundle can be assigned to `characters` characters."""

    def __init__(self, graph: InteractionGraph, *, rng: random.Random, characters: int = 2) -> None:
        self.graph = graph
        self.rng = rng
        self.characters = characters
        self.usage = UsageCounts()
        cards = list(graph.library)
        self._poles: list[dict[Pole, list[str]]] = []
        for dimension in (f for f in Family if f.is_big_five):
            poles = {
                pole: [
                    c.name for c in cards if c.kind is PatternKind.TRAIT and c.family is dimension and c.pole is pole
                ]
                for pole in Pole
            }
            if all(poles.values()):
                self._poles.append(poles)
        self._social = [c.name for c in cards if c.kind is PatternKind.SOCIAL_COGNITIVE]
        if len(self._poles) < max(DIMENSION_COUNTS) or not self._social:
            raise InvalidBundleError(
                f"the paper recipe needs {max(DIMENSION_COUNTS)} Big-Five dimensions with markers on both poles and "
                f"social-cognitive patterns; this library has {len(self._poles)} and {len(self._social)}"
            )

    def draw(self) -> list[str]:
        """One bundle as the authors drew it, before the assignability check (counts the picks)."""
        k = self.rng.choice(DIMENSION_COUNTS)
        picked = []
        for poles in self.rng.sample(self._poles, k):
            pole = Pole.POSITIVE if self.rng.random() < POSITIVE_POLE_P else Pole.NEGATIVE
            picked.append(self.usage.pick_least_used(poles[pole], self.rng))
        if self.rng.random() < SOCIAL_P:
            picked.append(self.usage.pick_least_used(self._social, self.rng))
        return picked

    def sample(self) -> Bundle:
        """The next bundle that some assignment to `characters` characters can carry."""
        for _attempt in range(_MAX_REDRAWS):
            names = self.draw()
            try:
                assign(self.graph, names, self.characters)
            except InvalidBundleError:
                continue
            return Bundle(patterns=names, edges=[e.describe() for e in self.graph.internal_edges(names)])
        raise InvalidBundleError(
            f"no paper bundle could be assigned to {self.characters} characters in {_MAX_REDRAWS} draws; "
            "add characters (--characters)"
        )

    def sample_many(self, n: int) -> list[Bundle]:
        return [self.sample() for _ in range(n)]
