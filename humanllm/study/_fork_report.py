"""The turn-by-turn comparison of a fork: how its continuations differ from the original, and from each other.

Pure code over stored judgements. Each judgement is of a truncated transcript `<base>@<t>` (turns 1..t),
where `<base>` is the original's judged id or a continuation's id. For every character x item x turn t
(and once more at the end of each transcript, `turn=None`, since continuations need not be as long as the
original) a row gives the original's score (the mean over judge runs), and over every scored judgement of
the continuations (replicates x judge runs) the mean, min, max and agreement: the share equal to the most
common score. An item *diverges* by the end when its continuations' mean lies at least `DIVERGENCE` from
the original's score. Written as `fork.csv` and `fork.md`, each replaced atomically.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from humanllm.core import ChecklistItem, write_text_atomic
from humanllm.evaluation import Judgement

DIVERGENCE = 0.5
"""How far (on the -1..+1 scale) the continuations' mean must end from the original's score to diverge."""
CSV_FILE = "fork.csv"
MARKDOWN_FILE = "fork.md"


class ForkRow(BaseModel):
    """One character x item x turn of the comparison."""

    model_config = ConfigDict(extra="forbid")

    character: str
    item_id: str
    metric: str = Field(description="ipe or mpd.")
    pattern: str = Field(description="The IPE item's pattern; empty for MPD items.")
    question: str
    turn: int | None = Field(description="Judged on turns 1..turn; None: on each whole transcript (the end).")
    original: float | None = Field(description="The original's score (mean over judge runs); None: not scored.")
    original_n: int = Field(description="The original's scored judgements.")
    mean: float | None = Field(description="The continuations' mean score; None: none scored.")
    min: float | None
    max: float | None
    agreement: float | None = Field(description="Share of the continuations' scores equal to the most common one.")
    n: int = Field(description="The continuations' scored judgements (replicates x runs).")
    reached: int = Field(description="Continuations judged at this turn (a short one ends before it).")
    diverges: bool = Field(description="The mean lies at least DIVERGENCE from the original's score.")

    @property
    def difference(self) -> float | None:
        return None if self.mean is None or self.original is None else self.mean - self.original


@dataclass
class _Cell:
    original: list[int] = field(default_factory=list)
    continued: list[int] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)


def _split_id(episode_id: str) -> tuple[str, int] | None:
    base, at, turn = episode_id.rpartition("@")
    return (base, int(turn)) if at and turn.isdigit() else None


def fork_rows(
    judgements: Iterable[Judgement],
    *,
    original: str,
    continuations: Sequence[str],
    na_as_zero: bool = False,
    threshold: float = DIVERGENCE,
    characters: Sequence[str] = (),
) -> list[ForkRow]:
    """The comparison rows, per character (in `characters` order, others after as first judged), item (checklist
    order) and turn (then the end)."""
    wanted = set(continuations)
    kept: list[tuple[Judgement, str, int]] = []
    last: dict[str, int] = {}
    for judgement in judgements:
        parsed = _split_id(judgement.episode_id)
        if parsed is None or (parsed[0] != original and parsed[0] not in wanted):
            continue
        base, turn = parsed
        kept.append((judgement, base, turn))
        last[base] = max(last.get(base, 0), turn)
    cells: dict[tuple[str, str, int | None], _Cell] = defaultdict(_Cell)
    items: dict[tuple[str, str], ChecklistItem] = {}
    for judgement, base, turn in kept:
        by_id = {v.item_id: v for v in judgement.verdicts}
        for item in judgement.items:
            items.setdefault((judgement.character, item.id), item)
            verdict = by_id.get(item.id)
            value = verdict.value(na_as_zero=na_as_zero) if verdict is not None else None
            for key in [turn, None] if turn == last[base] else [turn]:
                cell = cells[(judgement.character, item.id, key)]
                if base == original:
                    if value is not None:
                        cell.original.append(value)
                else:
                    cell.reached.add(base)
                    if value is not None:
                        cell.continued.append(value)
    turns: list[int | None] = [*sorted({turn for _, _, turn in kept}), None]
    order = {name: index for index, name in enumerate(characters)}
    rows = []
    ranked = sorted(items.items(), key=lambda entry: order.get(entry[0][0], len(order)))  # stable: checklist order
    for (character, item_id), item in ranked:
        for at in turns:
            found = cells.get((character, item_id, at))
            if found is not None:
                rows.append(_row(character, item, at, found, threshold))
    return rows


def _row(character: str, item: ChecklistItem, turn: int | None, cell: _Cell, threshold: float) -> ForkRow:
    scores = cell.continued
    original = sum(cell.original) / len(cell.original) if cell.original else None
    mean = sum(scores) / len(scores) if scores else None
    agreement = Counter(scores).most_common(1)[0][1] / len(scores) if scores else None
    diverges = mean is not None and original is not None and abs(mean - original) >= threshold - 1e-9
    return ForkRow(
        character=character,
        item_id=item.id,
        metric=item.metric.value,
        pattern=item.pattern or "",
        question=item.question,
        turn=turn,
        original=original,
        original_n=len(cell.original),
        mean=mean,
        min=float(min(scores)) if scores else None,
        max=float(max(scores)) if scores else None,
        agreement=agreement,
        n=len(scores),
        reached=len(cell.reached),
        diverges=diverges,
    )


# --- files ---------------------------------------------------------------------------------------------------

CSV_COLUMNS = tuple(ForkRow.model_fields)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def fork_csv(rows: Sequence[ForkRow]) -> str:
    """The rows as CSV, one per character x item x turn (`end` for the whole transcripts)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.model_dump()
        values["turn"] = "end" if row.turn is None else row.turn
        for name in ("original", "mean", "min", "max", "agreement"):
            values[name] = _number(values[name])
        values["diverges"] = "yes" if row.diverges else "no"
        writer.writerow([values[name] for name in CSV_COLUMNS])
    return buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return "0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def fork_markdown(
    rows: Sequence[ForkRow],
    *,
    source: str,
    at_turn: int,
    change: str,
    continuations: Sequence[str],
    original: str,
    judge: str,
    threshold: float = DIVERGENCE,
) -> str:
    """The report: what was forked, the items that end away from the original, then every item turn by turn."""
    lines = [
        f"# Fork of episode {source} at turn {at_turn}",
        "",
        f"- Change: {_cell(change)}",
        f"- Continuations: {len(continuations)} ({', '.join(continuations) or 'none finished'})",
        f"- Judge: {judge}; the original is judged as `{original}@t`, each continuation as `<id>@t` (turns 1..t)",
        "- Scores: +1 shown, 0 not shown, -1 the opposite shown. Continuations: the mean over replicates x judge "
        "runs (min..max); agreement is the share equal to the most common score.",
        "",
        f"## By the end: items that diverge from the original (|mean - original| >= {threshold:g})",
        "",
    ]
    ends = [row for row in rows if row.turn is None]
    diverging = sorted((r for r in ends if r.diverges), key=lambda r: -abs(r.difference or 0.0))
    if diverging:
        lines += [
            "| character | item | pattern | question | original | continuations | range | agreement |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {_cell(r.character)} | {r.item_id} | {_cell(r.pattern)} | {_cell(r.question)} | {_signed(r.original)} "
            f"| {_signed(r.mean)} | {_signed(r.min)}..{_signed(r.max)} | {_percent(r.agreement)} |"
            for r in diverging
        ]
    else:
        lines.append(f"No item diverges: of {len(ends)} items, every continuation mean ends within {threshold:g}.")
    turns = sorted({r.turn for r in rows if r.turn is not None})
    for character in dict.fromkeys(r.character for r in rows):
        lines += ["", f"## Turn by turn: {_cell(character)} (original → continuations' mean)", ""]
        header = ["item", *[f"t{t}" for t in turns], "end"]
        lines += ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
        by_item: dict[str, dict[int | None, ForkRow]] = {}
        for row in rows:
            if row.character == character:
                by_item.setdefault(row.item_id, {})[row.turn] = row
        for item_id, cells in by_item.items():
            shown = [_pair(cells.get(t)) for t in [*turns, None]]
            lines.append(f"| {item_id} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


def _pair(row: ForkRow | None) -> str:
    if row is None:
        return ""
    mark = " **≠**" if row.diverges else ""
    return f"{_signed(row.original)} → {_signed(row.mean)}{mark}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def write_fork_report(
    out: Path,
    rows: Sequence[ForkRow],
    *,
    source: str,
    at_turn: int,
    change: str,
    continuations: Sequence[str],
    original: str,
    judge: str,
) -> list[Path]:
    """Write `fork.csv` and `fork.md` into `out` (each through a temporary file, then renamed); returns them."""
    csv_path, md_path = out / CSV_FILE, out / MARKDOWN_FILE
    write_text_atomic(csv_path, fork_csv(rows))
    text = fork_markdown(
        rows,
        source=source,
        at_turn=at_turn,
        change=change,
        continuations=continuations,
        original=original,
        judge=judge,
    )
    write_text_atomic(md_path, text)
    return [csv_path, md_path]
