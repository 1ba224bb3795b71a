"""Annotation mode's ratings file: the JSONL rows `eval annotate-export` writes, with `human_score` and `rater` filled.

`humanllm eval alignment --human FILE` reads it as it reads a filled-in export. One row per (episode,
character, item, rater): a new rating is appended as one whole line (flushed and fsynced), a changed
one rewrites the file atomically (a temporary file, then a rename), both under a lock file beside it,
so two browser tabs or two viewers never interleave or lose a rating. The file is never inside a
served folder (the viewer does not write stores).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from humanllm.core import Episode, write_text_atomic
from humanllm.errors import ConfigError
from humanllm.evaluation import AnnotationItem, annotation_items
from humanllm.patterns import PatternLibrary

logger = logging.getLogger(__name__)

CHECKLIST_SCORES = ("1", "0", "-1", "n/a")
Key = tuple[str, str, str, str]


def _key(row: AnnotationItem) -> Key:
    return row.episode_id, row.character, row.item_id, row.rater


def items_for(episode: Episode, character: str, split: str, library: PatternLibrary) -> list[AnnotationItem]:
    """The rows `eval annotate-export` writes for this character (IPE, MPD and holistic items), unrated."""
    rows = annotation_items([(episode, split or "all")], library)
    return [row for row in rows if row.character == character]


def check_score(row: AnnotationItem, score: str) -> str:
    """The score as the file keeps it ("1", "0", "-1", "n/a", or 0-100 for holistic items); else ConfigError."""
    text = score.strip().lstrip("+")
    if row.scale == "0-100":
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 100:
            raise ConfigError(f"{row.item_id} takes 0-100, not {score!r}")
        return f"{value:g}"
    if text.lower() not in CHECKLIST_SCORES:
        raise ConfigError(f"{row.item_id} takes +1, 0, -1 or n/a, not {score!r}")
    return text.lower()


class RatingsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()

    def _file_lock(self) -> Any:
        from filelock import FileLock

        return FileLock(str(self.path) + ".lock", timeout=10)

    def rows(self) -> dict[Key, AnnotationItem]:
        """Every rating in the file (the last line of a key wins); lines that are not rows are skipped."""
        out: dict[Key, AnnotationItem] = {}
        if not self.path.is_file():
            return out
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    row = AnnotationItem.model_validate_json(line)
                except (ValidationError, ValueError):
                    logger.warning("%s: skipped a line that is not an annotation row", self.path)
                    continue
                out[_key(row)] = row
        return out

    def ratings(self, episode_id: str, character: str, rater: str) -> dict[str, str]:
        """item id -> score already given by `rater` to this character."""
        return {
            k[2]: row.human_score
            for k, row in self.rows().items()
            if k[0] == episode_id and k[1] == character and k[3] == rater
        }

    def save(self, row: AnnotationItem) -> bool:
        """Record one rating (the row with `human_score` and `rater` set); False when it was there already."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._mutex, self._file_lock():
            existing = self.rows()
            before = existing.get(_key(row))
            if before is not None and before.human_score == row.human_score:
                return False
            if before is None:
                self._append(row)
            else:
                existing[_key(row)] = row
                write_text_atomic(self.path, "".join(r.model_dump_json() + "\n" for r in existing.values()))
            return True

    def _append(self, row: AnnotationItem) -> None:
        with self.path.open("ab") as handle:
            if handle.tell() > 0:
                with self.path.open("rb") as peek:
                    peek.seek(-1, os.SEEK_END)
                    if peek.read(1) != b"\n":
                        handle.write(b"\n")  # a torn last line stays its own (skipped) line
            handle.write((row.model_dump_json() + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())


def rating_payload(data: object) -> tuple[str, str, str, str, str]:
    """(episode id, character, item id, score, rater) of a posted rating; ConfigError when malformed."""
    if not isinstance(data, dict):
        raise ConfigError("a rating is a JSON object")
    try:
        fields = tuple(str(data[k]) for k in ("episode_id", "character", "item_id", "score"))
    except KeyError as exc:
        raise ConfigError(f"a rating needs {exc.args[0]}") from exc
    rater = str(data.get("rater") or "").strip()[:80]
    return (*fields, rater)  # type: ignore[return-value]
