"""Scoring maths (REFERENCE §8): sample = mean of its scored items; metric = 100 x mean over samples.

A sample is one judged character of one episode, per metric. Unscored items are left out of the
sample's mean (never counted as 0); a sample with no scored item is left out of the metric and
counted in the coverage. R independent judge runs give R metric values, reported as mean +- sample
SD. Holistic scores (anthropomorphism, fidelity) are already 0-100 and are averaged as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from humanllm.core import Episode, Metric, PatternKind
from humanllm.errors import DataError
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
    """Interaction types (reinforces / conflicts / modulates) between the bundle's patterns."""


def sample_info(episode: Episode, character: str, split: str, graph: InteractionGraph) -> SampleInfo:
    """The breakdown groups of one character of one episode."""
    library = graph.library
    cards = [library.get(name) for name in episode.scenario.char2pattern.get(character, []) if name in library]
    families: dict[str, set[str]] = defaultdict(set)
    dimensions: dict[str, set[str]] = defaultdict(set)
    for card in cards:
        if card.kind is PatternKind.TRAIT and card.dimension is not None:
            dimensions[card.dimension.value].add(card.name)
        else:
            families[card.family.value].add(card.name)
    bundle = [library.get(n).name for n in episode.scenario.patterns if n in library]
    types = sorted({edge.type.value for edge in graph.internal_edges(bundle)})
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


class MetricCoverage(BaseModel):
    items: int = 0
    scored: int = 0
    unscored: int = 0
    samples_left_out: int = Field(default=0, description="(sample, run) pairs with items but none scored.")


class Coverage(BaseModel):
    """How much of what was asked got a score."""

    judgements: int = 0
    items: int = 0
    scored: int = 0
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
    breakdowns: dict[str, dict[str, dict[str, MetricSummary]]] = Field(
        description="Breakdown (split, pattern, family, dimension, interaction) -> group -> metric -> summary."
    )
    coverage: Coverage


def sample_value(judgement: Judgement, metric: str, patterns: frozenset[str] | None = None) -> float | None:
    """The sample's score on one metric: mean of scored items (IPE: of the given patterns), or holistic."""
    if metric in HOLISTIC:
        holistic = judgement.holistic
        value = getattr(holistic, metric) if holistic is not None else None
        return float(value) if value is not None else None
    scored = judgement.scored(Metric(metric))
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


def _grouped(
    pairs: Sequence[tuple[Judgement, SampleInfo]], runs: list[int], select: Select
) -> dict[str, dict[str, MetricSummary]]:
    # group -> metric -> run -> sample values
    values: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for judgement, info in pairs:
        for group, patterns in select(info):
            for metric in METRICS:
                value = sample_value(judgement, metric, patterns)
                if value is not None:
                    values[group][metric][judgement.run].append(value)
    out: dict[str, dict[str, MetricSummary]] = {}
    for group in sorted(values):
        out[group] = {}
        for metric in METRICS:
            per_run = values[group].get(metric, {})
            run_values = [_scale(metric, mean(per_run.get(r, []))) for r in runs]
            out[group][metric] = summarise(run_values, max((len(v) for v in per_run.values()), default=0))
    return out


_SELECTS: dict[str, Select] = {
    "split": lambda info: [(info.split, None)],
    "pattern": lambda info: [(p, frozenset({p})) for p in info.patterns],
    "family": lambda info: list(info.families.items()),
    "dimension": lambda info: list(info.dimensions.items()),
    "interaction": lambda info: [(t, None) for t in info.interactions],
}


def _coverage(judgements: Sequence[Judgement]) -> Coverage:
    coverage = Coverage(judgements=len(judgements))
    reasons: Counter[str] = Counter()
    for judgement in judgements:
        metric_of = {item.id: item.metric.value for item in judgement.items}
        for verdict in judgement.verdicts:
            metric = metric_of.get(verdict.item_id, "unknown")
            entry = coverage.by_metric.setdefault(metric, MetricCoverage())
            entry.items += 1
            coverage.items += 1
            if verdict.scored:
                entry.scored += 1
                coverage.scored += 1
            else:
                entry.unscored += 1
                coverage.unscored += 1
                reasons[verdict.reason[:160]] += 1
        for metric in (Metric.IPE, Metric.MPD):
            has_items = any(item.metric is metric for item in judgement.items)
            if has_items and not judgement.scored(metric):
                coverage.by_metric.setdefault(metric.value, MetricCoverage()).samples_left_out += 1
        holistic = judgement.holistic
        if holistic is not None and (holistic.anthropomorphism is None or holistic.fidelity is None):
            coverage.holistic_unscored += 1
    coverage.unscored_reasons = dict(reasons.most_common(8))
    return coverage


def score_judgements(judgements: Sequence[Judgement], infos: Mapping[SampleKey, SampleInfo]) -> ScoreReport:
    """Every metric over the judgements (all runs found), with breakdowns and coverage."""
    pairs = []
    for judgement in judgements:
        info = infos.get((judgement.episode_id, judgement.character))
        if info is None:
            raise DataError(
                f"judgement of {judgement.character!r} in episode {judgement.episode_id} has no episode: score "
                "the folder that holds both the episodes and their judgements"
            )
        pairs.append((judgement, info))
    runs = sorted({j.run for j in judgements})
    overall = _grouped(pairs, runs, lambda _info: [("all", None)]).get("all", {})
    by_split = _grouped(pairs, runs, _SELECTS["split"])
    split_average = {}
    for metric in METRICS:
        per_run: list[float | None] = []
        for index in range(len(runs)):
            split_values = [s[metric].runs[index] for s in by_split.values()]
            per_run.append(mean([v for v in split_values if v is not None]))
        split_average[metric] = summarise(per_run, sum(s[metric].samples for s in by_split.values()))
    empty = summarise([None] * len(runs))
    return ScoreReport(
        runs=len(runs),
        samples=len({(j.episode_id, j.character) for j in judgements}),
        overall={m: overall.get(m, empty) for m in METRICS},
        split_average=split_average,
        breakdowns={name: _grouped(pairs, runs, _SELECTS[name]) for name in BREAKDOWNS},
        coverage=_coverage(judgements),
    )
