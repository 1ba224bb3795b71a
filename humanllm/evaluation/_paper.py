"""The paper's main table: per model, IPE and MPD on ID / OOD / Mixed and their average (REFERENCE §8).

`eval paper` plays and judges through `run_benchmark`; this module only reads its results. Each
cell is mean ± SD over the judge runs. The average is taken per run over the named splits, then
reported as mean ± SD over the runs, as the paper does. A split with no value (an empty split file,
or no scored sample) is never averaged in silently: it is named, the average says which splits it
covers, and the table flags it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from humanllm.core import write_text_atomic
from humanllm.errors import ConfigError
from humanllm.evaluation._results import EvalResults
from humanllm.evaluation._scoring import MetricSummary, ScoreReport, average_splits
from humanllm.evaluation._sources import EVAL_SPLITS, SPLIT_LABELS, read_episodes
from humanllm.evaluation._tables import METRIC_NAMES, Table, fmt, to_markdown

PAPER_SPLITS = tuple(SPLIT_LABELS[name] for name in EVAL_SPLITS)
"""The splits the paper averages: id, ood, mixed."""
SPLIT_NAMES = {"id": "ID", "ood": "OOD", "mixed": "Mixed"}
PAPER_METRICS = ("ipe", "mpd")
HOLISTIC_METRICS = ("anthropomorphism", "fidelity")
AVERAGE = "avg"
FLAG = "*"


class PaperAverage(BaseModel):
    """One metric averaged over named splits: per run the mean of the splits, then mean ± SD over runs."""

    mean: float | None = Field(description="Mean over runs of the per-run split average; None: no split has a value.")
    sd: float = Field(description="Sample SD over the runs.")
    runs: list[float | None] = Field(description="The split average in each judge run.")
    splits: list[str] = Field(description="The splits averaged (those with a value in every run).")
    missing: list[str] = Field(description="Named splits left out: no value in some run.")


def average_over_splits(report: ScoreReport, metric: str, splits: Sequence[str] = PAPER_SPLITS) -> PaperAverage:
    """`metric` averaged over `splits` (by `average_splits`); a split without a value in every run is left
    out and named in `missing`, so every run's average covers the same splits."""
    by_split = report.breakdowns.get("split", {})

    def complete(split: str) -> bool:
        summary = by_split.get(split, {}).get(metric)
        values = summary.runs if summary is not None else []
        return len(values) == report.runs > 0 and all(v is not None for v in values)

    kept = {split: {metric: by_split[split][metric]} for split in splits if complete(split)}
    averaged = average_splits(kept, splits, runs=report.runs, metrics=[metric])
    overall = averaged.metrics[metric]
    per_run: list[float | None] = list(overall.runs) if kept else [None] * report.runs
    return PaperAverage(mean=overall.mean, sd=overall.sd, runs=per_run, splits=averaged.splits, missing=averaged.empty)


class PaperRow(BaseModel):
    """One model's row."""

    model: str
    cells: dict[str, dict[str, MetricSummary | None]] = Field(description="Metric -> split -> mean ± SD over runs.")
    average: dict[str, PaperAverage] = Field(description="Metric -> the average over the splits.")


class PaperTable(BaseModel):
    """The paper's main results table, with what it was made from; saved as OUT/paper.json."""

    judge: str
    holistic: str = Field(description="The holistic baseline of the run: coser, direct or off.")
    runs: int = Field(description="Judge runs asked for.")
    mode: str = Field(description="replay or live.")
    data: str = Field(description="The split folder.")
    episodes: dict[str, int] = Field(description="Split -> episodes played from it (after --limit).")
    empty_splits: list[str] = Field(description="Splits with no episodes: shown as such, never averaged in.")
    metrics: list[str] = Field(description="Metrics in the rows: IPE and MPD, then the holistic baseline if asked.")
    rows: list[PaperRow]
    notes: list[str] = Field(default_factory=list, description="Every flag in the table, spelled out.")
    results: str = Field(description="The full results (breakdowns, coverage) this table is read from.")


def split_episodes(data: Path, limit: int | None = None) -> dict[str, int]:
    """Episodes per eval split of a split folder (id, ood, mixed; 0 for a missing or empty file).

    Fails before any model call when `data` is not a split folder.
    """
    data = Path(data)
    if not data.is_dir():
        raise ConfigError(f"{data} is not a folder: give the split folder that `humanllm data split` writes")
    if any(data.glob("episodes-*.jsonl")):
        raise ConfigError(
            f"{data} is a store, not a split folder: run `humanllm data split {data}` and give {data / 'splits'}"
        )
    files = {SPLIT_LABELS[name]: data / f"{name}.jsonl" for name in EVAL_SPLITS}
    if not any(path.exists() for path in files.values()):
        raise ConfigError(
            f"{data} has none of {', '.join(n + '.jsonl' for n in EVAL_SPLITS)}: give the split folder that "
            "`humanllm data split` writes"
        )
    counts = {}
    for split, path in files.items():
        count = sum(1 for _ in read_episodes(path)) if path.exists() else 0
        counts[split] = count if limit is None else min(count, limit)
    return counts


def paper_table(results: EvalResults, episodes: dict[str, int], results_path: Path) -> PaperTable:
    """The paper's table of a benchmark's results (`episodes` from `split_episodes`)."""
    holistic = str(results.options.holistic)
    metrics = [*PAPER_METRICS, *(HOLISTIC_METRICS if holistic != "off" else ())]
    empty = [s for s in PAPER_SPLITS if not episodes.get(s)]
    rows, notes = [], []
    for label, report in results.reports.items():
        by_split = report.breakdowns.get("split", {})
        cells = {m: {s: by_split[s][m] if s in by_split else None for s in PAPER_SPLITS} for m in metrics}
        average = {m: average_over_splits(report, m) for m in metrics}
        rows.append(PaperRow(model=label, cells=cells, average=average))
        partial: dict[tuple[str, str], list[str]] = {}  # (splits covered, why not the others) -> metrics
        for metric, avg in average.items():
            if avg.missing:
                why = ", ".join(
                    f"{_name(s)}: {'no episodes' if s in empty else 'no score in every run'}" for s in avg.missing
                )
                covered = " and ".join(_name(s) for s in avg.splits)
                partial.setdefault((covered, why), []).append(METRIC_NAMES[metric])
        for (covered, why), names in partial.items():
            what = f"averaged over {covered} only" if covered else "no average"
            notes.append(f"{FLAG} {label}: {', '.join(names)} {what} ({why})")
    if empty:
        notes.insert(
            0, f"empty split(s): {', '.join(_name(s) for s in empty)} (no episodes in {results.config.get('data')})"
        )
    return PaperTable(
        judge=results.judge,
        holistic=holistic,
        runs=results.options.runs,
        mode=str(results.config.get("mode")),
        data=str(results.config.get("data")),
        episodes=dict(episodes),
        empty_splits=empty,
        metrics=metrics,
        rows=rows,
        notes=notes,
        results=str(results_path),
    )


def _name(split: str) -> str:
    return SPLIT_NAMES.get(split, split)


def _header(split: str, table: PaperTable) -> str:
    return f"{_name(split)} (empty)" if split in table.empty_splits else _name(split)


def paper_tables(table: PaperTable) -> list[Table]:
    """The main table (IPE, MPD) and, when asked for, the holistic baseline in the same layout."""
    groups = [("Main results", [m for m in table.metrics if m in PAPER_METRICS])]
    holistic = [m for m in table.metrics if m in HOLISTIC_METRICS]
    if holistic:
        groups.append((f"Holistic baseline ({table.holistic})", holistic))
    out = []
    for title, metrics in groups:
        headers = ["Model"]
        for metric in metrics:
            headers += [f"{METRIC_NAMES[metric]} {_header(s, table)}" for s in PAPER_SPLITS] + [
                f"{METRIC_NAMES[metric]} Avg"
            ]
        rows = []
        for row in table.rows:
            cells = [row.model]
            for metric in metrics:
                cells += [fmt(row.cells[metric][s]) for s in PAPER_SPLITS]
                avg = row.average[metric]
                shown = fmt(MetricSummary(mean=avg.mean, sd=avg.sd, runs=avg.runs, samples=0))
                cells.append(shown + (FLAG if avg.missing and avg.mean is not None else ""))
            rows.append(cells)
        scale = "-100..100" if title == "Main results" else "0..100"
        note = f"mean ± SD over {table.runs} judge run(s) by {table.judge}, {table.mode} mode; {scale}"
        out.append(Table(title=title, headers=headers, rows=rows, note=note))
    return out


def paper_markdown(table: PaperTable) -> str:
    counts = ", ".join(f"{_name(s)} {table.episodes.get(s, 0)}" for s in PAPER_SPLITS)
    parts = ["## Main results (HumanLLM paper layout)", "", f"Episodes per split: {counts}; data: `{table.data}`.", ""]
    parts += [to_markdown(t) + "\n" for t in paper_tables(table)]
    if table.notes:
        parts += ["### Flags", "", *(f"- {n}" for n in table.notes), ""]
    parts += [f"Full breakdowns and coverage: `{table.results}`."]
    return "\n".join(parts).rstrip() + "\n"


def write_paper(table: PaperTable, out: Path, png: bytes) -> list[Path]:
    """OUT/paper.md, paper.png and paper.json (replaced on every run: they are read from the stores)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "paper.md", out / "paper.png", out / "paper.json"]
    write_text_atomic(paths[0], paper_markdown(table))
    paths[1].write_bytes(png)
    write_text_atomic(paths[2], table.model_dump_json(indent=2))
    return paths
