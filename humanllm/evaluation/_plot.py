"""Result plots as PNG bytes (matplotlib's Agg canvas: no display, no global backend switch)."""

from __future__ import annotations

import io

from humanllm.evaluation._paper import FLAG, PAPER_METRICS, PAPER_SPLITS, SPLIT_NAMES, PaperTable
from humanllm.evaluation._results import EvalResults
from humanllm.evaluation._scoring import METRICS, MetricSummary
from humanllm.evaluation._tables import METRIC_NAMES, headline, ordered_splits


def results_png(results: EvalResults) -> bytes:
    """One panel per metric: a group of bars per split (and the average), one bar per label, SD as error bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = list(results.reports)
    splits: list[str] = []
    for report in results.reports.values():
        splits += [s for s in ordered_splits(report) if s not in splits]
    groups = [*splits, "avg"] if len(splits) > 1 else splits or ["all"]
    figure = Figure(figsize=(4.2 * len(METRICS), 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(METRICS))
    width = 0.8 / max(1, len(labels))
    for axis, metric in zip(axes, METRICS, strict=True):
        for index, label in enumerate(labels):
            report = results.reports[label]
            values: list[MetricSummary | None] = []
            for group in groups:
                if group == "avg" or len(groups) == 1:
                    values.append(headline(report).get(metric))
                else:
                    values.append(report.breakdowns.get("split", {}).get(group, {}).get(metric))
            heights = [v.mean if v is not None and v.mean is not None else 0.0 for v in values]
            errors = [v.sd if v is not None else 0.0 for v in values]
            positions = [g + (index - (len(labels) - 1) / 2) * width for g in range(len(groups))]
            axis.bar(positions, heights, width=width, yerr=errors, capsize=3, label=label)
        axis.set_title(METRIC_NAMES[metric])
        axis.set_xticks(range(len(groups)), groups)
        axis.axhline(0, color="black", linewidth=0.6)
        axis.set_ylim(*((-100, 100) if metric in ("ipe", "mpd") else (0, 100)))
    if labels:  # a benchmark whose every play failed has no bars to name
        axes[0].legend(fontsize="small", loc="lower left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def paper_png(table: PaperTable) -> bytes:
    """The paper's table as bars: a panel per metric, groups ID / OOD / Mixed / Avg, a bar per model, SD as error
    bars; an empty split is labelled so, and an average over fewer splits is marked with the table's flag."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = [m for m in table.metrics if m in PAPER_METRICS]
    partial = any(row.average[m].missing for row in table.rows for m in metrics)
    groups = [*(f"{SPLIT_NAMES[s]}\n(empty)" if s in table.empty_splits else SPLIT_NAMES[s] for s in PAPER_SPLITS)]
    groups.append("Avg" + (FLAG if partial else ""))
    figure = Figure(figsize=(5.0 * len(metrics), 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    width = 0.8 / max(1, len(table.rows))
    for axis, metric in zip(axes, metrics, strict=True):
        for index, row in enumerate(table.rows):
            cells = [row.cells[metric][s] for s in PAPER_SPLITS]
            average = row.average[metric]
            heights = [c.mean if c is not None and c.mean is not None else 0.0 for c in cells]
            errors = [c.sd if c is not None else 0.0 for c in cells]
            heights.append(average.mean if average.mean is not None else 0.0)
            errors.append(average.sd)
            positions = [g + (index - (len(table.rows) - 1) / 2) * width for g in range(len(groups))]
            axis.bar(positions, heights, width=width, yerr=errors, capsize=3, label=row.model)
        axis.set_title(METRIC_NAMES[metric])
        axis.set_xticks(range(len(groups)), groups)
        axis.axhline(0, color="black", linewidth=0.6)
        axis.set_ylim(-100, 100)
    axes[0].legend(fontsize="small", loc="lower left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
