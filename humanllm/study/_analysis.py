"""A study's analysis: how strongly each outcome is expressed in each cell, each factor's main effect and each
pairwise interaction, with bootstrap intervals and permutation p-values. Pure code over the tidy table.

An *outcome* is what one character's items measure: the IPE items of one pattern (`character`, `pattern`)
or all its MPD items (`character`, "MPD"). An episode's value for an outcome is the mean score of that
outcome's scored items in one judge run, averaged over the judge runs; an episode with no scored item for it
gives no value (it is dropped from that outcome, and counted). Replicates are the unit of every interval and
test: judge runs only average within an episode.

Every effect is a linear contrast of cell means, `sum_c w_c * mean_c`:

- factorial main effect of f: the mean of the cells with f=1 minus that of the cells with f=0, each cell
  weighted equally (so averaged over the other factors whatever their replicate counts);
- factorial interaction of f and g: (E[f1,g1] - E[f0,g1]) - (E[f1,g0] - E[f0,g0]), each E averaged over
  the remaining factors' cells;
- leave-one-out: the full cell minus the cell with f withheld; one-at-a-time: the cell with only f minus
  the empty cell. These designs have no interactions to estimate.

Intervals: percentile bootstrap, resampling replicates within each cell independently (one set of draws
per outcome, shared by its cells and contrasts), expanded for small samples (`_stats.bootstrap_group_means`)
and kept within the range the contrast can take; none when a cell it uses has fewer than two replicates.
P-values (two-sided, exact when the arrangements can be enumerated within `n_perm`, else sampled with the
+1 correction; see `_stats.permutation_p_value`):

- factorial main effect: f's level is permuted among the episodes within each stratum of the other
  factors' levels, which keeps the other factors' effects out of the null (the null: f changes nothing at
  any level of the others);
- leave-one-out / one-at-a-time: episodes are permuted between the two cells compared;
- interaction (Freedman-Lane): within each stratum of the remaining factors, fit the additive model
  y ~ 1 + f + g by least squares, permute its residuals within the stratum, add them back to the fitted
  values and recompute the difference of differences. The additive part contributes nothing to that
  contrast, so the null distribution is that of the contrast over permuted residuals: main effects of f
  and g (and everything the strata hold fixed) stay in the data, only the interaction is taken away.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from humanllm.errors import ConfigError, DataError
from humanllm.study._contrasts import (
    Contrast,
    additive_residuals,
    design_contrasts,
    interactions_note,
    toggles_pattern,
)
from humanllm.study._design import Cell, DesignKind, design_levels
from humanllm.study._results import (
    MPD,
    CellInfo,
    Counts,
    Effect,
    Expression,
    Outcome,
    PairMean,
    Settings,
    StudyAnalysis,
)
from humanllm.study._stats import bootstrap_group_means, contrast_interval, permutation_p_value
from humanllm.study._table import base_columns

if TYPE_CHECKING:
    import pandas as pd


def analyse(
    table: pd.DataFrame,
    factors: Sequence[str],
    design: DesignKind,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    n_perm: int = 2000,
    confidence: float = 0.95,
) -> StudyAnalysis:
    """Expression per cell, main effects and (factorial) pairwise interactions of every outcome in `table`.

    `table` has the tidy table's columns (`_table.frame`); `factors` names its factor columns in design
    order. Seeded: the same table, factors and seed give the same numbers, and each outcome's and effect's
    draws come from their own generator, so adding an outcome changes no other's interval.
    """
    _check_settings(seed=seed, n_boot=n_boot, n_perm=n_perm, confidence=confidence)
    names = list(factors)
    _check_columns(table, names)
    combos = design_levels(names, design)
    levels = np.array(combos, dtype=int).reshape(len(combos), len(names))
    episodes = _episodes(table, names)
    cell_of = {combo: index for index, combo in enumerate(combos)}
    episode_cell = np.array([cell_of.get(tuple(row), -1) for row in episodes[names].to_numpy()], dtype=int)
    episodes = episodes.assign(cell_index=episode_cell)
    inside = episodes[episodes.cell_index >= 0]
    counts_per_cell = np.bincount(inside.cell_index.to_numpy(), minlength=len(combos))
    labels = _cell_labels(inside, names, combos)
    cells = [
        CellInfo(
            label=labels[i], levels=dict(zip(names, map(int, combo), strict=True)), episodes=int(counts_per_cell[i])
        )
        for i, combo in enumerate(combos)
    ]
    contrasts = design_contrasts(names, design, levels)
    values, run_sd = _episode_values(table)
    carried = _carried(table, names)
    outcomes = _outcomes(table)
    expression: list[Expression] = []
    pair_means: list[PairMean] = []
    main_effects: list[Effect] = []
    interactions: list[Effect] = []
    dropped_total = 0
    for outcome in outcomes:
        key = (outcome.character, outcome.metric, outcome.pattern)
        episode_values, episode_cells = _outcome_arrays(inside, values.get(key))
        groups = [episode_values[episode_cells == c] for c in range(len(combos))]
        sizes = [group.size for group in groups]
        means = np.array([group.mean() if group.size else np.nan for group in groups])
        draws = bootstrap_group_means(groups, n_boot=n_boot, rng=_rng(seed, outcome.label))
        cell_carried = [carried.get((outcome.character, outcome.pattern, combo)) for combo in combos]
        if outcome.metric == "mpd":
            cell_carried = [None] * len(combos)
        rows = _expression(outcome, cells, groups, draws, cell_carried, confidence)
        dropped_total += sum(row.dropped for row in rows)
        expression += rows
        if design is DesignKind.FACTORIAL:
            pair_means += _pair_means(outcome, names, levels, means, draws, sizes, confidence)
        for spec in contrasts:
            effect = _effect(
                spec,
                outcome,
                means=means,
                draws=draws,
                sizes=sizes,
                episode_values=episode_values,
                episode_cells=episode_cells,
                levels=levels,
                cell_labels=labels,
                cell_carried=cell_carried,
                confidence=confidence,
                n_perm=n_perm,
                rng=_rng(seed, outcome.label, spec.name),
            )
            (main_effects if spec.kind == "main" else interactions).append(effect)
    estimated, note = interactions_note(design, names)
    return StudyAnalysis(
        study=str(table.study.iloc[0]) if len(table) else "",
        design=design,
        factors=names,
        cells=cells,
        missing_cells=[cell.label for cell in cells if cell.episodes == 0],
        outcomes=outcomes,
        expression=expression,
        pair_means=pair_means,
        main_effects=main_effects,
        interactions=interactions,
        interactions_estimated=estimated,
        interactions_note=note,
        counts=_counts(table, episodes, dropped_total, run_sd),
        settings=Settings(seed=seed, n_boot=n_boot, n_perm=n_perm, confidence=confidence),
    )


def _check_settings(*, seed: int, n_boot: int, n_perm: int, confidence: float) -> None:
    if seed < 0:
        raise ConfigError(f"seed must be 0 or more (got {seed})")
    if n_boot < 1:
        raise ConfigError(f"n_boot must be at least 1 (got {n_boot}): e.g. 2000")
    if n_perm < 0:
        raise ConfigError(f"n_perm must be 0 (no permutation test) or more (got {n_perm}): e.g. 2000")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be between 0 and 1 (got {confidence}): e.g. 0.95")


def _check_columns(table: pd.DataFrame, factors: list[str]) -> None:
    missing = [name for name in base_columns(factors) if name not in table.columns]
    if missing:
        raise DataError(
            f"the study table lacks the column(s) {', '.join(missing)}: build it with humanllm.study frame(rows, "
            "factors), with the design's factor names"
        )
    for name in factors:
        odd = sorted(set(table[name].unique()) - {0, 1})
        if odd:
            raise DataError(f"factor column {name!r} holds {odd[0]!r}: levels are 0 (withheld) or 1 (given)")


def _episodes(table: pd.DataFrame, factors: list[str]) -> pd.DataFrame:
    """One row per episode (indexed by episode_id): its factor levels, cell label and replicate."""
    columns = [*factors, "cell", "replicate"]
    grouped = table.groupby("episode_id", sort=True)[columns]
    if len(table) and (grouped.nunique() > 1).to_numpy().any():
        spread = grouped.nunique().max(axis=1)
        raise DataError(
            f"episode {spread[spread > 1].index[0]!r} has rows in more than one cell: each episode belongs to one "
            "cell and replicate; rebuild the table"
        )
    return grouped.first()


def _cell_labels(episodes: pd.DataFrame, factors: list[str], combos: list[tuple[int, ...]]) -> list[str]:
    """The table's label of each cell, or the design's for a cell without episodes."""
    seen = dict(zip(episodes.cell_index, episodes.cell, strict=True))
    return [
        str(seen.get(c, Cell(levels=dict(zip(factors, map(int, combo), strict=True))).label))
        for c, combo in enumerate(combos)
    ]


def _episode_values(
    table: pd.DataFrame,
) -> tuple[dict[tuple[str, str, str], pd.Series], float | None]:
    """Per outcome, each episode's value (a Series indexed by episode_id); and the mean SD between runs."""
    scored = table[(table.status == "scored") & table.score.notna()]
    if scored.empty:
        return {}, None
    keyed = scored.assign(outcome=np.where(scored.metric == "mpd", MPD, scored.pattern))
    per_run = keyed.groupby(["character", "metric", "outcome", "episode_id", "judge", "run"], sort=False).score.mean()
    by_episode = per_run.groupby(level=["character", "metric", "outcome", "episode_id"], sort=False)
    per_episode = by_episode.mean()
    spread = by_episode.std(ddof=1).dropna()
    values = {
        (str(character), str(metric), str(outcome)): series.droplevel([0, 1, 2])
        for (character, metric, outcome), series in per_episode.groupby(level=[0, 1, 2], sort=False)
    }
    return values, _number(spread.mean()) if len(spread) else None


def _outcome_arrays(inside: pd.DataFrame, series: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """The values of one outcome for the design's episodes, and each one's cell index."""
    if series is None:
        return np.zeros(0), np.zeros(0, dtype=int)
    joined = inside[["cell_index"]].join(series.rename("value"), how="inner")
    return joined.value.to_numpy(dtype=float), joined.cell_index.to_numpy(dtype=int)


def _carried(table: pd.DataFrame, factors: list[str]) -> dict[tuple[str, str, tuple[int, ...]], bool]:
    """Whether the character carried the pattern, per (character, pattern, cell levels); from the IPE rows."""
    ipe = table[table.metric == "ipe"]
    if ipe.empty:
        return {}
    flags = ipe.groupby(["character", "pattern", *factors], sort=False).carried.any()
    return {(str(key[0]), str(key[1]), tuple(int(v) for v in key[2:])): bool(flag) for key, flag in flags.items()}


def _outcomes(table: pd.DataFrame) -> list[Outcome]:
    """Every outcome the table has items for (scored or not): by character, IPE patterns first, then MPD."""
    pairs = table[["character", "metric", "pattern"]].drop_duplicates()
    found: set[tuple[str, str, str]] = set()
    for character, metric, pattern in pairs.itertuples(index=False):
        found.add((str(character), str(metric), MPD if metric == "mpd" else str(pattern)))
    ordered = sorted(found, key=lambda key: (key[0], key[1] != "ipe", key[2]))
    return [
        Outcome(character=c, metric="mpd" if m == "mpd" else "ipe", pattern=p, label=f"{c}: {p}") for c, m, p in ordered
    ]


def _expression(
    outcome: Outcome,
    cells: list[CellInfo],
    groups: list[np.ndarray],
    draws: np.ndarray,
    cell_carried: list[bool | None],
    confidence: float,
) -> list[Expression]:
    """The outcome in each cell: mean, interval and SD over its replicates, and how many episodes gave none."""
    sizes = [group.size for group in groups]
    rows = []
    for c, cell in enumerate(cells):
        interval = _interval(draws, _unit(len(cells), c), sizes, confidence)
        rows.append(
            Expression(
                outcome=outcome.label,
                character=outcome.character,
                pattern=outcome.pattern,
                cell=cell.label,
                levels=cell.levels,
                mean=_number(groups[c].mean()) if sizes[c] else None,
                ci_low=interval[0] if interval else None,
                ci_high=interval[1] if interval else None,
                sd=_number(groups[c].std(ddof=1)) if sizes[c] > 1 else None,
                n=sizes[c],
                dropped=cell.episodes - sizes[c],
                carried=cell_carried[c],
            )
        )
    return rows


def _effect(
    spec: Contrast,
    outcome: Outcome,
    *,
    means: np.ndarray,
    draws: np.ndarray,
    sizes: list[int],
    episode_values: np.ndarray,
    episode_cells: np.ndarray,
    levels: np.ndarray,
    cell_labels: list[str],
    cell_carried: list[bool | None],
    confidence: float,
    n_perm: int,
    rng: np.random.Generator,
) -> Effect:
    used = np.flatnonzero(spec.weights != 0)
    empty = [cell_labels[c] for c in used if sizes[c] == 0]
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    if empty:
        note: str | None = f"no value in cell(s) {'; '.join(empty)}"
    else:
        estimate = _number(spec.weights[used] @ means[used])
        interval = _interval(draws, spec.weights, sizes, confidence)
        in_test = spec.strata[episode_cells] >= 0
        values = episode_values[in_test]
        cells = episode_cells[in_test]
        strata = spec.strata[cells]
        if spec.residualise is not None:
            values = additive_residuals(values, levels[cells][:, list(spec.residualise)], strata)
        per_episode = spec.weights[cells] / np.asarray(sizes, dtype=float)[cells]
        p_value = permutation_p_value(values, per_episode, strata, n_perm=n_perm, rng=rng)
        note = None if interval is not None else "no interval: a cell it uses has fewer than two replicates"
    return Effect(
        kind=spec.kind,
        factors=list(spec.factors),
        name=spec.name,
        outcome=outcome.label,
        character=outcome.character,
        pattern=outcome.pattern,
        estimate=estimate,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        p_value=p_value,
        n=int(sum(sizes[c] for c in used)),
        contrast=spec.contrast,
        manipulates=toggles_pattern(spec, levels, cell_carried),
        note=note,
    )


def _pair_means(
    outcome: Outcome,
    factors: list[str],
    levels: np.ndarray,
    means: np.ndarray,
    draws: np.ndarray,
    sizes: list[int],
    confidence: float,
) -> list[PairMean]:
    found = []
    k = len(factors)
    for f, g in itertools.combinations(range(k), 2):
        for a, b in itertools.product((0, 1), repeat=2):
            chosen = (levels[:, f] == a) & (levels[:, g] == b)
            weights = chosen / chosen.sum()
            used = np.flatnonzero(chosen)
            defined = all(sizes[c] for c in used)
            interval = _interval(draws, weights, sizes, confidence) if defined else None
            found.append(
                PairMean(
                    outcome=outcome.label,
                    levels={factors[f]: a, factors[g]: b},
                    mean=_number(weights[used] @ means[used]) if defined else None,
                    ci_low=interval[0] if interval else None,
                    ci_high=interval[1] if interval else None,
                    n=int(sum(sizes[c] for c in used)),
                )
            )
    return found


def _counts(table: pd.DataFrame, episodes: pd.DataFrame, dropped: int, run_sd: float | None) -> Counts:
    status = table.status
    return Counts(
        rows=len(table),
        scored=int(((status == "scored") & table.score.notna()).sum()),
        not_applicable=int((status == "n/a").sum()),
        unscored=int((status == "unscored").sum()),
        scored_without_score=int(((status == "scored") & table.score.isna()).sum()),
        episodes=len(episodes),
        episodes_outside_design=int((episodes.cell_index < 0).sum()),
        judge_runs=len(table[["judge", "run"]].drop_duplicates()),
        dropped_values=dropped,
        judge_run_sd=run_sd,
    )


def _rng(seed: int, *names: str) -> np.random.Generator:
    """A generator of its own for this seed and these names (stable across runs: crc32, not hash())."""
    return np.random.default_rng([seed, *(zlib.crc32(name.encode("utf-8")) for name in names)])


def _interval(
    draws: np.ndarray, weights: np.ndarray, sizes: list[int], confidence: float
) -> tuple[float, float] | None:
    """The contrast's bootstrap interval, kept inside the values it can take: scores are -1..1, so a contrast
    lies within +-sum|w| (the expanded resamples can step past that)."""
    interval = contrast_interval(draws, weights.tolist(), sizes, confidence)
    if interval is None:
        return None
    bound = float(np.abs(weights).sum())
    return max(interval[0], -bound), min(interval[1], bound)


def _unit(size: int, index: int) -> np.ndarray:
    weights = np.zeros(size)
    weights[index] = 1.0
    return weights


def _number(value: float) -> float | None:
    """A finite float, or None (NaN and infinities are not JSON)."""
    number = float(value)
    return number if np.isfinite(number) else None
