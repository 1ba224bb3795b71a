"""Do judges agree? Krippendorff's alpha across judges and across one judge's runs, the judges' per-item
aggregate, the items they disagree on most, and the social-desirability probe per judge.

Pure: an `AgreementTally` takes stored judgements one at a time (those `eval score` scores for each
judge) and reports over the samples' infos. The choices, also written into every report (`basis`):

- Units are (sample, item) for the checklists, ordinal alpha on the ternary scores (-1 < 0 < +1);
  samples for the holistic scores, interval alpha on 0-100.
- n/a answers (no opportunity) and unscored items are *missing values*: n/a is no point on the
  ternary scale (counting it as 0 would make two judges that both see no opportunity "agree on 0"),
  and an unscored item has no answer. Each alpha says how many pairable units and values it rests on.
- Across judges, each judge's run 0: one judgement per judge, as a one-run study gets it, so the
  number is the agreement of single judgements, the same thing the across-runs alpha measures
  within a judge. A median over runs would fold within-judge noise into it (raising it by
  averaging) and, for an even number of runs, fall between the categories of the ordinal scale.
- Across runs (per judge, with 2 or more runs): the runs are the raters.
- The aggregate ("judges aggregated") is per run the mean of the judges' scores of each item,
  then scored as one judge is: sample = mean of its items, metric = 100 x mean over samples, split
  average and mean +- SD over runs. It follows `na_as_zero` as the judges' own rows do.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from pydantic import BaseModel, Field

from humanllm.core import Verdict
from humanllm.evaluation._desirability import Desirability, DesirabilityProbe, SampleScores, desirability_probe
from humanllm.evaluation._records import Judgement
from humanllm.evaluation._scoring import (
    HOLISTIC,
    METRICS,
    MetricSummary,
    SampleInfo,
    SampleKey,
    average_splits,
    summarise,
)
from humanllm.evaluation._stats import Alpha, krippendorff_alpha, mean

ALPHA_METRICS = ("ipe", "mpd", "items", *HOLISTIC)
"""What alpha is reported for: IPE items, MPD items, all checklist items, each holistic score."""
BASIS = (
    "ordinal alpha on the ternary checklist items (units: sample x item), interval alpha on the 0-100 holistic "
    "scores (units: samples); n/a and unscored items are missing values; across judges: each judge's run 0; "
    "across runs: a judge's runs as the raters"
)
DISAGREEMENTS_SHOWN = 10
_NA = 2
"""The stored code of an n/a answer (scores are -1, 0, +1; None is unscored)."""

Cell = tuple[int, int]
"""(judge index, run)."""


_BYTES = {None: 1, -1: 2, 0: 3, 1: 4, _NA: 5}
"""A verdict code as one byte of `_Item.codes` (0: not judged in that cell)."""
_CODES: tuple[int | None, ...] = (None, None, -1, 0, 1, _NA)


@dataclass(slots=True)
class _Item:
    metric: str
    pattern: str | None
    question: str
    codes: bytearray
    """One byte per (judge, run) cell, judge-major: the verdict's code (`_BYTES`), 0 where not judged."""


@dataclass(slots=True)
class _Sample:
    items: dict[str, _Item] = field(default_factory=dict)
    holistic: dict[Cell, tuple[float | None, float | None]] = field(default_factory=dict)


class AggregatedScores(BaseModel):
    """The judges' per-item mean, scored as one judge is."""

    samples: int = Field(description="Samples with a value from some judge.")
    overall: dict[str, MetricSummary] = Field(description="All samples pooled: metric -> mean +- SD over runs.")
    split_average: dict[str, MetricSummary] = Field(description="Per run, the mean of the per-split values.")
    split_average_of: list[str] = Field(description="The splits `split_average` is the mean of.")
    empty_splits: list[str] = Field(description="Expected splits with no value: not in `split_average`.")
    by_split: dict[str, dict[str, MetricSummary]] = Field(description="Split -> metric -> summary.")

    def headline(self) -> dict[str, MetricSummary]:
        """The split average when there are several splits, else all samples pooled (as for one judge)."""
        return self.split_average if len(self.by_split) > 1 else self.overall


class ItemDisagreement(BaseModel):
    """How often the judges disagree on one checklist item (run 0 of each)."""

    item: str = Field(description="Item id: an IPE item is one pattern-card question, asked in every sample.")
    metric: str = Field(description="ipe or mpd.")
    pattern: str | None = Field(description="IPE: the item's pattern.")
    question: str
    episode_id: str | None = Field(default=None, description="MPD: the episode (its items belong to one sample).")
    character: str | None = Field(default=None, description="MPD: the character.")
    samples: int = Field(description="Samples where two or more judges scored it.")
    pairs: int = Field(description="Judge pairs that both scored it, over those samples.")
    disagreeing: int = Field(description="Of those pairs, the ones that gave different scores.")
    share: float = Field(description="disagreeing / pairs.")
    means: dict[str, float | None] = Field(description="Judge -> its mean score of the item (-1..1).")


class AgreementReport(BaseModel):
    """Agreement of several judges on the same samples, with their aggregate and the probe per judge."""

    judges: list[str] = Field(description="The judges, in the order given.")
    runs: int = Field(description="Judge runs asked of each judge.")
    basis: str = Field(default=BASIS, description="What the alphas are computed on.")
    across_judges: dict[str, Alpha] = Field(
        description="Metric (ipe, mpd, items, holistic) -> alpha with the judges as raters."
    )
    across_runs: dict[str, dict[str, Alpha]] = Field(
        description="Judge -> metric -> alpha with its runs as raters; empty with one run."
    )
    aggregated: AggregatedScores
    disagreements: list[ItemDisagreement] = Field(
        description=f"The {DISAGREEMENTS_SHOWN} items with the largest share of disagreeing judge pairs (ties: more "
        "pairs first); items with no disagreement are not listed."
    )
    desirability: dict[str, DesirabilityProbe] = Field(description="Judge -> social-desirability probe.")


def _code(verdict: Verdict | None) -> int | None:
    if verdict is None:
        return None
    if verdict.score is not None:
        return int(verdict.score)
    return _NA if verdict.not_applicable else None


def _alpha_value(code: int | None) -> int | None:
    return None if code == _NA else code


class AgreementTally:
    """The judges' item codes and holistic scores per sample; add judgements, then `report`.

    Holds one byte per (sample, item, judge, run): memory grows with the judged items (unlike
    `ScoreTally`'s running sums), as alpha needs every unit's values; about 5 KB per sample of 32
    items with 2 judges x 3 runs (31 MB for 6,000 samples; the report over them takes about 4 s).
    """

    def __init__(self, judges: Sequence[str], *, runs: int, na_as_zero: bool = False) -> None:
        if len(set(judges)) != len(judges):
            raise ValueError(f"judges must differ, got {list(judges)}")
        self.judges = list(judges)
        self.runs = runs
        self.na_as_zero = na_as_zero
        self._index = {judge: index for index, judge in enumerate(self.judges)}
        self._samples: dict[SampleKey, _Sample] = {}
        self._runs: set[int] = set()

    def add(self, judgement: Judgement) -> None:
        """Count one judgement of one of the judges."""
        index = self._index.get(judgement.judge)
        if index is None:
            raise ValueError(f"judgement by {judgement.judge!r}, which is not one of {self.judges}")
        if not 0 <= judgement.run < self.runs:
            raise ValueError(f"judgement of run {judgement.run}, beyond the {self.runs} run(s) tallied")
        cell = (index, judgement.run)
        slot = index * self.runs + judgement.run
        self._runs.add(judgement.run)
        key = (sys.intern(judgement.episode_id), sys.intern(judgement.character))
        sample = self._samples.setdefault(key, _Sample())
        verdicts = {v.item_id: v for v in judgement.verdicts}
        for item in judgement.items:
            record = sample.items.get(item.id)
            if record is None:
                codes = bytearray(len(self.judges) * self.runs)
                record = _Item(item.metric.value, item.pattern, sys.intern(item.question), codes)
                sample.items[sys.intern(item.id)] = record
            record.codes[slot] = _BYTES[_code(verdicts.get(item.id))]
        if judgement.holistic is not None:
            sample.holistic[cell] = (judgement.holistic.anthropomorphism, judgement.holistic.fidelity)

    def _code(self, item: _Item, cell: Cell) -> int | None:
        """The item's verdict code in one (judge, run) cell; None: unscored or not judged."""
        return _CODES[item.codes[cell[0] * self.runs + cell[1]]]

    def _metric_value(self, code: int | None) -> int | None:
        if code == _NA:
            return 0 if self.na_as_zero else None
        return code

    def report(
        self,
        infos: Mapping[SampleKey, SampleInfo],
        expected_splits: Sequence[str] = (),
        groups: Mapping[str, Desirability] | None = None,
    ) -> AgreementReport:
        """Everything over the judgements added; `groups` (pattern -> prosocial/antisocial) feeds the probe."""
        judges = range(len(self.judges))
        return AgreementReport(
            judges=self.judges,
            runs=self.runs,
            across_judges=self._alphas([(j, 0) for j in judges]),
            across_runs=(
                {self.judges[j]: self._alphas([(j, r) for r in range(self.runs)]) for j in judges}
                if self.runs > 1
                else {}
            ),
            aggregated=self._aggregated(infos, expected_splits),
            disagreements=self._disagreements(),
            desirability={
                self.judges[j]: desirability_probe(self._sample_scores(j), infos, groups or {}) for j in judges
            },
        )

    def _alphas(self, raters: Sequence[Cell]) -> dict[str, Alpha]:
        """Alpha per metric with `raters` (judge, run) cells as the raters."""
        units: dict[str, dict[object, list[float | None]]] = {metric: {} for metric in ALPHA_METRICS}
        for key, sample in self._samples.items():
            for item_id, item in sample.items.items():
                values: list[float | None] = [_alpha_value(self._code(item, cell)) for cell in raters]
                units[item.metric][(key, item_id)] = values
                units["items"][(key, item_id)] = values
            for position, metric in enumerate(HOLISTIC):
                units[metric][key] = [(sample.holistic.get(cell) or (None, None))[position] for cell in raters]
        return {
            metric: krippendorff_alpha(units[metric], "interval" if metric in HOLISTIC else "ordinal")
            for metric in ALPHA_METRICS
        }

    def _value(self, sample: _Sample, metric: str, cells: Sequence[Cell]) -> float | None:
        """A sample's score on one metric from the judge/run `cells`: per item the mean over the cells."""
        if metric in HOLISTIC:
            position = HOLISTIC.index(metric)
            rated = [sample.holistic[cell][position] for cell in cells if cell in sample.holistic]
            return mean([v for v in rated if v is not None])
        items = []
        for item in sample.items.values():
            if item.metric == metric:
                values = [float(v) for cell in cells if (v := self._metric_value(self._code(item, cell))) is not None]
                if values:
                    items.append(sum(values) / len(values))
        return mean(items)

    def _aggregated(self, infos: Mapping[SampleKey, SampleInfo], expected_splits: Sequence[str]) -> AggregatedScores:
        runs = sorted(self._runs)
        judges = range(len(self.judges))
        overall: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        split_sums: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        samples = set()
        for key, sample in self._samples.items():
            info = infos.get(key)
            split = info.split if info is not None else "all"
            for run in runs:
                for metric in METRICS:
                    value = self._value(sample, metric, [(j, run) for j in judges])
                    if value is not None:
                        samples.add(key)
                        overall[metric][run].append(value)
                        split_sums[split][metric][run].append(value)

        def summaries(sums: Mapping[str, Mapping[int, list[float]]]) -> dict[str, MetricSummary]:
            out = {}
            for metric in METRICS:
                per_run = sums.get(metric, {})
                scale = 1.0 if metric in HOLISTIC else 100.0
                values = [None if (m := mean(per_run.get(r, []))) is None else scale * m for r in runs]
                out[metric] = summarise(values, max((len(v) for v in per_run.values()), default=0))
            return out

        by_split = {split: summaries(split_sums[split]) for split in sorted(split_sums)}
        average = average_splits(by_split, expected_splits, runs=len(runs))
        return AggregatedScores(
            samples=len(samples),
            overall=summaries(overall),
            split_average=average.metrics,
            split_average_of=average.splits,
            empty_splits=average.empty,
            by_split=by_split,
        )

    def _disagreements(self) -> list[ItemDisagreement]:
        found: dict[tuple[str, ...], ItemDisagreement] = {}
        sums: dict[tuple[str, ...], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for (episode_id, character), sample in self._samples.items():
            for item_id, item in sample.items.items():
                scored = [
                    (j, v) for j in range(len(self.judges)) if (v := _alpha_value(self._code(item, (j, 0)))) is not None
                ]
                if len(scored) < 2:
                    continue
                ident: tuple[str, ...] = (
                    ("ipe", item_id) if item.metric == "ipe" else ("mpd", episode_id, character, item_id)
                )
                entry = found.get(ident)
                if entry is None:
                    entry = found[ident] = ItemDisagreement(
                        item=item_id,
                        metric=item.metric,
                        pattern=item.pattern,
                        question=item.question,
                        episode_id=None if item.metric == "ipe" else episode_id,
                        character=None if item.metric == "ipe" else character,
                        samples=0,
                        pairs=0,
                        disagreeing=0,
                        share=0.0,
                        means={},
                    )
                entry.samples += 1
                for (_a, x), (_b, y) in combinations(scored, 2):
                    entry.pairs += 1
                    entry.disagreeing += x != y
                for j, v in scored:
                    sums[ident][j].append(v)
        for key, entry in found.items():
            entry.share = entry.disagreeing / entry.pairs
            given = sums[key]
            entry.means = {judge: mean([float(v) for v in given.get(j, [])]) for j, judge in enumerate(self.judges)}
        ranked = sorted(
            (e for e in found.values() if e.disagreeing),
            key=lambda e: (-e.share, -e.pairs, e.item, e.episode_id or "", e.character or ""),
        )
        return ranked[:DISAGREEMENTS_SHOWN]

    def _sample_scores(self, judge: int) -> dict[SampleKey, SampleScores]:
        """One judge's per-sample IPE and holistic scores, each the mean over its runs."""
        out = {}
        for key, sample in self._samples.items():
            runs = sorted(
                {r for item in sample.items.values() for r in range(self.runs) if item.codes[judge * self.runs + r]}
                | {r for (j, r) in sample.holistic if j == judge}
            )
            if not runs:
                continue
            present = {}
            for metric in ("ipe", *HOLISTIC):
                values = [self._value(sample, metric, [(judge, r)]) for r in runs]
                present[metric] = mean([v for v in values if v is not None])
            out[key] = SampleScores(
                ipe=present["ipe"], anthropomorphism=present["anthropomorphism"], fidelity=present["fidelity"]
            )
        return out
