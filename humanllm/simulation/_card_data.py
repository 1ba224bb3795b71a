"""What a dataset card says about a folder: its configs (splits and `data_files` patterns), counts and models.

A store's config `default` is its episode shards (`episodes-*.jsonl`, one split `train`), `attempts`
its failed attempts when there are any, and each split folder directly inside it a config of its
own name; a split folder's `default` config names one file per split; a Parquet export's one file
per split. Only splits with rows are listed (`datasets` cannot load an empty split); `manifest.json`,
`splits.json`, locks, torn tails and judgements match none of the patterns. Counts are lines, as
`datasets.load_dataset` reads them (a repeated id is a row too, and is counted apart).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from humanllm.errors import DataError
from humanllm.redaction import redact
from humanllm.simulation._records import read_lines
from humanllm.simulation._split_plan import SPLITS, is_split_folder, read_plan

Kind = Literal["store", "split", "export"]


class CardSplit(BaseModel):
    """One split of a config: its name, its `data_files` pattern (relative to the card) and its rows."""

    name: str = Field(description="Split name (train, id_eval, ...).")
    path: str = Field(description="`data_files` glob relative to the card's folder (`*` stays within a folder).")
    rows: int = Field(description="Rows `datasets` reads from it.")


class CardConfig(BaseModel):
    """One `configs:` entry of the card."""

    name: str = Field(description="Config name (`default` loads without naming it).")
    splits: list[CardSplit] = Field(default_factory=list, description="Splits with rows, in order.")


class CardData(BaseModel):
    """Everything the card template shows about a folder."""

    kind: Kind = Field(description="store, split (a `data split` folder) or export (Parquet).")
    configs: list[CardConfig] = Field(default_factory=list, description="Configs with at least one split.")
    empty_splits: list[str] = Field(default_factory=list, description="Splits left out because they have no rows.")
    models: dict[str, list[str]] = Field(default_factory=dict, description="Role -> model specs used (no secrets).")
    patterns: int = Field(default=0, description="Distinct patterns held by the default config's episodes.")
    situations: list[str] = Field(default_factory=list, description="Situations of the default config's episodes.")
    duplicates: int = Field(default=0, description="Lines repeating an id of the default config.")
    ood_patterns: list[str] = Field(default_factory=list, description="The split's OOD patterns, if a split folder.")


class _Tally:
    """Rows, duplicate ids, models, patterns and situations of records streamed past it."""

    def __init__(self) -> None:
        self.rows = 0
        self.duplicates = 0
        self.ids: set[str] = set()
        self.models: dict[str, set[str]] = {}
        self.patterns: set[str] = set()
        self.situations: set[str] = set()

    def add(self, record: dict[str, Any]) -> None:
        self.rows += 1
        episode_id = str(record.get("id", ""))
        self.duplicates += episode_id in self.ids
        self.ids.add(episode_id)
        models = record.get("models")
        if isinstance(models, str):  # a Parquet export keeps free-key maps as JSON text
            models = json.loads(models)
        for role, spec in (models or {}).items():
            if spec:
                self.models.setdefault(str(role), set()).add(redact(str(spec)))
        scenario = record.get("scenario") or {}
        self.patterns.update(str(p) for p in scenario.get("patterns") or [])
        if scenario.get("situation"):
            self.situations.add(str(scenario["situation"]))

    def merge_into(self, data: CardData) -> None:
        for role, specs in self.models.items():
            data.models[role] = sorted({*data.models.get(role, []), *specs})


def _jsonl_records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        for number, raw in read_lines(path):
            try:
                record = json.loads(raw)
            except ValueError as exc:
                raise DataError(f"{path}:{number}: not a JSON record ({exc}); move the file aside") from exc
            if isinstance(record, dict):
                yield record


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    columns = [c for c in ("id", "models", "scenario") if c in handle.schema_arrow.names]
    for batch in handle.iter_batches(columns=columns):
        yield from batch.to_pylist()


def _tally(records: Iterable[dict[str, Any]]) -> _Tally:
    tally = _Tally()
    for record in records:
        tally.add(record)
    return tally


def _split_config(folder: Path, name: str, prefix: str) -> tuple[CardConfig, list[str], _Tally]:
    """The config of a split folder's files, its empty splits, and the tally of all its records."""
    config = CardConfig(name=name)
    empty = []
    whole = _Tally()
    for split in SPLITS:
        path = folder / f"{split}.jsonl"
        if not path.is_file():
            continue
        before = whole.rows
        for record in _jsonl_records([path]):
            whole.add(record)
        if whole.rows > before:
            config.splits.append(CardSplit(name=split, path=f"{prefix}{split}.jsonl", rows=whole.rows - before))
        else:
            empty.append(split)
    return config, empty, whole


def _split_data(folder: Path) -> CardData:
    config, empty, whole = _split_config(folder, "default", "")
    data = CardData(kind="split", configs=[config] if config.splits else [], empty_splits=empty)
    whole.merge_into(data)
    data.duplicates = whole.duplicates
    data.patterns, data.situations = len(whole.patterns), sorted(whole.situations)
    plan = read_plan(folder)
    data.ood_patterns = list(plan.ood_patterns) if plan else []
    return data


def _one_split(name: str, pattern: str, rows: int) -> CardConfig:
    return CardConfig(name=name, splits=[CardSplit(name="train", path=pattern, rows=rows)])


def _store_data(folder: Path) -> CardData:
    data = CardData(kind="store")
    episodes = sorted(folder.glob("episodes-*.jsonl"))
    tally = _tally(_jsonl_records(episodes))
    tally.merge_into(data)
    data.duplicates = tally.duplicates
    data.patterns, data.situations = len(tally.patterns), sorted(tally.situations)
    if tally.rows:
        data.configs.append(_one_split("default", "episodes-*.jsonl", tally.rows))
    attempts = sum(1 for _ in _jsonl_records(sorted(folder.glob("attempts-*.jsonl"))))
    if attempts:
        data.configs.append(_one_split("attempts", "attempts-*.jsonl", attempts))
    taken = {c.name for c in data.configs}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name in taken or not is_split_folder(sub):
            continue
        config, _, tally = _split_config(sub, sub.name, f"{sub.name}/")
        tally.merge_into(data)
        if config.splits:
            data.configs.append(config)
    return data


def _export_data(folder: Path) -> CardData:
    data = CardData(kind="export")
    config = CardConfig(name="default")
    whole = _Tally()
    order = {name: index for index, name in enumerate(SPLITS)}
    for path in sorted(folder.glob("*.parquet"), key=lambda p: (order.get(p.stem, len(order)), p.stem)):
        tally = _tally(_parquet_records(path))
        whole.patterns |= tally.patterns
        whole.situations |= tally.situations
        tally.merge_into(data)
        if tally.rows:
            config.splits.append(CardSplit(name=path.stem, path=path.name, rows=tally.rows))
        else:
            data.empty_splits.append(path.stem)
    data.configs = [config] if config.splits else []
    data.patterns, data.situations = len(whole.patterns), sorted(whole.situations)
    return data


def folder_kind(folder: Path) -> Kind:
    """What `folder` is, from its files; a `DataError` saying what to give when it is none of them."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give a store, a split folder or a Parquet export")
    if is_split_folder(folder):
        return "split"
    if any(folder.glob("episodes-*.jsonl")) or (folder / "manifest.json").is_file():
        return "store"
    if any(folder.glob("*.parquet")):
        return "export"
    raise DataError(
        f"{folder} holds no episodes: give a store (`humanllm generate --out DIR`), a split folder "
        "(`humanllm data split`) or a Parquet export (`humanllm data export --format parquet`)"
    )


def card_data(folder: Path) -> CardData:
    """The card's facts about a store, split folder or Parquet export (streamed: only ids are held)."""
    kind = folder_kind(folder)
    if kind == "split":
        return _split_data(folder)
    if kind == "store":
        return _store_data(folder)
    return _export_data(folder)
