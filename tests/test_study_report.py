"""The report folder: every file written (atomically), the table read back unchanged, an HTML page that fetches
nothing and shows data text as text, and the designs and studies with nothing to draw an interval or an
interaction for."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from humanllm.study._analysis import analyse
from humanllm.study._design import Cell, DesignKind
from humanllm.study._report import read_tidy_csv, write_report
from humanllm.study._results import StudyAnalysis
from humanllm.study._table import frame

HOSTILE = "<script>alert(1)</script>"
ODD = r"odd<b>$\q{$pattern"  # HTML, and mathtext that would not parse
PNG = b"\x89PNG\r\n\x1a\n"


def study_rows(
    names: list[str], combos: list[tuple[int, ...]], *, replicates: int, items: int = 4
) -> list[dict[str, Any]]:
    """Two characters; the protagonist carries 'anxious' when the first factor is given and ODD
    when the second is, and then mostly expresses it (the first strongly). Seeded scores; some items n/a,
    some unscored, one with a hostile reason."""
    rows: list[dict[str, Any]] = []
    patterns = ["anxious", ODD]
    for (c, combo), replicate in itertools.product(enumerate(combos), range(replicates)):
        rng = np.random.default_rng([c, replicate])
        levels = dict(zip(names, combo, strict=True))
        cell = Cell(levels=levels).label
        for character, metric, pattern, index in itertools.product(
            ["pro", "sup"], ["ipe", "mpd"], patterns, range(items)
        ):
            if metric == "mpd" and pattern != patterns[0]:
                continue
            given = character == "pro" and metric == "ipe" and combo[patterns.index(pattern)] == 1
            lean = (0.8 if pattern == patterns[0] else 0.4) if given else -0.3
            score = float(np.clip(np.round(lean + rng.normal(0, 0.5)), -1, 1))
            status, reason = "scored", f"item {index} & co"
            if rng.random() < 0.1:
                status, reason = "n/a", "the scene gave no chance"
            if rng.random() < 0.05 or (c, replicate, character, index) == (0, 0, "sup", 0):
                status, reason = "unscored", HOSTILE
            rows.append(
                {
                    "study": "demo",
                    "cell": cell,
                    **levels,
                    "replicate": replicate,
                    "episode_id": f"ep-{cell.replace(' ', '_')}-{replicate}",
                    "character": character,
                    "judge": "fake:judge",
                    "run": 0,
                    "item_id": f"{metric}.{pattern}.{index}" if metric == "ipe" else f"mpd.{index}",
                    "metric": metric,
                    "pattern": pattern if metric == "ipe" else "",
                    "carried": given,
                    "status": status,
                    "score": score if status == "scored" else float("nan"),
                    "reason": reason,
                }
            )
    return rows


FACTORS = ["anxious", "pushy"]
FACTORIAL = [(0, 0), (1, 0), (0, 1), (1, 1)]


def report(tmp_path: Path, rows: list[dict[str, Any]], names: list[str], design: DesignKind) -> Any:
    table = frame(rows, names)
    analysis = analyse(table, names, design, n_boot=200, n_perm=200)
    files = write_report(analysis, table, tmp_path / "report", title="Demo <study>", question=f"Does {HOSTILE}?")
    return table, analysis, files


@pytest.fixture(scope="module")
def factorial(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A 2x2 study of 3 replicates, reported once for the tests that only read the report."""
    return report(
        tmp_path_factory.mktemp("study"), study_rows(FACTORS, FACTORIAL, replicates=3), FACTORS, DesignKind.FACTORIAL
    )


def test_the_report_writes_every_file_and_the_table_reads_back_unchanged(factorial: Any) -> None:
    table, analysis, files = factorial
    for path in (
        files.tidy_csv,
        files.tidy_parquet,
        files.expression_csv,
        files.effects_csv,
        files.analysis_json,
        files.summary_md,
        files.report_html,
    ):
        assert path.is_file() and path.stat().st_size > 0 and path.parent == files.folder
    names = sorted(p.name for p in files.plots)
    assert names == ["expression.png", "forest.png", "interaction-anxious-pushy.png", "interactions.png"]
    assert all(p.read_bytes().startswith(PNG) for p in files.plots)
    assert not list(files.folder.rglob("*.tmp"))
    pd.testing.assert_frame_equal(read_tidy_csv(files.tidy_csv), table)
    pd.testing.assert_frame_equal(pd.read_parquet(files.tidy_parquet), table)
    assert StudyAnalysis.model_validate_json(files.analysis_json.read_text(encoding="utf-8")) == analysis
    json.loads(files.analysis_json.read_text(encoding="utf-8"), parse_constant=pytest.fail)  # no NaN
    effects = pd.read_csv(files.effects_csv)
    assert len(effects) == len(analysis.effects) and {"estimate", "ci_low", "p_value"} <= set(effects.columns)
    expression = pd.read_csv(files.expression_csv)
    assert len(expression) == len(analysis.expression) and set(FACTORS) <= set(expression.columns)


def test_the_summary_has_the_question_design_tables_effects_and_caveats(factorial: Any) -> None:
    _, analysis, files = factorial
    summary = files.summary_md.read_text(encoding="utf-8")
    assert "Does &lt;script&gt;alert(1)&lt;/script&gt;?" in summary and "<script>" not in summary
    assert "factorial design over anxious, pushy" in summary
    assert "| cell | pro: anxious |" in summary and "pro: odd&lt;b&gt;$\\q{$pattern" in summary
    assert "## Main effects" in summary and "## Interactions" in summary and "anxious x pushy" in summary
    counts = analysis.counts
    assert f"{counts.not_applicable} n/a, {counts.unscored} unscored" in summary
    assert "not adjusted for multiple comparisons" in summary and "over replicates" in summary
    assert "![forest.png](plots/forest.png)" in summary
    if any(e.significant for e in analysis.effects):
        assert "raises" in summary or "lowers" in summary or "interact on" in summary


def test_the_html_page_is_self_contained_and_shows_data_text_as_text(factorial: Any) -> None:
    _, _, files = factorial
    page = files.report_html.read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", page).lower()  # base64 may spell anything
    assert "<script" not in text and "http" not in text and "//" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the reason and the question, escaped
    assert "odd&lt;b&gt;$\\q{$pattern" in page and "<b>" not in page and "Demo &lt;study&gt;" in page
    assert page.count('src="data:image/png;base64,') == len(files.plots)
    assert "<link" not in text and "url(" not in text and "@import" not in text


def test_a_one_replicate_study_still_reports_points_without_intervals(tmp_path: Path) -> None:
    _, analysis, files = report(tmp_path, study_rows(FACTORS, FACTORIAL, replicates=1), FACTORS, DesignKind.FACTORIAL)
    assert all(e.ci_low is None and e.ci_high is None for e in analysis.expression)
    assert all(e.ci_low is None for e in analysis.effects) and any(e.estimate is not None for e in analysis.effects)
    assert {p.name for p in files.plots} >= {"forest.png", "interaction-anxious-pushy.png"}
    assert "—" in files.summary_md.read_text(encoding="utf-8")


def test_a_leave_one_out_report_has_no_interaction_pictures(tmp_path: Path) -> None:
    names = ["anxious", "pushy", "shy"]
    combos = [(1, 1, 1), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
    _, analysis, files = report(tmp_path, study_rows(names, combos, replicates=2), names, DesignKind.LEAVE_ONE_OUT)
    assert sorted(p.name for p in files.plots) == ["expression.png", "forest.png"]
    summary = files.summary_md.read_text(encoding="utf-8")
    assert "no interactions are estimated" in summary and analysis.interactions == []


def test_a_failed_report_leaves_the_earlier_files_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, files = report(tmp_path, study_rows(FACTORS, FACTORIAL, replicates=2), FACTORS, DesignKind.FACTORIAL)
    before = files.tidy_parquet.read_bytes()

    def half_written(self: pd.DataFrame, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    with pytest.raises(OSError, match="disk full"):
        report(tmp_path, study_rows(FACTORS, FACTORIAL, replicates=3), FACTORS, DesignKind.FACTORIAL)
    assert files.tidy_parquet.read_bytes() == before
    assert not list(files.folder.rglob(".*.tmp"))


def test_a_new_report_clears_the_pictures_an_earlier_one_left(tmp_path: Path) -> None:
    _, _, files = report(tmp_path, study_rows(FACTORS, FACTORIAL, replicates=2), FACTORS, DesignKind.FACTORIAL)
    mine = files.folder / "plots" / "notes.png"
    mine.write_bytes(PNG)
    names = ["anxious", "pushy"]
    _, _, again = report(
        tmp_path, study_rows(names, [(0, 0), (1, 0), (0, 1)], replicates=2), names, DesignKind.ONE_AT_A_TIME
    )
    assert sorted(p.name for p in (again.folder / "plots").glob("*.png")) == [
        "expression.png",
        "forest.png",
        "notes.png",
    ]
