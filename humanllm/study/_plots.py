"""A study's pictures as PNGs (matplotlib's Agg canvas: no display, no global backend switch).

- `expression.png`: every outcome's mean in every cell (a heatmap; a dot marks cells where the character
  carried the outcome's pattern);
- `interaction-F-G.png` per factor pair (factorial designs): x = F's level, one line per level of G, y = the
  outcome's mean over the other factors with its interval; one panel per outcome, the most affected first;
- `interactions.png` (factorial designs): the pairwise interaction effects, pairs x outcomes;
- `forest.png` (`forest-2.png`, ... when long): every effect with its interval.

An interval that is not there (one replicate) is left out: the point alone is drawn.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humanllm.study._results import Effect, PairMean, StudyAnalysis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_PANELS = 6
"""Outcomes shown per interaction plot: those with the largest interactions."""
FOREST_ROWS = 45
"""Effects per forest picture; more go on further pictures."""
PLOT_PREFIXES = ("expression", "interaction-", "interactions", "forest")
"""What the file names this module writes start with (a report clears stale ones)."""


def plot_pngs(analysis: StudyAnalysis) -> dict[str, bytes]:
    """Every picture of the analysis as PNG bytes, by file name (no interaction pictures without interactions).

    Text from the data is drawn as it is: `$` in a pattern or factor name starts no mathtext."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _draw(analysis)


def _draw(analysis: StudyAnalysis) -> dict[str, bytes]:
    pictures: dict[str, bytes] = {}
    if analysis.outcomes and analysis.expression:
        pictures["expression.png"] = _png(_expression_figure(analysis))
    if analysis.interactions_estimated and analysis.interactions:
        for first, second in _pairs(analysis):
            name = f"interaction-{_file_part(first)}-{_file_part(second)}.png"
            pictures[_unique(name, pictures)] = _png(_interaction_figure(analysis, first, second))
        pictures["interactions.png"] = _png(_interaction_heatmap(analysis))
    effects = [effect for effect in analysis.effects if effect.estimate is not None]
    for index in range(0, len(effects), FOREST_ROWS):
        name = "forest.png" if index == 0 else f"forest-{index // FOREST_ROWS + 1}.png"
        pictures[name] = _png(_forest_figure(effects[index : index + FOREST_ROWS], analysis.settings.confidence))
    return pictures


def write_plots(analysis: StudyAnalysis, folder: Path, *, pictures: dict[str, bytes] | None = None) -> list[Path]:
    """Write the pictures (`plot_pngs(analysis)` unless given) into `folder`, each atomically, and remove the
    pictures of an earlier report there that this one does not have; the paths written."""
    from humanllm.core import write_bytes_atomic

    drawn = plot_pngs(analysis) if pictures is None else pictures
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in drawn.items():
        write_bytes_atomic(folder / name, data)
        written.append(folder / name)
    for stale in folder.glob("*.png"):
        if stale.name not in drawn and stale.name.startswith(PLOT_PREFIXES):
            stale.unlink()
    return written


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _expression_figure(analysis: StudyAnalysis) -> Figure:
    import numpy as np

    outcomes = [outcome.label for outcome in analysis.outcomes]
    cells = [cell.label for cell in analysis.cells]
    grid = np.full((len(cells), len(outcomes)), np.nan)
    carried = np.zeros_like(grid, dtype=bool)
    for row in analysis.expression:
        r, c = cells.index(row.cell), outcomes.index(row.outcome)
        grid[r, c] = np.nan if row.mean is None else row.mean
        carried[r, c] = bool(row.carried)
    figure = _figure(1.2 + 0.9 * len(outcomes), 1.6 + 0.45 * len(cells))
    axis = figure.subplots()
    image = axis.imshow(np.ma.masked_invalid(grid), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for r, c in np.ndindex(grid.shape):
        text = "n/a" if np.isnan(grid[r, c]) else f"{grid[r, c]:+.2f}" + (" •" if carried[r, c] else "")
        axis.text(c, r, text, ha="center", va="center", fontsize="small", color=_ink(float(grid[r, c]), 1.0))
    axis.set_xticks(range(len(outcomes)), _wrap(outcomes), rotation=30, ha="right", fontsize="small")
    axis.set_yticks(range(len(cells)), cells, fontsize="small")
    axis.set_title("Expression per cell (• the character carried the pattern)", fontsize="medium")
    figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def _pairs(analysis: StudyAnalysis) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for effect in analysis.interactions:
        pair = (effect.factors[0], effect.factors[1])
        if pair not in seen:
            seen.append(pair)
    return seen


def _interaction_figure(analysis: StudyAnalysis, first: str, second: str) -> Figure:
    effects = [e for e in analysis.interactions if e.factors == [first, second]]
    effects.sort(key=lambda e: -abs(e.estimate) if e.estimate is not None else 1.0)
    shown = effects[:MAX_PANELS]
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    figure = _figure(3.4 * columns, 3.0 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.flat[len(shown) :]:
        axis.set_visible(False)
    means = [m for m in analysis.pair_means if set(m.levels) == {first, second}]
    for axis, effect in zip(axes.flat, shown, strict=False):
        for level, colour, shift in ((0, "tab:blue", -0.03), (1, "tab:orange", 0.03)):
            points = sorted(
                (m for m in means if m.outcome == effect.outcome and m.levels[second] == level),
                key=lambda m: m.levels[first],
            )
            _line_with_intervals(axis, points, first, colour, f"{second}={level}", shift)
        axis.set_xticks([0, 1], [f"{first}=0", f"{first}=1"])
        axis.set_xlim(-0.3, 1.3)
        axis.set_ylim(-1.1, 1.1)
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_title(f"{_short(effect.outcome)}\ninteraction {_signed(effect.estimate)}", fontsize="small")
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside upper right", fontsize="small")
    figure.suptitle(f"{first} x {second}: mean expression, other factors averaged", fontsize="medium")
    return figure


def _line_with_intervals(
    axis: Any, points: Sequence[PairMean], first: str, colour: str, label: str, shift: float
) -> None:
    shown = [p for p in points if p.mean is not None]
    xs = [p.levels[first] + shift for p in shown]
    ys = [p.mean for p in shown]
    axis.plot(xs, ys, marker="o", color=colour, label=label)
    with_ci = [p for p in shown if p.ci_low is not None and p.ci_high is not None and p.mean is not None]
    if with_ci:
        axis.errorbar(
            [p.levels[first] + shift for p in with_ci],
            [p.mean for p in with_ci],
            yerr=[[p.mean - p.ci_low for p in with_ci], [p.ci_high - p.mean for p in with_ci]],  # type: ignore[operator]
            fmt="none",
            ecolor=colour,
            capsize=4,
        )


def _interaction_heatmap(analysis: StudyAnalysis) -> Figure:
    import numpy as np

    pairs = [f"{a} x {b}" for a, b in _pairs(analysis)]
    outcomes = [outcome.label for outcome in analysis.outcomes]
    grid = np.full((len(pairs), len(outcomes)), np.nan)
    marks = np.zeros_like(grid, dtype=bool)
    for effect in analysis.interactions:
        r, c = pairs.index(effect.name), outcomes.index(effect.outcome)
        grid[r, c] = np.nan if effect.estimate is None else effect.estimate
        marks[r, c] = effect.significant
    limit = max(0.25, float(np.nanmax(np.abs(grid)))) if np.isfinite(grid).any() else 1.0
    figure = _figure(1.6 + 0.9 * len(outcomes), 1.6 + 0.45 * len(pairs))
    axis = figure.subplots()
    image = axis.imshow(np.ma.masked_invalid(grid), cmap="PuOr_r", vmin=-limit, vmax=limit, aspect="auto")
    for r, c in np.ndindex(grid.shape):
        text = "n/a" if np.isnan(grid[r, c]) else f"{grid[r, c]:+.2f}" + ("*" if marks[r, c] else "")
        axis.text(c, r, text, ha="center", va="center", fontsize="small", color=_ink(float(grid[r, c]), limit))
    axis.set_xticks(range(len(outcomes)), _wrap(outcomes), rotation=30, ha="right", fontsize="small")
    axis.set_yticks(range(len(pairs)), pairs, fontsize="small")
    axis.set_title("Pairwise interactions (difference of differences; * p < 0.05)", fontsize="medium")
    figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def _forest_figure(effects: Sequence[Effect], confidence: float) -> Figure:
    figure = _figure(7.5, 1.2 + 0.28 * len(effects))
    axis = figure.subplots()
    positions = list(range(len(effects)))[::-1]
    for y, effect in zip(positions, effects, strict=True):
        colour = "tab:red" if effect.kind == "interaction" else "tab:blue"
        assert effect.estimate is not None
        if effect.ci_low is not None and effect.ci_high is not None:
            axis.errorbar(
                [effect.estimate],
                [y],
                xerr=[[effect.estimate - effect.ci_low], [effect.ci_high - effect.estimate]],
                fmt="o",
                color=colour,
                capsize=3,
            )
        else:
            axis.plot([effect.estimate], [y], "o", color=colour)
    axis.set_yticks(positions, [f"{e.name} → {_short(e.outcome)}" for e in effects], fontsize="small")
    axis.axvline(0, color="black", linewidth=0.6)
    axis.set_xlabel(f"effect on expression ({confidence:.0%} interval; red: interactions)")
    axis.set_ylim(-0.8, len(effects) - 0.2)
    return figure


def _ink(value: float, limit: float) -> str:
    """White text on the dark ends of a diverging colour map, black elsewhere (and on a missing value)."""
    return "white" if value == value and abs(value) > 0.6 * limit else "black"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(labels: Sequence[str]) -> list[str]:
    return [_short(label, 30).replace(": ", ":\n", 1) for label in labels]


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "factor"


def _unique(name: str, taken: dict[str, bytes]) -> str:
    stem, suffix = name.rsplit(".", 1)
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{stem}-{index}.{suffix}", index + 1
    return candidate
