"""The authors' released split files (REFERENCE §4) read into episodes, in every shape their scripts write.

Their generators collapse a one-pattern bundle to a string (or write the bundle's `a + b` name),
keep decorated profile names (see `_released_names`), write `conversation` as a list of `{char,
content}` or as one `Name: ...` text, and save each split as one JSON array named after it
(`train.json`, `id_eval.json`, ...; `metadata.json` beside them is not a record file). A record
that cannot be read is reported with its place and why; it never stops the import.

An imported episode has no generation spec (it was not generated here): its id is the hash of its
record as `episode_to_released` writes it, so the same scenario gets the same id however the file
spelled it, and import -> export -> import gives the same episodes.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from humanllm.core import Episode, as_object, read_text_file
from humanllm.errors import DataError
from humanllm.simulation._released_record import episode_from_released, episode_to_released
from humanllm.simulation._splits import SPLITS

logger = logging.getLogger(__name__)

__all__ = ["ImportReport", "episode_from_released", "episode_to_released", "import_released", "read_records"]


class ImportReport(BaseModel):
    """What `import_released` read, kept, renamed and skipped."""

    read: int = Field(default=0, description="Records read.")
    imported: int = Field(default=0, description="Records that became episodes.")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Where a record is (`FILE[index]` or `FILE:line`) -> why it was not imported."
    )
    renamed: dict[str, str] = Field(
        default_factory=dict, description="A name as the files wrote it -> the one canonical name it was read as."
    )
    unmatched: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Where a record is -> names in char2pattern or a checklist that match no one in its cast "
        "(kept as written).",
    )
    splits: dict[str, int] = Field(default_factory=dict, description="Split label -> episodes imported with it.")
    unknown_fields: dict[str, int] = Field(
        default_factory=dict, description="A field outside the released schema (not imported) -> records that had it."
    )


_RELEASED_HINT = "give the authors' released split files (a JSON list, or JSONL, of scenario objects)"


def read_records(path: Path, *, allow_empty: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) from a JSON list (or one object) or a JSONL file; `DataError` for an unreadable or
    non-UTF-8 file, bad JSON (with its line), a record that is not an object, or (unless `allow_empty`)
    a file with no records."""
    text = read_text_file(path, what="released file")
    stripped = text.lstrip()
    rows: list[tuple[str, str, Any]] = []  # (label, where, value)
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not JSON at line {exc.lineno}: {exc.msg}; {_RELEASED_HINT}") from exc
        rows = [(f"{path}[{index}]", f"{path}: record {index}", row) for index, row in enumerate(data)]
    else:
        try:
            rows = [(f"{path}[0]", f"{path}: the record", json.loads(text))] if stripped.startswith("{") else []
        except json.JSONDecodeError:  # not one object: JSONL
            rows = []
        if not rows:
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((f"{path}:{number}", f"{path}: the record on line {number}", json.loads(line)))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}: not JSON at line {number}: {exc.msg}; {_RELEASED_HINT}") from exc
    if not rows and not allow_empty:
        raise DataError(f"{path} holds no records: {_RELEASED_HINT}")
    for label, where, row in rows:
        yield label, as_object(row, where)


def split_files(folder: Path) -> list[Path]:
    """The split files of a folder the authors' split script wrote (`train.json`, `id_eval.json`, ...)."""
    found = [folder / f"{name}{suffix}" for name in SPLITS for suffix in (".json", ".jsonl")]
    files = [path for path in found if path.is_file()]
    if not files:
        names = ", ".join(f"{name}.json" for name in SPLITS)
        raise DataError(f"{folder} holds none of the split files {names}: {_RELEASED_HINT}")
    return files


def _split_label(path: Path) -> str | None:
    return path.stem if path.stem in SPLITS else None


def import_released(paths: list[Path]) -> tuple[list[Episode], ImportReport]:
    """Episodes from released files or split folders, and the report; a record that fails is skipped."""
    report = ImportReport()
    unknown: Counter[str] = Counter()
    episodes = []
    for given in paths:
        files = split_files(given) if given.is_dir() else [given]
        for path in files:
            for where, record in read_records(path, allow_empty=given.is_dir()):
                report.read += 1
                try:
                    read = episode_from_released(record, split=_split_label(path))
                except Exception as exc:  # any fault in one record skips that record, never the import
                    logger.debug("skipped %s", where, exc_info=True)
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    report.skipped[where] = reason
                    continue
                episodes.append(read.episode)
                report.imported += 1
                report.renamed.update(read.renamed)
                unknown.update(read.unknown_fields)
                if read.unmatched:
                    report.unmatched[where] = read.unmatched
                split = read.episode.config.get("split")
                if isinstance(split, str):
                    report.splits[split] = report.splits.get(split, 0) + 1
    report.unknown_fields = dict(sorted(unknown.items()))
    return episodes, report
