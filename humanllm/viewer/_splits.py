"""Which split each indexed episode is in, from the folder's split plans (`data split`'s `splits.json`).

An episode that carries its split (a benchmark play) or comes from a split file (`id_eval.jsonl`)
keeps that label. Otherwise a plan's `eval_ids` name the eval episodes, and the rest follow the
plan's rule (`humanllm.simulation.split_store`): no OOD pattern -> train, OOD and in-domain
patterns -> mixed_eval, only OOD patterns and not sampled -> `unsplit` (held out of every split).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from humanllm.errors import DataError
from humanllm.simulation import classify_patterns, read_plan

logger = logging.getLogger(__name__)

UNSPLIT = "unsplit"
SHORT = {"id": "id_eval", "ood": "ood_eval", "mixed": "mixed_eval"}
"""The short labels some records carry -> the split names."""


def _signature(folder: Path, plans: list[str]) -> str:
    parts = []
    for relative in plans:
        try:
            stat = (folder / relative).stat()
        except OSError:
            continue
        parts.append([relative, stat.st_size, stat.st_mtime_ns])
    return json.dumps(parts)


def _split_of(label: str, episode_id: str, patterns: list[str], eval_of: dict[str, str], ood: set[str] | None) -> str:
    if label:
        return SHORT.get(label, label)
    if episode_id in eval_of:
        return eval_of[episode_id]
    if ood is None:
        return ""
    if not patterns:
        return "train"
    # the plan's rule: only OOD patterns and not sampled into ood_eval -> held out of every split
    return {"ood_eval": UNSPLIT, "mixed_eval": "mixed_eval"}.get(classify_patterns(set(patterns), ood), "train")


def assign_splits(db: sqlite3.Connection, folder: Path, plans: list[str], *, new: bool) -> None:
    """Fill `episodes.split`: every row when the plans changed, else the rows not assigned yet (when `new`)."""
    signature = _signature(folder, plans)
    stored = db.execute("SELECT value FROM meta WHERE key = 'plans'").fetchone()
    changed = stored is None or stored[0] != signature
    if not changed and not new:
        return
    eval_of: dict[str, str] = {}
    ood: set[str] | None = None
    for relative in plans:
        try:
            plan = read_plan((folder / relative).parent)
        except DataError as exc:
            logger.warning("%s", exc)
            continue
        if plan is None:
            continue
        for name, ids in plan.eval_ids.items():
            for episode_id in ids:
                eval_of.setdefault(episode_id, name)
        if ood is None:
            ood = set(plan.ood_patterns)
    where = "" if changed else " WHERE split IS NULL"
    rows = db.execute(f"SELECT seq, id, label, patterns FROM episodes{where}").fetchall()
    db.executemany(
        "UPDATE episodes SET split = ? WHERE seq = ?",
        [(_split_of(r[2], r[1], json.loads(r[3]), eval_of, ood), r[0]) for r in rows],
    )
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('plans', ?)", (signature,))
