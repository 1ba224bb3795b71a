"""Statistics in pure Python: mean and SD over runs, Pearson, Spearman, Cohen's kappa, Krippendorff's alpha.

Undefined values (a constant series, fewer than two pairs) are None, never NaN, so every result
serialises to plain JSON.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None for no values."""
    return math.fsum(values) / len(values) if values else None


def sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0.0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    centre = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1))


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r; None when undefined (fewer than two pairs, or a constant series)."""
    if len(x) != len(y):
        raise ValueError(f"pearson needs paired values, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return None
    mx, my = math.fsum(x) / len(x), math.fsum(y) / len(y)
    dx = [v - mx for v in x]
    dy = [v - my for v in y]
    sxx = math.fsum(d * d for d in dx)
    syy = math.fsum(d * d for d in dy)
    if sxx == 0 or syy == 0:
        return None
    r = math.fsum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties given the mean of the ranks they span (as scipy's 'average')."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for k in range(start, end + 1):
            out[order[k]] = rank
        start = end + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of the (tie-averaged) ranks."""
    if len(x) != len(y):
        raise ValueError(f"spearman needs paired values, got {len(x)} and {len(y)}")
    return pearson(ranks(x), ranks(y))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's (unweighted) kappa of two raters over the same items; None when undefined."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs paired ratings, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[c] * count_b[c] for c in set(count_a) | set(count_b)) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


AlphaLevel = Literal["nominal", "ordinal", "interval"]
ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval")


class Alpha(BaseModel):
    """Krippendorff's alpha with what it rests on; `value` None (with a `reason`) where it is undefined."""

    value: float | None = Field(
        description="1 = perfect agreement, 0 = as by chance, below 0 = systematic disagreement."
    )
    reason: str = Field(default="", description="Why there is no value (no pairable values, or no variation).")
    level: AlphaLevel = Field(description="The metric of the differences: nominal, ordinal or interval.")
    units: int = Field(description="Pairable units: those with at least two values.")
    values: int = Field(description="Pairable values: the values in the pairable units (n in Krippendorff's notation).")


def krippendorff_alpha(units: Mapping[Hashable, Sequence[Hashable | None]], level: AlphaLevel = "ordinal") -> Alpha:
    """Krippendorff's alpha over `units` (unit -> the values its raters gave it, None = missing).

    The coincidence-matrix computation of Krippendorff (2011), "Computing Krippendorff's
    alpha-reliability": a unit with m_u >= 2 values adds 1/(m_u - 1) to o[c][k] for each ordered
    pair of its values (c, k); n_c are the matrix's margins and n their sum; then
    alpha = 1 - (n - 1) * sum(o[c][k] * d(c, k)) / sum(n_c * n_k * d(c, k)). The squared differences
    d: nominal 0 or 1; interval (c - k)^2; ordinal (sum of n_g for g from c to k - (n_c + n_k) / 2)^2,
    ranks taken from the values' sort order and weighted by the marginal frequencies. A unit with
    fewer than two values is not pairable and is left out; no pairable value, or a single category
    among them (no variation), leaves alpha undefined: `value` None with the reason.
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"alpha level must be one of {', '.join(ALPHA_LEVELS)}, not {level!r}")
    # units with the same values (in any order) add the same coincidences: count each such set once
    shapes: Counter[tuple[Any, ...]] = Counter()
    for values in units.values():
        present = sorted(v for v in values if v is not None)  # type: ignore[type-var]
        if len(present) > 1:
            shapes[tuple(present)] += 1
    n = sum(len(shape) * count for shape, count in shapes.items())
    pairable = sum(shapes.values())
    if not pairable:
        return Alpha(value=None, reason="no unit has two values", level=level, units=0, values=0)
    categories: list[Any] = sorted({v for shape in shapes for v in shape})
    if len(categories) < 2:
        reason = f"no variation: every pairable value is {categories[0]!r}"
        return Alpha(value=None, reason=reason, level=level, units=pairable, values=n)
    index = {c: i for i, c in enumerate(categories)}
    size = len(categories)
    # pairs[m][c][k]: ordered value pairs (c, k) in units of m values, whole numbers, so that the
    # matrix (and alpha) does not depend on the order of the units
    pairs: dict[int, list[list[int]]] = {}
    for shape, count in shapes.items():
        counts = Counter(index[v] for v in shape)
        grid = pairs.setdefault(len(shape), [[0] * size for _ in range(size)])
        for c, count_c in counts.items():
            for k, count_k in counts.items():
                grid[c][k] += count * count_c * (count_k - (c == k))
    o = [[math.fsum(pairs[m][c][k] / (m - 1) for m in sorted(pairs)) for k in range(size)] for c in range(size)]
    margins = [math.fsum(row) for row in o]
    d = _differences(categories, margins, level)
    observed = math.fsum(o[c][k] * d[c][k] for c in range(size) for k in range(size))
    expected = math.fsum(margins[c] * margins[k] * d[c][k] for c in range(size) for k in range(size))
    value = 1.0 - (n - 1) * observed / expected
    return Alpha(value=value, level=level, units=pairable, values=n)


def _differences(categories: Sequence[Any], margins: Sequence[float], level: AlphaLevel) -> list[list[float]]:
    """The squared difference of every pair of categories (sorted) for one level of measurement."""
    size = len(categories)
    below = [0.0]  # below[i]: the margins of the categories before i (ordinal sums in O(1))
    for margin in margins:
        below.append(below[-1] + margin)
    d = [[0.0] * size for _ in range(size)]
    for c in range(size):
        for k in range(size):
            if c == k:
                continue
            if level == "nominal":
                d[c][k] = 1.0
            elif level == "interval":
                d[c][k] = (float(categories[c]) - float(categories[k])) ** 2
            else:
                low, high = min(c, k), max(c, k)
                d[c][k] = (below[high + 1] - below[low] - (margins[low] + margins[high]) / 2) ** 2
    return d
