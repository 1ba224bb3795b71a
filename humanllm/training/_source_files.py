"""The files of one mixing source: a file, a folder of data files, or a glob (several shards)."""

from __future__ import annotations

import glob
from pathlib import Path

from humanllm.errors import DataError

DATA_SUFFIXES = (".parquet", ".jsonl", ".json")
"""What counts as a data file in a folder or among a glob's matches."""
_MAGIC = frozenset("*?[")


def _data_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in DATA_SUFFIXES


def source_files(path: Path) -> list[Path]:
    """The data files of `path`, in name order: the file itself, a folder's data files, or a glob's.

    A folder is read one level deep; a glob may use `**` to go deeper. Among a folder's files and a
    glob's matches only .parquet, .jsonl and .json files count (so a dataset snapshot's README and
    .gitattributes are left alone). A glob or folder that yields no data file is a `DataError`.
    """
    text = str(path)
    suffixes = ", ".join(DATA_SUFFIXES)
    if _MAGIC & set(text):
        found = sorted(p for p in map(Path, glob.glob(text, recursive=True)) if _data_file(p))
        if not found:
            raise DataError(
                f"no {suffixes} file matches {text!r}: check the pattern, and quote it so the shell leaves it alone"
            )
        return found
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if _data_file(p))
        if not found:
            raise DataError(f"folder {path} holds no {suffixes} file; give a file, a folder of shards or a glob")
        return found
    return [path]  # a missing file fails when it is read, with the reader's one-line error
