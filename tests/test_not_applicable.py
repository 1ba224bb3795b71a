"""n/a ("no opportunity in this transcript") is neither 0 nor unscored: kept apart in scoring and coverage."""

from __future__ import annotations

import pytest

from humanllm.core import ChecklistItem, Metric, Score, Verdict
from humanllm.evaluation import Judgement, SampleInfo, score_judgements

NA = "n/a"


def _judgement(scores: list[int | str | None]) -> Judgement:
    items = [ChecklistItem(id=f"ipe.p.{n}", metric=Metric.IPE, question="?", pattern="p") for n in range(len(scores))]
    verdicts = [
        Verdict(item_id=i.id, score=None, not_applicable=True, reason="no chance")
        if s == NA
        else Verdict(item_id=i.id, score=None if s is None else Score(s), reason="" if s is not None else "garbage")
        for i, s in zip(items, scores, strict=True)
    ]
    return Judgement(
        episode_id="A", character="C", judge="fake", run=0, prompt_version="v", batch_size=8, items=items,
        verdicts=verdicts,
    )  # fmt: skip


INFOS = {("A", "C"): SampleInfo(split="id", patterns=("p",))}


def test_metrics_leave_na_out_and_coverage_counts_it() -> None:
    judgement = _judgement([1, 1, NA, NA, None, 0])
    report = score_judgements([judgement], INFOS)
    assert report.overall["ipe"].mean == pytest.approx(100 * 2 / 3)  # (1 + 1 + 0) / 3: n/a and unscored left out
    coverage = report.coverage
    assert (coverage.items, coverage.scored, coverage.not_applicable, coverage.unscored) == (6, 3, 2, 1)
    assert coverage.by_metric["ipe"].not_applicable == 2 and not coverage.na_as_zero


def test_na_as_zero_gives_the_paper_comparable_number() -> None:
    report = score_judgements([_judgement([1, 1, NA, NA, None, 0])], INFOS, na_as_zero=True)
    assert report.overall["ipe"].mean == pytest.approx(100 * 2 / 5)  # n/a count as 0; unscored still left out
    assert report.coverage.na_as_zero and report.coverage.not_applicable == 2


def test_a_sample_with_only_na_items_has_no_value_unless_na_counts_as_zero() -> None:
    judgement = _judgement([NA, NA])
    assert score_judgements([judgement], INFOS).overall["ipe"].mean is None
    assert score_judgements([judgement], INFOS, na_as_zero=True).overall["ipe"].mean == 0.0
