"""Each effect of a design as a contrast of cell means: its weights over the cells, the strata its permutation
test keeps, and the additive fit its interaction test permutes the residuals of (see `_analysis`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from humanllm.study._design import DesignKind


@dataclass(frozen=True)
class Contrast:
    """One effect as weights over the design's cells and the strata its permutation test keeps."""

    kind: Literal["main", "interaction"]
    factors: tuple[str, ...]
    columns: tuple[int, ...]  # the factors' columns in the levels
    weights: np.ndarray
    strata: np.ndarray  # per cell; -1: the cell takes no part
    residualise: tuple[int, int] | None  # factor columns of the additive fit (interactions)
    contrast: str

    @property
    def name(self) -> str:
        return " x ".join(self.factors)


def design_contrasts(factors: list[str], design: DesignKind, levels: np.ndarray) -> list[Contrast]:
    k = len(factors)
    n_cells = levels.shape[0]
    signs = 2 * levels - 1
    found: list[Contrast] = []
    if design is DesignKind.FACTORIAL:
        for f in range(k):
            others = [i for i in range(k) if i != f]
            over = f" over {', '.join(factors[i] for i in others)}" if others else ""
            found.append(
                Contrast(
                    kind="main",
                    factors=(factors[f],),
                    columns=(f,),
                    weights=signs[:, f] / 2 ** (k - 1),
                    strata=stratum_codes(levels[:, others]),
                    residualise=None,
                    contrast=f"mean of the cells with {factors[f]}=1 minus those with {factors[f]}=0, each cell "
                    f"weighted equally{over}",
                )
            )
        for f, g in itertools.combinations(range(k), 2):
            others = [i for i in range(k) if i not in (f, g)]
            over = f", cells averaged over {', '.join(factors[i] for i in others)}" if others else ""
            found.append(
                Contrast(
                    kind="interaction",
                    factors=(factors[f], factors[g]),
                    columns=(f, g),
                    weights=signs[:, f] * signs[:, g] / 2 ** (k - 2),
                    strata=stratum_codes(levels[:, others]),
                    residualise=(f, g),
                    contrast=f"effect of {factors[f]} with {factors[g]}=1 minus with {factors[g]}=0{over}",
                )
            )
        return found
    # leave-one-out and one-at-a-time: cell 0 is the reference, cell 1 + f differs from it in factor f only
    for f in range(k):
        weights = np.zeros(n_cells)
        strata = np.full(n_cells, -1)
        if design is DesignKind.LEAVE_ONE_OUT:
            weights[0], weights[1 + f] = 1.0, -1.0
            contrast = f"all factors given minus {factors[f]} withheld"
        else:
            weights[1 + f], weights[0] = 1.0, -1.0
            contrast = f"{factors[f]} alone minus none given"
        strata[[0, 1 + f]] = 0
        found.append(
            Contrast(
                kind="main",
                factors=(factors[f],),
                columns=(f,),
                weights=weights,
                strata=strata,
                residualise=None,
                contrast=contrast,
            )
        )
    return found


def stratum_codes(columns: np.ndarray) -> np.ndarray:
    """An integer per row naming its combination of levels in `columns` (0 for every row when there are none)."""
    if columns.shape[1] == 0:
        return np.zeros(columns.shape[0], dtype=int)
    return columns @ (2 ** np.arange(columns.shape[1]))


def additive_residuals(values: np.ndarray, pair: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Residuals of y ~ 1 + f + g fitted by least squares within each stratum (the Freedman-Lane null model)."""
    residuals = np.empty_like(values)
    for label in np.unique(strata):
        rows = strata == label
        design = np.column_stack([np.ones(rows.sum()), pair[rows]])
        coefficients, *_ = np.linalg.lstsq(design, values[rows], rcond=None)
        residuals[rows] = values[rows] - design @ coefficients
    return residuals


def toggles_pattern(spec: Contrast, levels: np.ndarray, cell_carried: list[bool | None]) -> bool:
    """Whether one of the contrast's factors switches the outcome's pattern on or off in the cells it uses."""
    used = np.flatnonzero(spec.weights != 0)
    flags = [cell_carried[c] for c in used]
    if any(flag is None for flag in flags):
        return False
    for column in spec.columns:
        given = {flags[j] for j, c in enumerate(used) if levels[c, column] == 1}
        withheld = {flags[j] for j, c in enumerate(used) if levels[c, column] == 0}
        if len(given) == 1 and len(withheld) == 1 and given != withheld:
            return True
    return False


def interactions_note(design: DesignKind, factors: list[str]) -> tuple[bool, str]:
    if design is not DesignKind.FACTORIAL:
        return False, (
            f"a {design.value} design has no cells that separate interactions from main effects: no interactions "
            "are estimated (run a factorial design for them)"
        )
    if len(factors) < 2:
        return True, "one factor: no pair of factors to interact"
    return True, "every pair of factors, each cell weighted equally over the remaining factors"
