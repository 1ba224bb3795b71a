"""Bootstrap confidence intervals over samples: the pure statistics against known distributions, then in scoring."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from humanllm.core import ChecklistItem, Metric, Score, Verdict
from humanllm.evaluation import (
    EvalResults,
    Judgement,
    JudgeOptions,
    SampleInfo,
    bootstrap_ci,
    quantile,
    results_tables,
    score_judgements,
    stratified_bootstrap_ci,
)


def test_quantile_interpolates_as_numpy_does() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.25) == pytest.approx(1.75)
    assert quantile([5.0], 0.9) == 5.0
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_the_interval_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    """150 data sets of 40 draws from N(10, 2): the 95% interval should hold 10 in about 95% of them."""
    data_rng = random.Random(7)
    covered = 0
    trials = 150
    for trial in range(trials):
        values = [data_rng.gauss(10.0, 2.0) for _ in range(40)]
        ci = bootstrap_ci(values, rng=random.Random(trial), resamples=400)
        assert ci is not None and ci.low < statistics.fmean(values) < ci.high
        covered += ci.low <= 10.0 <= ci.high
    assert 0.88 <= covered / trials <= 0.99, covered


def test_the_width_matches_normal_theory_for_a_large_sample() -> None:
    rng = random.Random(1)
    values = [rng.random() for _ in range(400)]  # uniform: SD 1/sqrt(12)
    ci = bootstrap_ci(values, rng=random.Random(2), resamples=2000)
    assert ci is not None
    expected = 2 * 1.96 * statistics.stdev(values) / math.sqrt(len(values))
    assert ci.high - ci.low == pytest.approx(expected, rel=0.1)
    assert (ci.level, ci.resamples, ci.samples) == (0.95, 2000, 400)


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    values = [float(v % 7) for v in range(30)]
    first = bootstrap_ci(values, rng=random.Random(3), resamples=200)
    assert first == bootstrap_ci(values, rng=random.Random(3), resamples=200)
    assert first != bootstrap_ci(values, rng=random.Random(4), resamples=200)


def test_too_few_values_give_no_interval_and_bad_settings_fail() -> None:
    assert bootstrap_ci([], rng=random.Random(0)) is None
    assert bootstrap_ci([1.0], rng=random.Random(0)) is None
    with pytest.raises(ValueError, match="resample"):
        bootstrap_ci([1.0, 2.0], rng=random.Random(0), resamples=0)
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1.0, 2.0], rng=random.Random(0), level=1.0)


def test_strata_are_resampled_within_themselves() -> None:
    """Two constant strata of different sizes: the mean of the strata means is 50 in every resample, while the
    pooled mean (10) varies with how many of the 100s a resample draws."""
    strata = [[0.0] * 90, [100.0] * 10]
    stratified = stratified_bootstrap_ci(strata, rng=random.Random(0), resamples=300)
    assert stratified is not None and stratified.low == stratified.high == 50.0 and stratified.samples == 100
    pooled = bootstrap_ci([v for s in strata for v in s], rng=random.Random(0), resamples=300)
    assert pooled is not None and pooled.low < 10.0 < pooled.high and pooled.high - pooled.low > 5
    assert stratified_bootstrap_ci([[], [1.0, 3.0]], rng=random.Random(0), resamples=50) is not None  # empty: left out


# --- in scoring ------------------------------------------------------------------------------------


def _judgement(episode: str, scores: list[int | None], run: int = 0) -> Judgement:
    items = [ChecklistItem(id=f"ipe.p.{n}", metric=Metric.IPE, question="?", pattern="p") for n in range(len(scores))]
    verdicts = [
        Verdict(item_id=i.id, score=None if s is None else Score(s), reason="" if s is not None else "garbage")
        for i, s in zip(items, scores, strict=True)
    ]
    return Judgement(
        episode_id=episode, character="C", judge="fake", run=run, prompt_version="v", batch_size=8, items=items,
        verdicts=verdicts,
    )  # fmt: skip


def _samples(count: int) -> tuple[list[Judgement], dict[tuple[str, str], SampleInfo]]:
    rng = random.Random(11)
    judgements = [_judgement(f"E{n}", [rng.choice([-1, 0, 1]) for _ in range(4)]) for n in range(count)]
    infos = {(f"E{n}", "C"): SampleInfo(split="id" if n % 3 else "ood", patterns=("p",)) for n in range(count)}
    return judgements, infos


def test_scores_carry_intervals_that_hold_the_mean_and_ignore_the_order_judgements_came_in() -> None:
    judgements, infos = _samples(60)
    report = score_judgements(judgements, infos, bootstrap=300, seed=5)
    overall = report.overall["ipe"]
    assert overall.ci is not None and overall.mean is not None
    assert overall.ci.low < overall.mean < overall.ci.high and overall.ci.samples == 60
    assert report.split_average["ipe"].ci is not None and report.split_average["ipe"].ci.samples == 60
    assert report.breakdowns["split"]["ood"]["ipe"].ci.samples == 20  # type: ignore[union-attr]
    assert report.overall["mpd"].ci is None  # no MPD item: no value, no interval
    shuffled = list(judgements)
    random.Random(0).shuffle(shuffled)
    assert score_judgements(shuffled, infos, bootstrap=300, seed=5) == report
    assert score_judgements(judgements, infos, bootstrap=300, seed=6).overall["ipe"].ci != overall.ci
    assert score_judgements(judgements, infos).overall["ipe"].ci is None  # off by default in the maths


def test_an_unscored_sample_is_left_out_of_the_interval_not_counted_as_zero() -> None:
    judgements, infos = _samples(10)
    judgements.append(_judgement("X", [None, None]))
    infos[("X", "C")] = SampleInfo(split="id", patterns=("p",))
    report = score_judgements(judgements, infos, bootstrap=100)
    assert report.samples == 11 and report.overall["ipe"].ci.samples == 10  # type: ignore[union-attr]


def test_the_results_table_shows_the_interval_and_says_what_it_is() -> None:
    judgements, infos = _samples(30)
    report = score_judgements(judgements, infos, bootstrap=200, seed=1)
    results = EvalResults(
        kind="score", judge="fake", prompt_version="v", options=JudgeOptions(seed=1), reports={"data": report}
    )
    table = results_tables(results, breakdowns=False)[0]
    ci = report.split_average["ipe"].ci
    assert ci is not None and f"[{ci.low:.1f}, {ci.high:.1f}]" in table.rows[0][1]
    assert "95% bootstrap CI over samples (1000 resamples" not in table.note  # the resamples actually used
    assert "95% bootstrap CI over samples (200 resamples, seed 1)" in table.note
    assert EvalResults.model_validate_json(results.model_dump_json()) == results
