"""The episode store: a folder of append-only JSONL shards, safe against crashes.

Layout of a store folder:
- `episodes-<shard>.jsonl`: finished episodes, one `Episode` per line (loads with
  `datasets.load_dataset("json", data_files="DIR/episodes-*.jsonl")`);
- `attempts-<shard>.jsonl`: failed attempts, one `{id, attempt, reason, at}` per line: the record
  of what failed and why, kept in the store so `data status` and resumes see it;
- `manifest.json`: the resolved config (no secrets), counts and token usage, replaced atomically.

Each line is written whole, flushed and fsynced before the next, so a crash loses at most the
episodes in flight. A torn last line (a crash mid-write) is cut off when the store is opened.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import Episode, TokenUsage
from humanllm.errors import DataError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class Failure(BaseModel):
    """One failed attempt at an episode."""

    id: str
    attempt: int
    reason: str
    at: float = Field(default_factory=time.time)


def repair_torn_tail(path: Path) -> int:
    """Cut a partial last line (no trailing newline) off a JSONL file; returns bytes removed."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return 0
        # walk back to the last newline
        block = min(size, 1 << 20)
        position = size
        keep = 0
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline != -1:
                keep = start + newline + 1
                break
            position = start
        handle.truncate(keep)
    logger.warning("%s: removed a torn last line (%d bytes) left by an interrupted run", path, size - keep)
    return size - keep


class EpisodeStore:
    """Appends episodes and failures for one shard; reads every shard of the folder."""

    def __init__(self, root: Path, shard: str = "main") -> None:
        self.root = Path(root)
        self.shard = shard
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for path in [*self.root.glob("episodes-*.jsonl"), *self.root.glob("attempts-*.jsonl")]:
            repair_torn_tail(path)
        self._done = self._read_done_ids()

    # --- reading ------------------------------------------------------------------------------
    def episode_files(self) -> list[Path]:
        return sorted(self.root.glob("episodes-*.jsonl"))

    def _read_done_ids(self) -> set[str]:
        ids: set[str] = set()
        for path in self.episode_files():
            for number, line in enumerate(path.open(encoding="utf-8"), 1):
                try:
                    ids.add(json.loads(line)["id"])
                except (json.JSONDecodeError, KeyError) as exc:
                    raise DataError(f"{path}:{number}: not an episode record ({exc}); move the file aside") from exc
        return ids

    @property
    def done(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._done)

    def iter_episodes(self) -> Iterator[Episode]:
        """Every stored episode, streamed (never all in memory)."""
        for path in self.episode_files():
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    try:
                        yield Episode.model_validate_json(line)
                    except ValidationError as exc:
                        raise DataError(f"{path}:{number}: invalid episode: {exc.errors()[0]['msg']}") from exc

    def failures(self) -> list[Failure]:
        out: list[Failure] = []
        for path in sorted(self.root.glob("attempts-*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                out.extend(Failure.model_validate_json(line) for line in handle if line.strip())
        return out

    def open_failures(self) -> Counter[str]:
        """Reasons of the last failed attempt of each episode not done since."""
        last: dict[str, str] = {}
        for failure in self.failures():
            last[failure.id] = failure.reason
        done = self.done
        return Counter(_reason_kind(reason) for eid, reason in last.items() if eid not in done)

    # --- writing ------------------------------------------------------------------------------
    def _append(self, name: str, line: str) -> None:
        path = self.root / f"{name}-{self.shard}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def add_episode(self, episode: Episode) -> bool:
        """Append an episode unless its id is stored already; returns whether it was written."""
        with self._lock:
            if episode.id in self._done:
                return False
            self._append("episodes", episode.model_dump_json())
            self._done.add(episode.id)
            return True

    def add_failure(self, failure: Failure) -> None:
        with self._lock:
            self._append("attempts", failure.model_dump_json())

    def write_manifest(self, data: dict[str, Any]) -> None:
        """Replace the manifest atomically (write a temp file, then rename)."""
        temp = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(temp, self.root / MANIFEST)

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON: {exc.msg}") from exc
        return data if isinstance(data, dict) else {}

    def total_usage(self) -> TokenUsage:
        total = TokenUsage()
        for episode in self.iter_episodes():
            for usage in episode.usage.values():
                total = total.add(usage)
        return total


def _reason_kind(reason: str) -> str:
    """A short label for grouping failures: the error class or first clause."""
    head = reason.split(":", 1)[0].strip()
    return head[:80] or "unknown"
