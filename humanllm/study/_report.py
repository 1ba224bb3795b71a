"""A study's report folder: the tidy table (CSV, Parquet), the analysis (CSV, JSON), pictures, a Markdown
summary and a self-contained HTML page.

Everything is drawn and rendered before the first file is written, and every file is written whole or not at
all (a temporary file beside it, then `os.replace`), so a report that fails leaves no half file. The HTML
page fetches nothing: its CSS is inline, its pictures are data URIs, and every text taken from the data
(patterns, cells, reasons, the question) is HTML-escaped.

Read `tidy.csv` back with `read_tidy_csv`: plain `pandas.read_csv` would turn the status "n/a" and the empty
pattern of MPD items into missing values.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from humanllm.core import atomic_path, write_text_atomic
from humanllm.study._plots import plot_pngs, write_plots
from humanllm.study._results import Effect, StudyAnalysis

if TYPE_CHECKING:
    import pandas as pd

STRING_COLUMNS = (
    "study",
    "cell",
    "episode_id",
    "character",
    "judge",
    "item_id",
    "metric",
    "pattern",
    "status",
    "reason",
)
TOP_REASONS = 10
"""The most common reasons for unscored and n/a items listed in the report."""
REASON_CHARS = 240


class ReportFiles(BaseModel):
    """The files `write_report` wrote."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path
    tidy_csv: Path
    tidy_parquet: Path
    expression_csv: Path
    effects_csv: Path
    analysis_json: Path
    summary_md: Path
    report_html: Path
    plots: list[Path]


def write_report(analysis: StudyAnalysis, table: pd.DataFrame, out: Path, *, title: str, question: str) -> ReportFiles:
    """Write the report of `analysis` (made from `table`) under the folder `out`, each file atomically."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        folder=out,
        tidy_csv=out / "tidy.csv",
        tidy_parquet=out / "tidy.parquet",
        expression_csv=out / "expression.csv",
        effects_csv=out / "effects.csv",
        analysis_json=out / "analysis.json",
        summary_md=out / "summary.md",
        report_html=out / "report.html",
        plots=[],
    )
    payload = json.dumps(analysis.model_dump(mode="json"), indent=2, allow_nan=False)  # NaN here is a bug: fail
    pictures = plot_pngs(analysis)
    sections = _sections(analysis, table, question=question)
    summary = _markdown(title, sections, list(pictures))
    page = _html(title, sections, pictures)
    # everything is drawn and rendered: only writing is left, each file in one step
    with atomic_path(files.tidy_csv) as temporary:
        table.to_csv(temporary, index=False)
    with atomic_path(files.tidy_parquet) as temporary:
        table.to_parquet(temporary, index=False, engine="pyarrow")
    with atomic_path(files.expression_csv) as temporary:
        pd.DataFrame(_expression_records(analysis)).to_csv(temporary, index=False)
    with atomic_path(files.effects_csv) as temporary:
        pd.DataFrame(_effect_records(analysis)).to_csv(temporary, index=False)
    write_text_atomic(files.analysis_json, payload + "\n")
    plots = write_plots(analysis, out / "plots", pictures=pictures)
    write_text_atomic(files.summary_md, summary)
    write_text_atomic(files.report_html, page)
    return files.model_copy(update={"plots": plots})


def read_tidy_csv(path: Path) -> pd.DataFrame:
    """`tidy.csv` as the table it was written from: text columns as text ("n/a" and "" kept), scores float."""
    import pandas as pd

    table = pd.read_csv(
        path, keep_default_na=False, na_values={"score": [""]}, dtype={name: str for name in STRING_COLUMNS}
    )
    return table.astype({"score": "float64"})


def _expression_records(analysis: StudyAnalysis) -> list[dict[str, object]]:
    records = []
    for row in analysis.expression:
        record = row.model_dump(exclude={"levels"})
        records.append({"outcome": record.pop("outcome"), "cell": record.pop("cell"), **row.levels, **record})
    return records


def _effect_records(analysis: StudyAnalysis) -> list[dict[str, object]]:
    return [{**effect.model_dump(exclude={"factors"})} for effect in analysis.effects]


# -- the summary's content, rendered twice (Markdown and HTML) ------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class _Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: _Table | None = None
    bullets: list[str] = field(default_factory=list)


def _sections(analysis: StudyAnalysis, table: pd.DataFrame, *, question: str) -> list[_Section]:
    confidence = f"{analysis.settings.confidence:.0%}"
    return [
        _Section("Question", [question or "(no question given)"]),
        _design_section(analysis),
        _Section(
            f"Expression per cell (mean over replicates [{confidence} interval], n; • the pattern was given)",
            table=_expression_table(analysis),
        ),
        _Section(f"Main effects ({confidence} interval, permutation p)", table=_effects_table(analysis.main_effects)),
        _interaction_section(analysis),
        _Section("Notable effects", bullets=notable_lines(analysis)),
        _Section("Caveats", bullets=_caveats(analysis)),
        _Section("Most common reasons for unscored and n/a items", table=_reasons_table(table)),
    ]


def _design_section(analysis: StudyAnalysis) -> _Section:
    settings = analysis.settings
    counts = analysis.counts
    cells = "; ".join(f"{cell.label} ({cell.episodes} episodes)" for cell in analysis.cells)
    return _Section(
        "Design",
        bullets=[
            f"study {analysis.study or '(unnamed)'}: a {analysis.design.value} design over "
            f"{', '.join(analysis.factors)}",
            f"cells: {cells}",
            f"{counts.episodes} episodes, {counts.judge_runs} judge run(s) per character, "
            f"{len(analysis.outcomes)} outcomes",
            f"{settings.n_boot} bootstrap draws, {settings.n_perm} permutations, seed {settings.seed}",
        ],
    )


def _expression_table(analysis: StudyAnalysis) -> _Table:
    outcomes = [outcome.label for outcome in analysis.outcomes]
    by_key = {(row.cell, row.outcome): row for row in analysis.expression}
    rows = []
    for cell in analysis.cells:
        row = [cell.label]
        for outcome in outcomes:
            found = by_key.get((cell.label, outcome))
            if found is None or found.mean is None:
                row.append("n/a")
                continue
            interval = f" [{_num(found.ci_low)}, {_num(found.ci_high)}]" if found.ci_low is not None else ""
            row.append(f"{_num(found.mean)}{interval} n={found.n}{' •' if found.carried else ''}")
        rows.append(row)
    return _Table(["cell", *outcomes], rows)


def _effects_table(effects: list[Effect]) -> _Table:
    rows = [
        [
            effect.name,
            effect.outcome,
            _num(effect.estimate),
            f"[{_num(effect.ci_low)}, {_num(effect.ci_high)}]" if effect.ci_low is not None else "—",
            _p(effect.p_value),
            str(effect.n),
            effect.note or ("manipulated pattern" if effect.manipulates else ""),
        ]
        for effect in effects
    ]
    return _Table(["effect", "outcome", "estimate", "interval", "p", "n", "note"], rows)


def _interaction_section(analysis: StudyAnalysis) -> _Section:
    heading = "Interactions (difference of differences)"
    if not analysis.interactions_estimated or not analysis.interactions:
        return _Section(heading, [analysis.interactions_note])
    return _Section(heading, [analysis.interactions_note], table=_effects_table(analysis.interactions))


def notable_lines(analysis: StudyAnalysis) -> list[str]:
    """A plain sentence per effect with p < 0.05 (or, untested, an interval that excludes 0)."""
    lines = [_plain(effect, analysis.settings.confidence) for effect in analysis.effects if effect.significant]
    return lines or ["No effect reached p < 0.05 (nor, untested, an interval that excludes 0)."]


def _plain(effect: Effect, confidence: float) -> str:
    """One sentence on a notable effect."""
    assert effect.estimate is not None
    size = f"{abs(effect.estimate):.2f}"
    evidence = f"{confidence:.0%} interval {_num(effect.ci_low)} to {_num(effect.ci_high)}, p = {_p(effect.p_value)}"
    if effect.kind == "interaction":
        first, second = effect.factors
        direction = "larger" if effect.estimate > 0 else "smaller"
        return (
            f"{first} and {second} interact on {effect.outcome}: the effect of {first} is {size} {direction} "
            f"with {second} given than without ({evidence})."
        )
    direction = "raises" if effect.estimate > 0 else "lowers"
    what = "its own pattern: the manipulation works" if effect.manipulates else "a spill-over"
    return f"{effect.name} {direction} {effect.outcome} by {size} ({effect.contrast}; {evidence}); {what}."


def _caveats(analysis: StudyAnalysis) -> list[str]:
    counts = analysis.counts
    sizes = sorted({cell.episodes for cell in analysis.cells})
    tests = sum(effect.p_value is not None for effect in analysis.effects)
    noise = (
        f"the judge runs of one episode differ by {counts.judge_run_sd:.2f} (mean SD) on an outcome"
        if counts.judge_run_sd is not None
        else "with one judge run per episode the judge's own noise is not measured"
    )
    lines = [
        f"Intervals and p-values are over replicates ({'/'.join(map(str, sizes))} episodes per cell), not over "
        "scenarios or judges: they say how much the same study would vary if rerun. The bootstrap intervals are "
        "widened for small samples, but a cell's interval from 2-3 replicates is still too narrow; with one "
        "replicate there is none.",
        f"Judge noise: each episode's value averages its judge runs; {noise}; it is part of the replicate spread.",
        f"Items: {counts.scored} scored, {counts.not_applicable} n/a, {counts.unscored} unscored"
        + (f", {counts.scored_without_score} marked scored without a score" if counts.scored_without_score else "")
        + f"; only scored items count, and {counts.dropped_values} episode x outcome pairs had none (left out).",
        f"{tests} p-values, not adjusted for multiple comparisons: expect about {tests * 0.05:.1f} below 0.05 by "
        "chance alone.",
    ]
    if analysis.missing_cells:
        lines.append(f"Cells without any episode: {'; '.join(analysis.missing_cells)}.")
    if counts.episodes_outside_design:
        lines.append(f"{counts.episodes_outside_design} episodes are in no cell of this design: left out.")
    return lines


def _reasons_table(table: pd.DataFrame) -> _Table:
    missed = table[table.status != "scored"]
    counted = missed.groupby(["status", "reason"], sort=False).size().sort_values(ascending=False, kind="stable")
    rows = [
        [str(status), _clip(str(reason)) or "(no reason)", str(int(count))]
        for (status, reason), count in counted.head(TOP_REASONS).items()
    ]
    return _Table(["status", "reason", "items"], rows or [["—", "every item was scored", "0"]])


# -- rendering ------------------------------------------------------------------------------------------------


def _markdown(title: str, sections: list[_Section], pictures: list[str]) -> str:
    lines = [f"# {_md(title)}", ""]
    for section in sections:
        lines += [f"## {_md(section.heading)}", ""]
        lines += [line for paragraph in section.paragraphs for line in (_md(paragraph), "")]
        if section.table is not None:
            lines.append("| " + " | ".join(_md(cell) for cell in section.table.header) + " |")
            lines.append("|" + "---|" * len(section.table.header))
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in section.table.rows]
            lines.append("")
        if section.bullets:
            lines += [f"- {_md(bullet)}" for bullet in section.bullets] + [""]
    if pictures:
        lines += ["## Pictures", ""] + [f"![{name}](plots/{name})" for name in pictures] + [""]
    return "\n".join(lines)


def _html(title: str, sections: list[_Section], pictures: dict[str, bytes]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs]
        if section.table is not None:
            head = "".join(f"<th>{html.escape(cell)}</th>" for cell in section.table.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                for row in section.table.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if section.bullets:
            parts.append("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in section.bullets) + "</ul>")
    if pictures:
        parts.append("<h2>Pictures</h2>")
        for name, data in pictures.items():
            encoded = base64.b64encode(data).decode("ascii")
            label = html.escape(name)
            parts.append(
                f'<figure><img alt="{label}" src="data:image/png;base64,{encoded}"><figcaption>{label}'
                "</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}img{max-width:100%}figure{margin:1em 0}figcaption{color:#666;font-size:0.85em}"
)


def _md(text: str) -> str:
    """Data text made safe in Markdown: HTML-escaped (no raw tags), table pipes escaped, on one line."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
