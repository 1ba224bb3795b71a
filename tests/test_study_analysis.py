"""The study analysis on hand-computed tables: cell means, main effects, differences of differences, intervals
that cover, permutation p-values (exact where they can be enumerated), the non-factorial designs, and rows that
must not count."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from humanllm.errors import ConfigError, DataError
from humanllm.study._analysis import analyse
from humanllm.study._design import Cell, DesignKind
from humanllm.study._results import MPD, StudyAnalysis
from humanllm.study._stats import (
    bootstrap_contrast_ci,
    bootstrap_group_means,
    bootstrap_mean_ci,
    percentile_interval,
    permutation_p_value,
    two_sample_permutation_p_value,
)
from humanllm.study._table import frame

AB = ["a", "b"]
Score = float | str  # a number is a scored item; "n/a", "unscored", or "nan" (scored without a score)


def episode_rows(
    levels: dict[str, int],
    replicate: int,
    runs: Sequence[Sequence[Score]],
    *,
    pattern: str = "anxious",
    carried: bool | None = None,
    character: str = "pro",
    metric: str = "ipe",
    episode: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of one episode's items for one outcome: `runs[r][i]` is item i's result in judge run r."""
    cell = Cell(levels=levels).label
    rows = []
    for run, results in enumerate(runs):
        for index, result in enumerate(results):
            scored = isinstance(result, float | int) or result == "nan"
            rows.append(
                {
                    "study": "s",
                    "cell": cell,
                    **levels,
                    "replicate": replicate,
                    "episode_id": episode or f"{cell}#{replicate}",
                    "character": character,
                    "judge": "fake",
                    "run": run,
                    "item_id": f"{metric}.{pattern}.{index}" if metric == "ipe" else f"mpd.{index}",
                    "metric": metric,
                    "pattern": pattern if metric == "ipe" else "",
                    "carried": bool(levels.get("a")) if carried is None and metric == "ipe" else bool(carried),
                    "status": "scored" if scored else result,
                    "score": float("nan") if not scored or result == "nan" else float(result),
                    "reason": f"because {index}",
                }
            )
    return rows


def factorial_rows(cells: dict[tuple[int, int], list[list[list[Score]]]], **options: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for (a, b), episodes in cells.items():
        for replicate, runs in enumerate(episodes):
            rows += episode_rows({"a": a, "b": b}, replicate, runs, **options)
    return rows


# Each episode: a list of judge runs, each a list of item results.
HAND = {
    (0, 0): [[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, -1.0]]],  # values 0, .5, -.5
    (1, 0): [[[1.0, 1.0], [1.0, 0.0]], [[1.0, 0.0]]],  # 2 judge runs: (1 + .5) / 2 = .75; then .5
    (0, 1): [[[0.0, 1.0]], [[1.0, 1.0]], [[1.0, 1.0]]],  # .5, 1, 1
    (1, 1): [[[-1.0, 0.0]], [[0.0, 0.0]]],  # -.5, 0
}
E00, E10, E01, E11 = 0.0, (0.75 + 0.5) / 2, (0.5 + 1 + 1) / 3, (-0.5 + 0.0) / 2


def effect(analysis: StudyAnalysis, name: str, outcome: str = "pro: anxious") -> Any:
    (found,) = [e for e in analysis.effects if e.name == name and e.outcome == outcome]
    return found


def test_main_effects_and_the_difference_of_differences_equal_the_hand_computed_ones() -> None:
    analysis = analyse(frame(factorial_rows(HAND), AB), AB, DesignKind.FACTORIAL, n_boot=200, n_perm=200)
    means = {tuple(e.levels.values()): e.mean for e in analysis.expression}
    assert means == pytest.approx({(0, 0): E00, (1, 0): E10, (0, 1): E01, (1, 1): E11})
    assert effect(analysis, "a").estimate == pytest.approx(((E10 + E11) - (E00 + E01)) / 2)  # = -0.229...
    assert effect(analysis, "b").estimate == pytest.approx(((E01 + E11) - (E00 + E10)) / 2)
    assert effect(analysis, "a x b").estimate == pytest.approx((E11 - E01) - (E10 - E00))  # = -1.708...
    assert effect(analysis, "a x b").estimate == pytest.approx(-1.7083333)
    pair = {tuple(m.levels.values()): m.mean for m in analysis.pair_means}
    assert pair[(1, 1)] == pytest.approx(E11) and pair[(0, 1)] == pytest.approx(E01)
    assert [c.episodes for c in analysis.cells] == [3, 2, 3, 2]
    assert analysis.interactions_estimated


def test_a_main_effect_averages_cells_equally_over_the_other_factors() -> None:
    """With 3 factors, a's effect is the mean of the four a=1 cells minus the mean of the four a=0 cells,
    whatever their replicate counts (here cell (1,1,1) has three replicates, the others one or two)."""
    names = ["a", "b", "c"]
    rows: list[dict[str, Any]] = []
    expected: dict[tuple[int, ...], float] = {}
    for index, combo in enumerate(itertools.product((0, 1), repeat=3)):
        values = [(index % 3) / 2 - 0.5, 0.5] if index % 2 else [1.0 - index / 4]
        if combo == (1, 1, 1):
            values = [1.0, 0.5, -1.0]
        levels = dict(zip(names, combo, strict=True))
        for replicate, value in enumerate(values):
            rows += episode_rows(levels, replicate, [[value]])
        expected[combo] = sum(values) / len(values)
    analysis = analyse(frame(rows, names), names, DesignKind.FACTORIAL, n_boot=50, n_perm=50)
    ones = [v for k, v in expected.items() if k[0] == 1]
    zeros = [v for k, v in expected.items() if k[0] == 0]
    assert effect(analysis, "a").estimate == pytest.approx(sum(ones) / 4 - sum(zeros) / 4)

    def pair_mean(a: int, c: int) -> float:
        return sum(v for k, v in expected.items() if k[0] == a and k[2] == c) / 2

    dod = (pair_mean(1, 1) - pair_mean(0, 1)) - (pair_mean(1, 0) - pair_mean(0, 0))
    assert effect(analysis, "a x c").estimate == pytest.approx(dod)
    assert {e.name for e in analysis.interactions} == {"a x b", "a x c", "b x c"}


def test_expression_reports_n_the_manipulation_check_and_the_mpd_outcome() -> None:
    rows = factorial_rows(HAND)
    rows += factorial_rows({(0, 0): [[[1.0]]], (1, 1): [[[-1.0]], [[0.0]]]}, metric="mpd")
    analysis = analyse(frame(rows, AB), AB, DesignKind.FACTORIAL, n_boot=100, n_perm=100)
    assert [o.label for o in analysis.outcomes] == ["pro: anxious", f"pro: {MPD}"]
    anxious = {tuple(e.levels.values()): e for e in analysis.expression if e.outcome == "pro: anxious"}
    assert [anxious[k].carried for k in [(0, 0), (1, 0), (0, 1), (1, 1)]] == [False, True, False, True]
    assert anxious[(0, 0)].n == 3 and anxious[(0, 0)].sd == pytest.approx(0.5)
    assert anxious[(0, 0)].ci_low is not None and anxious[(0, 0)].ci_low <= 0 <= anxious[(0, 0)].ci_high
    mpd = {tuple(e.levels.values()): e for e in analysis.expression if e.outcome == f"pro: {MPD}"}
    assert mpd[(1, 1)].mean == pytest.approx(-0.5) and mpd[(1, 1)].carried is None
    assert mpd[(1, 0)].mean is None and mpd[(1, 0)].n == 0 and mpd[(1, 0)].dropped == 2
    assert mpd[(0, 0)].ci_low is None  # one replicate: no interval
    assert effect(analysis, "a").manipulates and not effect(analysis, "b").manipulates
    missing = effect(analysis, "a", f"pro: {MPD}")
    assert missing.estimate is None and missing.p_value is None and "a=1 b=0" in (missing.note or "")
    text = analysis.model_dump_json()
    assert "NaN" not in text and "Infinity" not in text
    assert StudyAnalysis.model_validate(json.loads(text)) == analysis


def test_na_unscored_and_scoreless_rows_are_ignored_and_counted() -> None:
    clean = analyse(frame(factorial_rows(HAND), AB), AB, DesignKind.FACTORIAL, n_boot=100, n_perm=100)
    noisy_cells = {
        key: [[[*run, "n/a", "unscored"] for run in runs] for runs in episodes] for key, episodes in HAND.items()
    }
    noisy_cells[(0, 0)] = [*noisy_cells[(0, 0)], [["n/a", "nan"], ["unscored"]]]  # an episode with nothing scored
    noisy = analyse(frame(factorial_rows(noisy_cells), AB), AB, DesignKind.FACTORIAL, n_boot=100, n_perm=100)
    for before, after in zip(clean.effects, noisy.effects, strict=True):
        assert after.estimate == pytest.approx(before.estimate)
    cell = next(e for e in noisy.expression if e.levels == {"a": 0, "b": 0})
    assert (cell.n, cell.dropped) == (3, 1)
    items = sum(len(run) for episodes in HAND.values() for runs in episodes for run in runs)
    runs = sum(len(runs) for episodes in HAND.values() for runs in episodes)
    counts = noisy.counts
    assert counts.scored == items and counts.not_applicable == runs + 1 and counts.unscored == runs + 1
    assert counts.scored_without_score == 1 and counts.dropped_values == 1 and counts.episodes == 11
    assert counts.judge_runs == 2 and counts.judge_run_sd == pytest.approx(math.sqrt(0.125))


def test_the_numbers_are_seeded() -> None:
    table = frame(factorial_rows(HAND), AB)
    first = analyse(table, AB, DesignKind.FACTORIAL, seed=3, n_boot=300, n_perm=300)
    assert analyse(table, AB, DesignKind.FACTORIAL, seed=3, n_boot=300, n_perm=300) == first
    other = analyse(table, AB, DesignKind.FACTORIAL, seed=4, n_boot=300, n_perm=300)
    assert [e.ci_low for e in other.effects] != [e.ci_low for e in first.effects]
    assert [e.estimate for e in other.effects] == [e.estimate for e in first.effects]


def one_factor_design_rows(cells: dict[tuple[int, ...], list[float]], names: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for combo, values in cells.items():
        for replicate, value in enumerate(values):
            rows += episode_rows(dict(zip(names, combo, strict=True)), replicate, [[value]])
    return rows


def test_leave_one_out_compares_the_full_cell_with_each_withheld_factor_and_has_no_interactions() -> None:
    names = ["a", "b", "c"]
    cells = {(1, 1, 1): [1.0, 0.0, 1.0], (0, 1, 1): [-1.0, 0.0], (1, 0, 1): [1.0, 1.0], (1, 1, 0): [0.0, 0.0]}
    extra = {(0, 0, 0): [1.0]}  # an episode of another design: left out
    rows = one_factor_design_rows({**cells, **extra}, names)
    analysis = analyse(frame(rows, names), names, DesignKind.LEAVE_ONE_OUT, n_boot=200, n_perm=200)
    full = 2 / 3
    assert effect(analysis, "a").estimate == pytest.approx(full - (-0.5))
    assert effect(analysis, "b").estimate == pytest.approx(full - 1.0)
    assert effect(analysis, "c").estimate == pytest.approx(full - 0.0)
    assert effect(analysis, "a").n == 5 and "withheld" in effect(analysis, "a").contrast
    assert analysis.interactions == [] and analysis.pair_means == []
    assert not analysis.interactions_estimated and "leave-one-out" in analysis.interactions_note
    assert analysis.counts.episodes_outside_design == 1 and analysis.counts.episodes == 10
    # p-value: the 5 episodes of the two cells, every split into 3 + 2 enumerated (10 <= n_perm: exact)
    pooled, observed = [1.0, 0.0, 1.0, -1.0, 0.0], full - (-0.5)
    splits = list(itertools.combinations(range(5), 3))
    extreme = sum(
        abs(np.mean([pooled[i] for i in s]) - np.mean([pooled[i] for i in range(5) if i not in s])) >= observed - 1e-12
        for s in splits
    )
    assert effect(analysis, "a").p_value == pytest.approx(extreme / len(splits))


def test_one_at_a_time_compares_each_factor_alone_with_the_empty_cell() -> None:
    names = ["a", "b"]
    cells = {(0, 0): [0.0, -1.0], (1, 0): [1.0, 1.0, 0.0], (0, 1): [-1.0]}
    analysis = analyse(frame(one_factor_design_rows(cells, names), names), names, DesignKind.ONE_AT_A_TIME)
    assert effect(analysis, "a").estimate == pytest.approx(2 / 3 - (-0.5))
    b = effect(analysis, "b")
    assert b.estimate == pytest.approx(-1.0 - (-0.5)) and b.ci_low is None and "fewer than two" in (b.note or "")
    assert "alone" in b.contrast and analysis.interactions == [] and not analysis.interactions_estimated
    assert [c.label for c in analysis.cells] == ["a=0 b=0", "a=1 b=0", "a=0 b=1"]


def test_a_missing_cell_leaves_the_effects_that_need_it_undefined() -> None:
    cells = {k: v for k, v in HAND.items() if k != (1, 1)}
    analysis = analyse(frame(factorial_rows(cells), AB), AB, DesignKind.FACTORIAL, n_boot=50, n_perm=50)
    assert analysis.missing_cells == ["a=1 b=1"]
    assert all(e.estimate is None for e in analysis.effects)


def test_the_bootstrap_interval_of_a_main_effect_covers_the_true_effect_about_95_percent_of_the_time() -> None:
    """400 simulated 2x2 studies of 12 replicates, each episode the mean of 4 items scored -1/0/1 with known
    probabilities. Each study is one character's outcome in a single table: `analyse` gives every outcome its
    own resamples, so they are 400 independent intervals."""
    rng = np.random.default_rng(17)
    probabilities = {(0, 0): (0.5, 0.3, 0.2), (1, 0): (0.2, 0.3, 0.5), (0, 1): (0.4, 0.4, 0.2), (1, 1): (0.1, 0.3, 0.6)}
    true_mean = {cell: p[2] - p[0] for cell, p in probabilities.items()}
    true_a = (true_mean[(1, 0)] + true_mean[(1, 1)] - true_mean[(0, 0)] - true_mean[(0, 1)]) / 2
    studies, replicates, items = 400, 12, 4
    rows: list[dict[str, Any]] = []
    for (a, b), p in probabilities.items():
        scores = rng.choice([-1.0, 0.0, 1.0], p=p, size=(studies, replicates, items))
        for study, replicate in itertools.product(range(studies), range(replicates)):
            rows += episode_rows({"a": a, "b": b}, replicate, [list(scores[study, replicate])], character=f"c{study}")
    analysis = analyse(frame(rows, AB), AB, DesignKind.FACTORIAL, n_boot=400, n_perm=0)
    intervals = [(e.ci_low, e.ci_high) for e in analysis.main_effects if e.name == "a"]
    assert len(intervals) == studies
    covered = sum(low <= true_a <= high for low, high in intervals)  # type: ignore[operator]
    assert 0.90 <= covered / studies <= 0.99
    assert all(e.p_value is None for e in analysis.effects)  # n_perm=0: no test


def test_permutation_p_values_are_small_for_a_large_effect_and_large_for_none() -> None:
    strong = {  # a moves the outcome from about -0.8 to about +0.8; b changes nothing (same values)
        (0, 0): [[[-1.0, -1.0]], [[-1.0, 0.0]], [[-1.0, -1.0]], [[0.0, -1.0]], [[-1.0, -1.0]]],
        (1, 0): [[[1.0, 1.0]], [[1.0, 0.0]], [[1.0, 1.0]], [[1.0, 1.0]], [[0.0, 1.0]]],
    }
    strong[(0, 1)] = list(reversed(strong[(0, 0)]))
    strong[(1, 1)] = list(reversed(strong[(1, 0)]))
    analysis = analyse(frame(factorial_rows(strong), AB), AB, DesignKind.FACTORIAL)
    a, b, ab = effect(analysis, "a"), effect(analysis, "b"), effect(analysis, "a x b")
    assert a.p_value is not None and a.p_value < 0.05 and a.ci_low is not None and a.ci_low > 0
    assert b.estimate == pytest.approx(0) and b.p_value is not None and b.p_value > 0.2
    assert ab.estimate == pytest.approx(0) and ab.p_value is not None and ab.p_value > 0.2
    assert a.significant and not b.significant


def test_a_crossover_interaction_is_detected_and_its_main_effects_are_not() -> None:
    high = [[[1.0, 1.0]], [[1.0, 0.0]], [[1.0, 1.0]], [[0.0, 1.0]], [[1.0, 1.0]]]
    low = [[[-1.0, -1.0]], [[-1.0, 0.0]], [[-1.0, -1.0]], [[0.0, -1.0]], [[-1.0, -1.0]]]
    analysis = analyse(
        frame(factorial_rows({(0, 0): high, (1, 1): high, (1, 0): low, (0, 1): low}), AB), AB, DesignKind.FACTORIAL
    )
    ab = effect(analysis, "a x b")
    assert ab.estimate == pytest.approx(2 * 2 * 0.8) and ab.p_value is not None and ab.p_value < 0.05
    assert effect(analysis, "a").p_value > 0.2 and effect(analysis, "b").p_value > 0.2  # type: ignore[operator]


def test_the_factorial_p_value_is_exact_over_every_permutation_within_strata() -> None:
    """2x2 with 2 replicates: a's level is permuted within each level of b, 6 x 6 = 36 distinct arrangements
    (<= n_perm, so enumerated). Brute force here: all 4! x 4! orderings of the values within the strata."""
    cells = {(0, 0): [0.0, -1.0], (1, 0): [1.0, 0.5], (0, 1): [0.5, 0.0], (1, 1): [1.0, -0.5]}
    rows: list[dict[str, Any]] = []
    for (a, b), values in cells.items():
        for replicate, value in enumerate(values):
            rows += episode_rows({"a": a, "b": b}, replicate, [[value, value]])
    analysis = analyse(frame(rows, AB), AB, DesignKind.FACTORIAL, n_perm=2000)

    def main_a(stratum0: Sequence[float], stratum1: Sequence[float]) -> float:  # first two: a=0, last two: a=1
        return (np.mean(stratum0[2:]) + np.mean(stratum1[2:]) - np.mean(stratum0[:2]) - np.mean(stratum1[:2])) / 2

    b0, b1 = cells[(0, 0)] + cells[(1, 0)], cells[(0, 1)] + cells[(1, 1)]
    observed = main_a(b0, b1)
    null = [main_a(p, q) for p in itertools.permutations(b0) for q in itertools.permutations(b1)]
    exact = sum(abs(t) >= abs(observed) - 1e-12 for t in null) / len(null)
    assert effect(analysis, "a").estimate == pytest.approx(observed)
    assert effect(analysis, "a").p_value == pytest.approx(exact)


def test_the_two_sample_permutation_p_value_is_exact_on_an_enumerable_case() -> None:
    treated, control = [1.0, 2.0], [3.0, 5.0]
    pooled = treated + control
    observed = np.mean(treated) - np.mean(control)
    splits = list(itertools.combinations(range(4), 2))
    stats = [np.mean([pooled[i] for i in s]) - np.mean([pooled[i] for i in range(4) if i not in s]) for s in splits]
    exact = sum(abs(t) >= abs(observed) for t in stats) / len(stats)
    assert exact == pytest.approx(1 / 3)  # {1, 2} vs {3, 5} and its mirror, of 6 splits
    assert two_sample_permutation_p_value(treated, control, n_perm=100, rng=0) == pytest.approx(exact)


def test_a_sampled_permutation_p_value_has_the_plus_one_correction() -> None:
    treated, control = np.arange(10.0) + 100, np.arange(10.0)  # C(20, 10) splits: sampled, never as extreme
    p = two_sample_permutation_p_value(treated, control, n_perm=99, rng=np.random.default_rng(1))
    assert p == pytest.approx(1 / 100)
    null_p = two_sample_permutation_p_value(np.arange(10.0), np.arange(10.0)[::-1], n_perm=999, rng=2)
    assert null_p == pytest.approx(1.0)
    values = np.array([0.3, -0.1, 0.8, 0.5, 0.0, 1.1, -0.4, 0.2])
    p_value = permutation_p_value(
        values, np.full(8, 0.25) * np.array([1, 1, 1, 1, -1, -1, -1, -1]), np.zeros(8), n_perm=50, rng=5
    )
    assert p_value is not None and round(p_value * 51) == pytest.approx(p_value * 51)
    assert permutation_p_value(values, np.ones(8), np.zeros(8), n_perm=0, rng=0) is None


def test_bootstrap_intervals_are_percentiles_of_seeded_resamples() -> None:
    values = [0.0, 1.0, 1.0, -1.0, 0.5]
    interval = bootstrap_mean_ci(values, n_boot=4000, rng=0)
    assert interval is not None and interval[0] < np.mean(values) < interval[1]
    assert interval == bootstrap_mean_ci(values, n_boot=4000, rng=np.random.default_rng(0))
    assert bootstrap_mean_ci([0.5], n_boot=100, rng=0) is None
    wide = bootstrap_mean_ci(values, n_boot=4000, rng=0, confidence=0.99)
    assert wide is not None and wide[0] <= interval[0] and wide[1] >= interval[1]
    plain = percentile_interval(bootstrap_group_means([values], n_boot=4000, rng=0, expand=False)[0])
    centre, widen = np.mean(values), math.sqrt(5 / 4)  # expanded: deviations scaled by sqrt(n / (n - 1))
    assert interval == pytest.approx((centre + (plain[0] - centre) * widen, centre + (plain[1] - centre) * widen))
    groups = [[1.0, 1.0], [0.0, 1.0, 0.0]]
    draws = bootstrap_group_means(groups, n_boot=2000, rng=1, expand=False)
    assert draws[0] == pytest.approx(np.ones(2000))  # a constant group resamples to itself
    assert set(np.round(draws[1] * 3).astype(int)) <= {0, 1, 2, 3}
    contrast = bootstrap_contrast_ci(groups, [1.0, -1.0], n_boot=2000, rng=1)
    assert contrast is not None and contrast[0] < 2 / 3 < contrast[1]
    assert bootstrap_contrast_ci([[1.0], [0.0, 1.0]], [1.0, -1.0], n_boot=100, rng=1) is None


def test_a_bad_table_or_setting_fails_in_one_line() -> None:
    table = frame(factorial_rows(HAND), AB)
    with pytest.raises(DataError, match="lacks the column"):
        analyse(table.drop(columns=["status"]), AB, DesignKind.FACTORIAL)
    with pytest.raises(DataError, match="levels are 0"):
        analyse(table.assign(a=table.a * 2), AB, DesignKind.FACTORIAL)
    with pytest.raises(ConfigError, match="confidence"):
        analyse(table, AB, DesignKind.FACTORIAL, confidence=95)
    moved = table.copy()
    moved.loc[moved.index[0], "b"] = 1 - moved.loc[moved.index[0], "b"]
    with pytest.raises(DataError, match="more than one cell"):
        analyse(moved, AB, DesignKind.FACTORIAL)


def test_an_empty_table_gives_an_empty_analysis() -> None:
    analysis = analyse(frame([], AB), AB, DesignKind.FACTORIAL)
    assert analysis.outcomes == [] and analysis.effects == [] and len(analysis.missing_cells) == 4
