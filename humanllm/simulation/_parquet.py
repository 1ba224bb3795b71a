"""Parquet export of a store or split folder: `OUT/<split>.parquet` per split with rows, and a dataset card.

The JSONL shards are read with `datasets`' own JSON loader (so maps with free keys, like a
scenario's `char2pattern`, become `Json` columns instead of one struct field per character name)
into a throw-away cache beside OUT, and each split is written to a temporary file that replaces
`OUT/<split>.parquet` in one step. `datasets.load_dataset(OUT)` then reads the same splits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from humanllm.core import atomic_path, check_output_dir, check_output_file
from humanllm.errors import DataError
from humanllm.simulation._card import CARD_FILE, read_front_matter, write_card
from humanllm.simulation._card_data import card_data
from humanllm.simulation._split_plan import SPLITS


class ParquetReport(BaseModel):
    """What `export_parquet` wrote."""

    files: dict[str, int] = Field(description="Parquet file -> rows.")
    card: str = Field(description="The dataset card written beside them.")


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No progress bars from `datasets` while exporting (the CLI prints its own summary)."""
    from datasets.utils import logging as datasets_logging

    was_enabled = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            datasets_logging.enable_progress_bar()


def export_parquet(source: Path, out: Path, *, force: bool = False) -> ParquetReport:
    """Write the splits of `source` (a split folder's splits; a store's episodes as `train`) as Parquet into `out`.

    An existing `OUT/<split>.parquet` needs `force` (and a forced export removes the split files of
    an earlier export that this one has no rows for); a source with no episodes is a `DataError`.
    """
    data = card_data(source)
    if data.kind == "export":
        raise DataError(f"{source} is a Parquet export already: give the store or split folder it came from")
    default = next((c for c in data.configs if c.name == "default"), None)
    if default is None:
        raise DataError(f"{source} has no episodes to export: generate some with `humanllm generate --out STORE` first")
    check_output_dir(out)
    targets = {split.name: out / f"{split.name}.parquet" for split in default.splits}
    for target in targets.values():
        check_output_file(target, force=force)
    card = read_front_matter(source / CARD_FILE)
    license = str(card[0].get("license")) if card and card[1] and card[0].get("license") else None
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, int] = {}
    import datasets

    # one load for all splits, the largest first: `datasets` infers the columns from the first split
    # (a map with free keys is only recognised as `Json` across several rows) and casts the others to them
    largest_first = sorted(default.splits, key=lambda split: -split.rows)
    data_files = {split.name: [str(path) for path in sorted(source.glob(split.path))] for split in largest_first}
    with _quiet_datasets(), tempfile.TemporaryDirectory(prefix=".humanllm-parquet-", dir=out) as cache:
        tables = datasets.load_dataset("json", data_files=data_files, cache_dir=cache)
        assert isinstance(tables, datasets.DatasetDict)
        for split in default.splits:
            with atomic_path(targets[split.name]) as temporary:
                tables[split.name].to_parquet(str(temporary))
            files[str(targets[split.name])] = tables[split.name].num_rows
    for stale in SPLITS:
        if stale not in targets and force:
            (out / f"{stale}.parquet").unlink(missing_ok=True)
    return ParquetReport(files=files, card=str(write_card(out, license=license, force=force)))
