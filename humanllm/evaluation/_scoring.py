"""Scoring maths (REFERENCE §8): sample = mean of its scored items; metric = 100 x mean over samples.

A sample is one judged character of one episode, per metric. Unscored items are left out of the
sample's mean (never counted as 0); a sample with no scored item is left out of the metric and
counted in the coverage. R independent judge runs give R metric values, reported as mean +- sample
SD. Holistic scores (anthropomorphism, fidelity) are already 0-100 and are averaged as they are.
With `bootstrap` resamples, the overall, per-split and split-average metrics also carry a 95%
percentile-bootstrap interval over samples (each sample's value averaged over the runs that scored it).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from pydantic import BaseModel, Field

from humanllm.core import ChecklistItem, Episode, Metric, PatternKind
from humanllm.errors import DataError
from humanllm.evaluation._bootstrap import ConfidenceInterval, bootstrap_ci, stratified_bootstrap_ci
from humanllm.evaluation._records import Judgement
from humanllm.evaluation._stats import mean, sample_sd
from humanllm.patterns import InteractionGraph

METRICS = ("ipe", "mpd", "anthropomorphism", "fidelity")
"""Every reported metric: the two checklist levels, then the holistic baseline."""
HOLISTIC = ("anthropomorphism", "fidelity")
BREAKDOWNS = ("split", "pattern", "family", "dimension", "interaction")
NO_INTERACTION = "none"

SampleKey = tuple[str, str]
"""(episode id, character)."""
Select = Callable[["SampleInfo"], Iterable[tuple[str, frozenset[str] | None]]]
"""A breakdown: the groups a sample belongs to, each with the patterns whose IPE items count (None = all)."""


@dataclass(frozen=True)
class SampleInfo:
    """What a sample is, for the breakdowns."""

    split: str = "all"
    patterns: tuple[str, ...] = ()
    """The character's patterns."""
    families: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Social-cognitive family -> the character's patterns in it."""
    dimensions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Big-Five dimension -> the character's trait patterns on it."""
    interactions: tuple[str, ...] = (NO_INTERACTION,)
    """Interaction types (reinforces / tension / clash / modulates) between the bundle's patterns."""


def sample_info(episode: Episode, character: str, split: str, graph: InteractionGraph) -> SampleInfo:
    """The breakdown groups of one character of one episode."""
    held = episode.scenario.char2pattern.get(character, [])
    return sample_info_of(split, held, episode.scenario.patterns, graph)


def sample_info_of(split: str, held: Sequence[str], bundle: Sequence[str], graph: InteractionGraph) -> SampleInfo:
    """The breakdown groups of a character holding `held` in an episode of the pattern bundle `bundle`."""
    library = graph.library
    cards = [library.get(name) for name in held if name in library]
    families: dict[str, set[str]] = defaultdict(set)
    dimensions: dict[str, set[str]] = defaultdict(set)
    for card in cards:
        if card.kind is PatternKind.TRAIT and card.dimension is not None:
            dimensions[card.dimension.value].add(card.name)
        else:
            families[card.family.value].add(card.name)
    names = [library.get(n).name for n in bundle if n in library]
    types = sorted({edge.type.value for edge in graph.internal_edges(names)})
    return SampleInfo(
        split=split,
        patterns=tuple(card.name for card in cards),
        families={k: frozenset(v) for k, v in families.items()},
        dimensions={k: frozenset(v) for k, v in dimensions.items()},
        interactions=tuple(types) or (NO_INTERACTION,),
    )


class MetricSummary(BaseModel):
    """One metric over R judge runs."""

    mean: float | None = Field(description="Mean of the run values; None when no run has a value.")
    sd: float = Field(description="Sample SD of the run values (0 with one run).")
    runs: list[float | None] = Field(description="The metric in each judge run (None: no scored sample).")
    samples: int = Field(description="Samples with a value (the most in any run).")
    ci: ConfidenceInterval | None = Field(
        default=None,
        description="Bootstrap interval over samples (overall, per split and split average; None: not computed, "
        "or fewer than two samples).",
    )


class MetricCoverage(BaseModel):
    items: int = 0
    scored: int = 0
    not_applicable: int = Field(default=0, description="Items the judge answered n/a (no opportunity).")
    unscored: int = 0
    samples_left_out: int = Field(default=0, description="(sample, run) pairs with items but none scored.")


class Coverage(BaseModel):
    """How much of what was asked got a score."""

    judgements: int = 0
    items: int = 0
    scored: int = 0
    not_applicable: int = Field(
        default=0, description="Items answered n/a: left out of the metrics (counted as 0 with na_as_zero)."
    )
    na_as_zero: bool = Field(default=False, description="Whether n/a items entered the metrics as 0.")
    unscored: int = 0
    by_metric: dict[str, MetricCoverage] = Field(default_factory=dict)
    holistic_unscored: int = Field(default=0, description="Judgements whose holistic rating is missing.")
    unscored_reasons: dict[str, int] = Field(default_factory=dict, description="Most common reasons, with counts.")


class ScoreReport(BaseModel):
    """Every metric, overall, averaged over splits and broken down."""

    runs: int = Field(description="Judge runs found.")
    samples: int = Field(description="Distinct (episode, character) samples judged.")
    overall: dict[str, MetricSummary] = Field(description="All samples pooled.")
    split_average: dict[str, MetricSummary] = Field(
        description="Per run, the mean of the per-split metrics (the paper's headline: ID, OOD, Mixed averaged)."
    )
    split_average_of: list[str] = Field(
        default_factory=list, description="The splits `split_average` is the mean of: those with a scored sample."
    )
    empty_splits: list[str] = Field(
        default_factory=list,
        description="Splits the data has but with no scored sample: left out of `split_average`, which is then "
        "not the mean of all the splits.",
    )
    breakdowns: dict[str, dict[str, dict[str, MetricSummary]]] = Field(
        description="Breakdown (split, pattern, family, dimension, interaction) -> group -> metric -> summary."
    )
    coverage: Coverage


def sample_value(
    judgement: Judgement, metric: str, patterns: frozenset[str] | None = None, *, na_as_zero: bool = False
) -> float | None:
    """The sample's score on one metric: mean of scored items (IPE: of the given patterns; n/a as 0 with
    `na_as_zero`, else left out), or holistic."""
    if metric in HOLISTIC:
        holistic = judgement.holistic
        value = getattr(holistic, metric) if holistic is not None else None
        return float(value) if value is not None else None
    scored = judgement.scored(Metric(metric), na_as_zero=na_as_zero)
    if metric == Metric.IPE and patterns is not None:
        scored = [(item, s) for item, s in scored if item.pattern in patterns]
    return mean([float(s) for _, s in scored])


def _scale(metric: str, value: float | None) -> float | None:
    if value is None:
        return None
    return value if metric in HOLISTIC else 100.0 * value


def summarise(values: Sequence[float | None], samples: int = 0) -> MetricSummary:
    """Mean +- SD over runs of the runs that have a value."""
    present = [v for v in values if v is not None]
    return MetricSummary(mean=mean(present), sd=sample_sd(present), runs=list(values), samples=samples)


class SplitAverage(BaseModel):
    """Metrics averaged over splits, naming the splits averaged and those expected but empty."""

    metrics: dict[str, MetricSummary] = Field(description="Metric -> per run, the mean of the per-split values.")
    splits: list[str] = Field(description="The splits averaged: those with a value on some metric.")
    empty: list[str] = Field(description="Expected splits with no value on any metric: not in the average.")


def average_splits(
    by_split: Mapping[str, Mapping[str, MetricSummary]],
    expected: Sequence[str] = (),
    *,
    runs: int | None = None,
    metrics: Sequence[str] = METRICS,
) -> SplitAverage:
    """Per run and metric, the mean of the splits' values (the paper's headline averages ID, OOD and Mixed).

    `by_split`: split -> metric -> summary (`ScoreReport.breakdowns["split"]`); `expected`: the
    splits the data should have (e.g. `("id", "ood", "mixed")`); an expected split without a value
    is named in `empty` instead of being silently left out of the mean. `runs` defaults to the
    number of run values the summaries carry.
    """
    names = [*expected, *sorted(name for name in by_split if name not in expected)]
    present = [
        name
        for name in names
        if name in by_split and any(summary.mean is not None for summary in by_split[name].values())
    ]
    count = runs if runs is not None else max((len(m.runs) for s in by_split.values() for m in s.values()), default=0)
    averaged = {}
    for metric in metrics:
        summaries = [by_split[name][metric] for name in present if metric in by_split[name]]
        per_run: list[float | None] = []
        for index in range(count):
            values = [s.runs[index] for s in summaries if index < len(s.runs)]
            per_run.append(mean([v for v in values if v is not None]))
        averaged[metric] = summarise(per_run, sum(s.samples for s in summaries))
    return SplitAverage(metrics=averaged, splits=present, empty=[name for name in expected if name not in present])


_SELECTS: dict[str, Select] = {
    "split": lambda info: [(info.split, None)],
    "pattern": lambda info: [(p, frozenset({p})) for p in info.patterns],
    "family": lambda info: list(info.families.items()),
    "dimension": lambda info: list(info.dimensions.items()),
    "interaction": lambda info: [(t, None) for t in info.interactions],
}
_OVERALL = "overall"


def _all(_info: SampleInfo) -> Iterable[tuple[str, frozenset[str] | None]]:
    return [("all", None)]


_MAX_REASONS = 4096
"""Distinct unscored reasons counted before the rarest are dropped (memory stays bounded on any store)."""


class _Mean:
    """A running sum and count. The sum is exact (a `Fraction` of the floats added), so the mean does
    not depend on the order judgements arrive in: concurrent runs score exactly as one run does."""

    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.total = Fraction(0)
        self.count = 0

    def add(self, value: float) -> None:
        self.total += Fraction(value)
        self.count += 1

    @property
    def value(self) -> float | None:
        return float(self.total / self.count) if self.count else None


class ScoreTally:
    """Every metric, breakdown and coverage count as running sums: add judgements one at a time.

    Holds no judgement: only sums per (breakdown, group, metric, run), the ids of the samples seen
    and coverage counts, so a store of any size is scored in the same memory.
    """

    def __init__(self, *, na_as_zero: bool = False, bootstrap: int = 0, seed: int = 0) -> None:
        self.na_as_zero = na_as_zero
        self.bootstrap = bootstrap
        """Bootstrap resamples for the intervals (0: none; then no per-sample value is kept)."""
        self.seed = seed
        # for the intervals: sample -> (split, metric -> its values over runs); one small entry per sample
        self._values: dict[SampleKey, tuple[str, dict[str, list[float]]]] = {}
        # breakdown -> group -> metric -> run -> running mean of the sample values
        self._sums: dict[str, dict[str, dict[str, dict[int, _Mean]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(_Mean)))
        )
        self._runs: set[int] = set()
        self._samples: set[SampleKey] = set()
        self._coverage = Coverage(na_as_zero=na_as_zero)
        self._reasons: Counter[str] = Counter()

    def add(self, judgement: Judgement, info: SampleInfo) -> None:
        """Count one judgement of the sample `info` describes."""
        self._runs.add(judgement.run)
        self._samples.add((judgement.episode_id, judgement.character))
        scored = {metric: judgement.scored(metric, na_as_zero=self.na_as_zero) for metric in (Metric.IPE, Metric.MPD)}
        for name, select in ((_OVERALL, _all), *_SELECTS.items()):
            for group, patterns in select(info):
                for metric in METRICS:
                    value = _value(judgement, scored, metric, patterns)
                    if value is not None:  # a group appears once it has a value
                        self._sums[name][group][metric][judgement.run].add(value)
        if self.bootstrap:
            _split, per_metric = self._values.setdefault((judgement.episode_id, judgement.character), (info.split, {}))
            for metric in METRICS:
                value = _value(judgement, scored, metric, None)
                if value is not None:
                    per_metric.setdefault(metric, []).append(value)
        self._count_coverage(judgement, scored)

    def _count_coverage(self, judgement: Judgement, scored: Mapping[Metric, list[tuple[ChecklistItem, int]]]) -> None:
        coverage = self._coverage
        coverage.judgements += 1
        metric_of = {item.id: item.metric.value for item in judgement.items}
        for verdict in judgement.verdicts:
            metric = metric_of.get(verdict.item_id, "unknown")
            entry = coverage.by_metric.setdefault(metric, MetricCoverage())
            entry.items += 1
            coverage.items += 1
            if verdict.scored:
                entry.scored += 1
                coverage.scored += 1
            elif verdict.not_applicable:
                entry.not_applicable += 1
                coverage.not_applicable += 1
            else:
                entry.unscored += 1
                coverage.unscored += 1
                self._reasons[verdict.reason[:160]] += 1
        if len(self._reasons) > _MAX_REASONS:
            self._reasons = Counter(dict(self._reasons.most_common(_MAX_REASONS // 4)))
        for metric in (Metric.IPE, Metric.MPD):
            has_items = any(item.metric is metric for item in judgement.items)
            if has_items and not scored[metric]:
                coverage.by_metric.setdefault(metric.value, MetricCoverage()).samples_left_out += 1
        holistic = judgement.holistic
        if holistic is not None and (holistic.anthropomorphism is None or holistic.fidelity is None):
            coverage.holistic_unscored += 1

    def _grouped(self, name: str, runs: list[int]) -> dict[str, dict[str, MetricSummary]]:
        groups = self._sums.get(name, {})
        out: dict[str, dict[str, MetricSummary]] = {}
        for group in sorted(groups):
            out[group] = {}
            for metric in METRICS:
                per_run = groups[group].get(metric, {})
                run_values = [_scale(metric, per_run[r].value if r in per_run else None) for r in runs]
                out[group][metric] = summarise(run_values, max((m.count for m in per_run.values()), default=0))
        return out

    def report(self, expected_splits: Sequence[str] = ()) -> ScoreReport:
        """The scores of everything added so far; an expected split with no value is named in `empty_splits`."""
        runs = sorted(self._runs)
        overall = self._grouped(_OVERALL, runs).get("all", {})
        by_split = self._grouped("split", runs)
        average = average_splits(by_split, expected_splits, runs=len(runs))
        empty = summarise([None] * len(runs))
        coverage = self._coverage.model_copy(deep=True)
        coverage.unscored_reasons = dict(self._reasons.most_common(8))
        overall = {m: overall.get(m, empty) for m in METRICS}
        split_average = average.metrics
        if self.bootstrap:
            overall, by_split, split_average = self._intervals(overall, by_split, split_average, average.splits)
        return ScoreReport(
            runs=len(runs),
            samples=len(self._samples),
            overall=overall,
            split_average=split_average,
            split_average_of=average.splits,
            empty_splits=average.empty,
            breakdowns={name: by_split if name == "split" else self._grouped(name, runs) for name in BREAKDOWNS},
            coverage=coverage,
        )

    def _intervals(
        self,
        overall: dict[str, MetricSummary],
        by_split: dict[str, dict[str, MetricSummary]],
        split_average: dict[str, MetricSummary],
        averaged: Sequence[str],
    ) -> tuple[dict[str, MetricSummary], dict[str, dict[str, MetricSummary]], dict[str, MetricSummary]]:
        """The summaries with their bootstrap intervals. Samples are taken in key order and each interval
        has its own seeded generator, so the intervals depend neither on the order judgements arrived in
        nor on which other intervals were computed."""
        # metric -> split -> the samples' values (run mean, on the metric's scale), in sample-key order
        values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for key in sorted(self._values):
            split, per_metric = self._values[key]
            for metric, runs in per_metric.items():
                values[metric][split].append(_scale(metric, mean(runs)) or 0.0)

        def ci(group: str, metric: str, strata: list[list[float]]) -> ConfidenceInterval | None:
            rng = random.Random(f"{self.seed}/{group}/{metric}")
            if len(strata) == 1:
                return bootstrap_ci(strata[0], rng=rng, resamples=self.bootstrap)
            return stratified_bootstrap_ci(strata, rng=rng, resamples=self.bootstrap)

        def with_ci(summary: MetricSummary, interval: ConfidenceInterval | None) -> MetricSummary:
            return summary.model_copy(update={"ci": interval})

        new_overall = {
            m: with_ci(s, ci("all", m, [[v for split in values[m].values() for v in split]]))
            for m, s in overall.items()
        }
        new_splits = {
            split: {m: with_ci(s, ci(f"split:{split}", m, [values[m][split]])) for m, s in metrics.items()}
            for split, metrics in by_split.items()
        }
        new_average = {
            m: with_ci(s, ci("split-average", m, [values[m][split] for split in averaged]))
            for m, s in split_average.items()
        }
        return new_overall, new_splits, new_average


def _value(
    judgement: Judgement,
    scored: Mapping[Metric, list[tuple[ChecklistItem, int]]],
    metric: str,
    patterns: frozenset[str] | None,
) -> float | None:
    """`sample_value`, from the judgement's scored items worked out once."""
    if metric in HOLISTIC:
        return sample_value(judgement, metric)
    items = scored[Metric(metric)]
    if metric == Metric.IPE and patterns is not None:
        items = [(item, s) for item, s in items if item.pattern in patterns]
    return mean([float(s) for _, s in items])


def score_judgements(
    judgements: Iterable[Judgement],
    infos: Mapping[SampleKey, SampleInfo],
    expected_splits: Sequence[str] = (),
    *,
    na_as_zero: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
) -> ScoreReport:
    """Every metric over the judgements (all runs found), with breakdowns and coverage; streams them.

    With `bootstrap` resamples, overall, per-split and split-average metrics carry a bootstrap interval
    over samples (generators seeded from `seed`)."""
    tally = ScoreTally(na_as_zero=na_as_zero, bootstrap=bootstrap, seed=seed)
    for judgement in judgements:
        info = infos.get((judgement.episode_id, judgement.character))
        if info is None:
            raise DataError(
                f"judgement of {judgement.character!r} in episode {judgement.episode_id} has no episode: score "
                "the folder that holds both the episodes and their judgements"
            )
        tally.add(judgement, info)
    return tally.report(expected_splits)
