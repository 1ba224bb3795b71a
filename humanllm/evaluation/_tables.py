"""Result tables: one neutral table model, rendered as Markdown (files, terminal) or HTML (the report)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from humanllm.evaluation._results import EvalResults
from humanllm.evaluation._scoring import METRICS, MetricSummary, ScoreReport

METRIC_NAMES = {"ipe": "IPE", "mpd": "MPD", "anthropomorphism": "Anthropomorphism", "fidelity": "Fidelity"}
SPLIT_ORDER = ("id", "ood", "mixed", "train", "all")


@dataclass(frozen=True)
class Table:
    """A titled table of strings."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    left: int = 1
    """Leading columns of text (left-aligned where a renderer aligns); the rest are numbers."""


def fmt(summary: MetricSummary | None) -> str:
    """`mean ± SD`, then `[low, high]` where a confidence interval was computed; a dash when there is no value."""
    if summary is None or summary.mean is None:
        return "–"
    shown = f"{summary.mean:.1f} ± {summary.sd:.1f}"
    return shown + (f" [{summary.ci.low:.1f}, {summary.ci.high:.1f}]" if summary.ci is not None else "")


def _ci_note(results: EvalResults) -> str:
    """What the bracketed intervals are, when the results have any."""
    intervals = [
        s.ci for r in results.reports.values() for s in (*r.overall.values(), *r.split_average.values()) if s.ci
    ]
    if not intervals:
        return ""
    first = intervals[0]
    return (
        f"; [low, high]: {100 * first.level:.0f}% bootstrap CI over samples ({first.resamples} resamples, "
        f"seed {results.options.seed})"
    )


def ordered_splits(report: ScoreReport) -> list[str]:
    splits = list(report.breakdowns.get("split", {}))
    return sorted(splits, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else len(SPLIT_ORDER), s))


def headline(report: ScoreReport) -> dict[str, MetricSummary]:
    """The split average when there are several splits, else all samples pooled."""
    return report.split_average if len(report.breakdowns.get("split", {})) > 1 else report.overall


def averaged_splits(report: ScoreReport) -> list[str]:
    """The splits the headline stands for, in split order (results written before they were named: the breakdown's)."""
    named = report.split_average_of or list(report.breakdowns.get("split", {}))
    return sorted(named, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else len(SPLIT_ORDER), s))


def _averaged_over(report: ScoreReport) -> str:
    shown = ", ".join(averaged_splits(report)) or "–"
    return f"{shown}; {', '.join(report.empty_splits)} empty" if report.empty_splits else shown


def split_warnings(results: EvalResults) -> list[str]:
    """One line per label whose data has a split with no scored sample (left out of its headline)."""
    warnings = []
    for label, report in results.reports.items():
        if not report.empty_splits:
            continue
        empty = ("split " if len(report.empty_splits) == 1 else "splits ") + ", ".join(report.empty_splits)
        has = "has" if len(report.empty_splits) == 1 else "have"
        kept = ", ".join(averaged_splits(report)) or "no split"
        hint = (
            " (fill ood_eval with `humanllm generate --out STORE --ood-topup N`, then `humanllm data split STORE`)"
            if "ood" in report.empty_splits
            else ""
        )
        warnings.append(f"{label}: {empty} {has} no scored sample, so the headline averages {kept} only{hint}")
    return warnings


def results_tables(results: EvalResults, *, breakdowns: bool = True) -> list[Table]:
    """Headline, per-split, coverage and (optionally) breakdown tables."""
    metrics = [METRIC_NAMES[m] for m in METRICS]
    several = any(len(r.breakdowns.get("split", {})) > 1 for r in results.reports.values())
    tables = [
        Table(
            title="Results",
            headers=["", *metrics, "splits averaged"],
            rows=[
                [label, *(fmt(headline(r).get(m)) for m in METRICS), _averaged_over(r)]
                for label, r in results.reports.items()
            ],
            note=(
                f"mean ± SD over {results.options.runs} judge run(s) by {results.judge}; IPE and MPD on -100..100, "
                "holistic scores on 0..100"
                + ("; the mean of the per-split values of the splits named" if several else "")
                + _ci_note(results)
                + ("; an empty split is not in the mean (see the warnings)" if split_warnings(results) else "")
            ),
        )
    ]
    split_rows = [
        [label, split, *(fmt(r.breakdowns["split"][split].get(m)) for m in METRICS)]
        for label, r in results.reports.items()
        for split in ordered_splits(r)
    ]
    if split_rows:
        tables.append(Table(title="By split", headers=["", "split", *metrics], rows=split_rows))
    tables.append(coverage_table(results))
    if breakdowns:
        for label, report in results.reports.items():
            for name in ("pattern", "family", "dimension", "interaction"):
                groups = report.breakdowns.get(name, {})
                if groups:
                    tables.append(
                        Table(
                            title=f"{label}: by {name}",
                            headers=[name, *metrics, "samples"],
                            rows=[
                                [group, *(fmt(g.get(m)) for m in METRICS), str(g["ipe"].samples if "ipe" in g else 0)]
                                for group, g in groups.items()
                            ],
                        )
                    )
    return tables


def coverage_table(results: EvalResults) -> Table:
    rows = []
    for label, report in results.reports.items():
        c = report.coverage
        share = f"{100 * c.unscored / c.items:.1f}%" if c.items else "–"
        left_out = sum(m.samples_left_out for m in c.by_metric.values())
        rows.append(
            [
                label,
                str(report.samples),
                str(c.judgements),
                str(c.items),
                f"{c.not_applicable}" + (" (as 0)" if c.na_as_zero else ""),
                f"{c.unscored} ({share})",
                str(left_out),
                str(c.holistic_unscored),
            ]
        )
    return Table(
        title="Coverage",
        headers=["", "samples", "judgements", "items", "n/a", "unscored", "samples left out", "holistic unscored"],
        rows=rows,
        note="unscored items are left out of the means, never counted as 0; n/a items (no opportunity in the "
        "transcript) are left out too unless scored with --na-as-zero",
    )


def to_markdown(table: Table) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [f"### {table.title}", "", row(table.headers), "|" + "---|" * len(table.headers)]
    lines += [row(r) for r in table.rows]
    if table.note:
        lines += ["", f"_{table.note}_"]
    return "\n".join(lines)


def to_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    title = f"<h3>{html.escape(table.title)}</h3>"
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def results_markdown(results: EvalResults) -> str:
    """The whole result as one Markdown document."""
    title = "Benchmark" if results.kind == "benchmark" else "Scores"
    mode = ""
    if results.kind == "benchmark":
        fmt = results.config.get("format")
        mode = f", {results.config.get('mode')} mode" + (f", {fmt} format" if fmt and fmt != "json" else "")
    parts = [f"## {title}{mode}", ""]
    warnings = split_warnings(results)
    if warnings:
        parts += ["### Warnings", "", *(f"- {w}" for w in warnings), ""]
    parts += [to_markdown(t) + "\n" for t in results_tables(results)]
    if results.notes:
        parts += ["### Notes", "", *(f"- {n}" for n in results.notes)]
    return "\n".join(parts).rstrip() + "\n"
