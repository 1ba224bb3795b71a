"""Choosing the out-of-domain patterns of a split (REFERENCE §6, as the authors' `split_dataset.py` does).

4 social-cognitive patterns: the least frequent of the library's, patterns no episode uses first,
ties broken by the seed. 4 trait patterns from 4 distinct Big-Five dimensions: the least frequent
trait of each dimension (seeded among ties), then the dimensions whose pick is least frequent.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from humanllm.core import Family, PatternKind
from humanllm.errors import DataError
from humanllm.patterns import PatternLibrary

OOD_PER_KIND = 4
OOD_SEED = 42


def choose_ood(
    frequencies: Counter[str], library: PatternLibrary, *, per_kind: int = OOD_PER_KIND, seed: int = OOD_SEED
) -> list[str]:
    """`per_kind` social-cognitive then `per_kind` trait patterns (one per Big-Five dimension), least frequent first.

    `frequencies` counts the episodes each pattern (by card name) appears in; a library pattern
    absent from it counts 0, so unused patterns come first, as in the paper.
    """
    rng = random.Random(seed)
    social = sorted(card.name for card in library if card.kind is PatternKind.SOCIAL_COGNITIVE)
    if len(social) < per_kind:
        raise DataError(f"the library has {len(social)} social-cognitive patterns, {per_kind} are needed as OOD")
    rng.shuffle(social)
    social.sort(key=lambda name: frequencies[name])  # stable: the shuffle breaks ties
    return social[:per_kind] + _traits(frequencies, library, per_kind, rng)


def _traits(frequencies: Counter[str], library: PatternLibrary, per_kind: int, rng: random.Random) -> list[str]:
    by_dimension: dict[Family, list[str]] = defaultdict(list)
    for card in library:
        if card.dimension is not None:
            by_dimension[card.dimension].append(card.name)
    if len(by_dimension) < per_kind:
        raise DataError(
            f"the library has traits on {len(by_dimension)} Big-Five dimension(s); the OOD traits need "
            f"{per_kind} distinct ones: add trait cards (--patterns-dir) or pass --ood"
        )
    picks: list[tuple[str, int]] = []
    for dimension in sorted(by_dimension):
        names = sorted(by_dimension[dimension])
        low = min(frequencies[name] for name in names)
        picks.append((rng.choice([name for name in names if frequencies[name] == low]), low))
    rng.shuffle(picks)
    picks.sort(key=lambda pick: pick[1])
    return [name for name, _ in picks[:per_kind]]
