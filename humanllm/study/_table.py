"""The tidy table of a study: one row per episode x character x judge run x item.

Everything the analysis needs is in the rows (the cell's factor levels included), so it is pure code over
this table: `analyse(table, ...)` in `_analysis.py`. Columns, in order (`base_columns(factors)`):

    study       str    the design's name
    cell        str    the cell's label, e.g. "anxious=1 pushback=0"
    <factor>    int    one column per factor, in design order: 1 given, 0 withheld (or swapped)
    replicate   int    0-based replicate of the cell
    episode_id  str
    character   str    the judged character
    judge       str    judge model spec
    run         int    the judge run (0-based)
    item_id     str    e.g. "ipe.sunk_cost_fallacy.2", "mpd.3"
    metric      str    "ipe" or "mpd"
    pattern     str    the IPE item's pattern name; "" for MPD items
    carried     bool   the character was given `pattern` in this cell (False for MPD items)
    status      str    "scored", "n/a" or "unscored"
    score       float  -1.0, 0.0 or 1.0 when scored; NaN otherwise
    reason      str    the judge's reason
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from humanllm.core import Metric, Verdict

if TYPE_CHECKING:
    import pandas as pd

    from humanllm.evaluation import Judgement

FIXED_BEFORE = ("study", "cell")
FIXED_AFTER = (
    "replicate",
    "episode_id",
    "character",
    "judge",
    "run",
    "item_id",
    "metric",
    "pattern",
    "carried",
    "status",
    "score",
    "reason",
)


def base_columns(factors: Sequence[str]) -> list[str]:
    """The table's columns for a design with these factor names."""
    return [*FIXED_BEFORE, *factors, *FIXED_AFTER]


def verdict_status(verdict: Verdict | None) -> str:
    if verdict is None or not verdict.answered:
        return "unscored"
    return "scored" if verdict.scored else "n/a"


def judgement_rows(
    judgement: Judgement,
    *,
    study: str,
    cell: str,
    levels: Mapping[str, int],
    replicate: int,
    given: Sequence[str],
) -> Iterable[dict[str, Any]]:
    """The table rows of one judgement of one cell episode; `given`: the patterns the character was given."""
    by_id = {v.item_id: v for v in judgement.verdicts}
    held = set(given)
    for item in judgement.items:
        verdict = by_id.get(item.id)
        status = verdict_status(verdict)
        yield {
            "study": study,
            "cell": cell,
            **levels,
            "replicate": replicate,
            "episode_id": judgement.episode_id,
            "character": judgement.character,
            "judge": judgement.judge,
            "run": judgement.run,
            "item_id": item.id,
            "metric": item.metric.value,
            "pattern": item.pattern or "",
            "carried": item.metric is Metric.IPE and (item.pattern or "") in held,
            "status": status,
            "score": float(verdict.score) if verdict is not None and verdict.score is not None else float("nan"),
            "reason": verdict.reason if verdict is not None else "",
        }


def frame(rows: Iterable[Mapping[str, Any]], factors: Sequence[str]) -> pd.DataFrame:
    """The rows as a DataFrame with the table's columns and dtypes (an empty study gives an empty table)."""
    import pandas as pd

    columns = base_columns(factors)
    table = pd.DataFrame(list(rows), columns=columns)
    dtypes: dict[str, Any] = {name: "int64" for name in factors}
    dtypes.update({"replicate": "int64", "run": "int64", "carried": "bool", "score": "float64"})
    return table.astype(dtypes)
