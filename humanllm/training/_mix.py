"""Mixing SFT sources in exact ratios (e.g. HumanLLM 4 : OpenThoughts 4 : CoSER 2).

A source is a local file (json, jsonl, parquet), a folder of such files or a glob over them (a
dataset shipped as several shards), in ShareGPT (`conversations` with from/value, optional `system`)
or chat-messages (`messages` with role/content) form; both are normalised to messages.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from humanllm.core import as_object, read_text_file, write_text_atomic
from humanllm.errors import ConfigError, DataError
from humanllm.training._source_files import source_files

_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "model": "assistant",
}
_SOURCE = re.compile(r"^(?P<name>[\w.-]+)=(?P<path>.+?):(?P<weight>\d+(?:\.\d+)?)$")


class Source(BaseModel):
    name: str
    path: Path = Field(description="A data file, a folder of data files, or a glob such as 'ot/data/*.parquet'.")
    weight: float = Field(gt=0)


class MixReport(BaseModel):
    counts: dict[str, int]
    available: dict[str, int]
    total: int
    files: dict[str, list[str]] = Field(default_factory=dict, description="The files read per source, in order.")


def parse_source(text: str) -> Source:
    """'name=PATH:weight' -> Source; PATH may be a file, a folder or a glob."""
    match = _SOURCE.match(text.strip())
    if not match:
        raise ConfigError(
            f"--source takes NAME=PATH:WEIGHT, PATH a file, folder or glob (e.g. humanllm=data/sft.jsonl:4 or "
            f"'openthoughts=ot/data/*.parquet:4'), not {text!r}"
        )
    if float(match["weight"]) <= 0:
        raise ConfigError(f"--source {text!r}: the weight must be above 0")
    return Source(name=match["name"], path=Path(match["path"]), weight=float(match["weight"]))


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a json (a list), jsonl or parquet file; `DataError` for an unreadable, non-UTF-8 or
    non-JSON file (with its line), a row that is not an object, and a file with no rows."""
    if path.suffix.lower() == ".parquet":
        if not path.is_file():
            read_text_file(path, what="SFT data")  # the one-line error for a missing file or a folder
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            rows: list[Any] = pq.read_table(path).to_pylist()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"SFT data {path} is not a readable parquet file ({exc}); re-export it") from exc
    else:
        text = read_text_file(path, what="SFT data")
        if text.lstrip().startswith("["):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"SFT data {path} is not JSON at line {exc.lineno}: {exc.msg}") from exc
            rows = data if isinstance(data, list) else [data]
            for index, row in enumerate(rows):
                as_object(row, f"{path}: row {index}")
        else:
            rows = []  # JSONL (also accepted under a .json name, as many released files are)
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(as_object(json.loads(line), f"{path}: the row on line {number}"))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"SFT data {path} is not JSON at line {number}: {exc.msg}") from exc
    if not rows:
        raise DataError(
            f"SFT data {path} has no rows (an empty file?): give ShareGPT or chat-messages rows, "
            "e.g. from `humanllm data export-sft`"
        )
    return rows


def to_messages(row: dict[str, Any], where: str) -> dict[str, Any]:
    """Normalise a ShareGPT or messages row to `{"messages": [{role, content}]}`."""
    try:
        if "messages" in row:
            turns = [
                {"role": _ROLES.get(m["role"], m["role"]), "content": m.get("content") or ""} for m in row["messages"]
            ]
        elif "conversations" in row:
            turns = [
                {"role": _ROLES.get(m["from"], m["from"]), "content": m.get("value") or ""}
                for m in row["conversations"]
            ]
            if row.get("system"):
                turns.insert(0, {"role": "system", "content": row["system"]})
        else:
            raise DataError(f"{where}: a row needs 'messages' (chat format) or 'conversations' (ShareGPT)")
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(
            f"{where}: a turn is not {{role, content}} (messages) or {{from, value}} (ShareGPT) ({exc!r})"
        ) from exc
    if not any(t["role"] == "assistant" for t in turns):
        raise DataError(f"{where}: a row has no assistant turn")
    return {"messages": turns}


def exact_counts(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split `total` by weight with the largest-remainder method (sums to `total` exactly)."""
    whole = sum(weights.values())
    raw = {k: total * w / whole for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    order = list(raw)  # ties go to the source listed first
    by_remainder = sorted(order, key=lambda k: (-(raw[k] - counts[k]), order.index(k)))
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def mix(sources: list[Source], out: Path, *, total: int | None = None, seed: int = 0) -> MixReport:
    """Sample each source without replacement in the exact ratio and write shuffled JSONL messages.

    A source's rows are its files' rows in file-name order, so a seed gives the same mix every time."""
    if not sources:
        raise ConfigError("give at least one --source NAME=PATH:WEIGHT")
    names = [s.name for s in sources]
    if twice := next((n for n in names if names.count(n) > 1), None):
        raise ConfigError(f"source {twice!r} is given twice: give each name once (a folder or a glob takes many files)")
    files = {s.name: source_files(s.path) for s in sources}
    rows = {
        name: [to_messages(r, f"{f}[{i}]") for f in paths for i, r in enumerate(read_rows(f))]
        for name, paths in files.items()
    }
    weights = {s.name: s.weight for s in sources}
    if total is None:  # the largest total every source can fill
        total = int(min(len(rows[name]) * sum(weights.values()) / w for name, w in weights.items()))
    counts = exact_counts(weights, total)
    short = {name: (counts[name], len(rows[name])) for name in counts if counts[name] > len(rows[name])}
    if short:
        detail = ", ".join(f"{n} needs {need} but has {have}" for n, (need, have) in short.items())
        raise DataError(f"not enough rows for total {total}: {detail}; lower --total or the weights")
    rng = random.Random(seed)
    picked = [row for name in sorted(rows) for row in rng.sample(rows[name], counts[name])]
    rng.shuffle(picked)
    write_text_atomic(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked))
    return MixReport(
        counts=counts,
        available={n: len(r) for n, r in rows.items()},
        total=total,
        files={n: [str(f) for f in paths] for n, paths in files.items()},
    )
