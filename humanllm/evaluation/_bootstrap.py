"""Bootstrap confidence intervals over samples, in pure Python, with the randomness passed in (`random.Random`).

The percentile bootstrap (Efron & Tibshirani 1993, ch. 13): draw `resamples` resamples of the n
sample values with replacement, take the mean of each, and report the (1 - level) / 2 and
(1 + level) / 2 quantiles of those means. With strata (the splits of a headline that is the mean of
the per-split metrics) each stratum is resampled on its own, within its own size, and the statistic
is the mean of the strata means: the way the headline itself is computed. Fewer than two values
give no interval (None), never a zero-width one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from pydantic import BaseModel, Field

CI_LEVEL = 0.95
"""The level every table shows."""
RESAMPLES = 1000
"""Bootstrap resamples by default (`--bootstrap`)."""


class ConfidenceInterval(BaseModel):
    """A bootstrap confidence interval of a mean over samples."""

    low: float = Field(description="Lower bound: the (1 - level) / 2 quantile of the resampled means.")
    high: float = Field(description="Upper bound: the (1 + level) / 2 quantile of the resampled means.")
    level: float = Field(description="Coverage the interval aims at, e.g. 0.95.")
    resamples: int = Field(description="Bootstrap resamples drawn.")
    samples: int = Field(description="Sample values resampled (all strata together).")


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly between order statistics (numpy's default)."""
    if not ordered:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile q must lie in [0, 1], not {q}")
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _check(resamples: int, level: float) -> None:
    if resamples < 1:
        raise ValueError(f"bootstrap needs at least one resample, not {resamples}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must lie strictly between 0 and 1, not {level}")


def bootstrap_ci(
    values: Sequence[float], *, rng: random.Random, resamples: int = RESAMPLES, level: float = CI_LEVEL
) -> ConfidenceInterval | None:
    """The percentile-bootstrap interval of the mean of `values`; None for fewer than two values."""
    return stratified_bootstrap_ci([values], rng=rng, resamples=resamples, level=level)


def stratified_bootstrap_ci(
    strata: Sequence[Sequence[float]], *, rng: random.Random, resamples: int = RESAMPLES, level: float = CI_LEVEL
) -> ConfidenceInterval | None:
    """The percentile-bootstrap interval of the mean of the strata means, each stratum resampled within itself.

    Empty strata are left out (as the headline leaves out a split with no scored sample); None when
    fewer than two values remain. The same `rng` state and values give the same interval.
    """
    _check(resamples, level)
    kept = [list(stratum) for stratum in strata if stratum]
    total = sum(len(stratum) for stratum in kept)
    if total < 2:
        return None
    means = []
    for _ in range(resamples):
        means.append(sum(sum(rng.choices(stratum, k=len(stratum))) / len(stratum) for stratum in kept) / len(kept))
    means.sort()
    tail = (1.0 - level) / 2
    return ConfidenceInterval(
        low=quantile(means, tail),
        high=quantile(means, 1.0 - tail),
        level=level,
        resamples=resamples,
        samples=total,
    )
