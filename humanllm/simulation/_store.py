"""The episode store: a folder of append-only JSONL shards, safe against crashes and concurrent runs.

Layout of a store folder:
- `episodes-<shard>.jsonl`: finished episodes, one `Episode` per line (loads with
  `datasets.load_dataset("json", data_files="DIR/episodes-*.jsonl")`);
- `attempts-<shard>.jsonl`: failed attempts, one `Failure` per line: the record of what failed and
  why, kept in the store so `data status` and resumes see it;
- `manifest.json`: the resolved config (no secrets), counts and token usage, replaced atomically;
- `README.md`: the dataset card (`datasets.load_dataset(DIR)` reads its `configs`), rewritten with
  the manifest, see `humanllm.simulation._card`;
- `.humanllm.lock` (+ `.json` while held): the writer's lock, see `humanllm.simulation._lock`.

Opening is explicit: `EpisodeStore.open_for_reading(path)` never writes anything (no folder, no
repair, no lock), so a folder the user may only read can be read; `EpisodeStore.open_for_writing(
path, shard=...)` (a context manager) takes the folder's lock first, so a second writer fails at once
(or waits). Each line is written whole, flushed and fsynced before the next (a batch: once at its
end), so a crash loses at most the episodes in flight. A last line that parses as JSON is a record,
newline or not; one that does not (a crash mid-write) is skipped by readers with a warning and
moved to `<shard>.jsonl.torn` by the next writer, never deleted. Shards must be regular files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from humanllm.core import Episode, TokenUsage
from humanllm.errors import DataError
from humanllm.simulation._card import refresh_card
from humanllm.simulation._lock import permission_denied
from humanllm.simulation._records import (
    TORN_SUFFIX,
    RecordStore,
    appending,
    check_shard,
    read_lines,
    repair_torn_tail,
)

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"

__all__ = [
    "MANIFEST",
    "TORN_SUFFIX",
    "EpisodeStore",
    "Failure",
    "FailureGroup",
    "appending",
    "check_shard",
    "read_lines",
    "reason_cause",
    "repair_torn_tail",
]


class Failure(BaseModel):
    """One failed attempt at an episode."""

    id: str
    attempt: int
    reason: str
    cause: str | None = None
    """The root cause in a word or two ("401", "timeout", "invalid output"), for grouping."""
    at: float = Field(default_factory=time.time)


class FailureGroup(NamedTuple):
    """Open failures that share a root cause."""

    cause: str
    episodes: int
    example: str
    """The reason of one of them, in full."""


# --- failures ---------------------------------------------------------------------------------

_STATUS = re.compile(r"(?:answered|error code:?|status(?: code)?:?|http)\s*(\d{3})\b", re.IGNORECASE)
_PHRASES = (
    ("did not answer in time", "timeout"),
    ("timed out", "timeout"),
    ("cannot reach", "connection"),
    ("connection error", "connection"),
    ("kept returning invalid", "invalid output"),
    ("rate limit", "rate limited"),
)


def reason_cause(reason: str) -> str:
    """The root cause of a failure from its reason text (stores written before `Failure.cause`)."""
    status = _STATUS.search(reason)
    if status is not None:
        return "rate limited" if status.group(1) == "429" else status.group(1)
    lowered = reason.lower()
    for phrase, cause in _PHRASES:
        if phrase in lowered:
            return cause
    head = reason.split(":", 1)[0].strip()
    return head[:80] or "unknown"


# --- the store --------------------------------------------------------------------------------


class EpisodeStore(RecordStore):
    """Appends episodes and failures to one shard (writers); reads every shard of the folder (everyone).

    `EpisodeStore(root, shard)` opens for writing, as `open_for_writing` does, for existing callers;
    release the lock with `close()` or a `with` block (it is also released when the store is
    garbage-collected, and by the OS when the process ends).
    """

    PREFIXES = ("episodes", "attempts")
    WRITE_HINT = "open it with EpisodeStore.open_for_writing"

    def __init__(
        self,
        root: Path,
        shard: str = "main",
        *,
        write: bool = True,
        wait: bool | float = False,
        only_shard: bool = False,
    ) -> None:
        super().__init__(root, shard, write=write, wait=wait, only_shard=only_shard)
        self._done, self.duplicates = self._read_done_ids()

    @classmethod
    def open_for_reading(cls, root: Path) -> EpisodeStore:
        """Read a store without writing anything; a missing folder reads as empty."""
        return cls(root, write=False)

    @classmethod
    def open_for_writing(cls, root: Path, shard: str = "main", *, wait: bool | float = False) -> EpisodeStore:
        """Take the folder's writer lock (created if missing), mend torn tails, and append to `shard`."""
        return cls(root, shard, write=True, wait=wait)

    @classmethod
    def open_shard(cls, root: Path, shard: str, *, wait: bool | float = False) -> EpisodeStore:
        """One shard only, under its own lock: for a task of a run that holds the folder's lock (`generate --ray`).

        Mends that shard's torn tail and knows only that shard's ids; never writes the manifest."""
        return cls(root, shard, write=True, wait=wait, only_shard=True)

    # --- reading ------------------------------------------------------------------------------
    def _read_done_ids(self) -> tuple[set[str], int]:
        ids: set[str] = set()
        duplicates = 0
        for path, number, line in self.lines("episodes"):
            try:
                episode_id = json.loads(line)["id"]
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{number}: not an episode record ({exc}); move the file aside") from exc
            duplicates += episode_id in ids
            ids.add(episode_id)
        return ids, duplicates

    @property
    def done(self) -> frozenset[str]:
        with self._mutex:
            return frozenset(self._done)

    def iter_episodes(self) -> Iterator[Episode]:
        """Every stored episode once (the first line of an id wins), streamed: only ids are held."""
        seen: set[str] = set()
        for episode in self.records("episodes", Episode, "{where}: invalid episode: {msg}"):
            if episode.id not in seen:
                seen.add(episode.id)
                yield episode

    def failures(self) -> list[Failure]:
        return list(self.records("attempts", Failure, "{where}: not an attempt record: {msg}"))

    def failure_groups(self) -> list[FailureGroup]:
        """The last failed attempt of each episode not done since, grouped by root cause, most common first."""
        last: dict[str, Failure] = {}
        for failure in self.failures():
            last[failure.id] = failure
        done = self.done
        counts: Counter[str] = Counter()
        examples: dict[str, str] = {}
        for eid, failure in last.items():
            if eid in done:
                continue
            cause = failure.cause or reason_cause(failure.reason)
            counts[cause] += 1
            examples.setdefault(cause, failure.reason)
        return [FailureGroup(cause, count, examples[cause]) for cause, count in counts.most_common()]

    def open_failures(self) -> Counter[str]:
        """How many episodes not done since failed last, per root cause ("401", "timeout", ...)."""
        return Counter({group.cause: group.episodes for group in self.failure_groups()})

    # --- writing ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> bool:
        """Append an episode unless its id is stored already; returns whether it was written."""
        return self.add_episodes([episode]) == 1

    def add_episodes(self, episodes: Iterable[Episode]) -> int:
        """Append every episode whose id is not stored yet, then flush and fsync once; returns how many."""

        def fresh() -> Iterator[Episode]:
            for episode in episodes:
                if episode.id not in self._done:
                    yield episode
                    self._done.add(episode.id)  # once its line is written

        with self._mutex:
            return self.append("episodes", fresh())

    def add_failure(self, failure: Failure) -> None:
        with self._mutex:
            self.append("attempts", [failure])

    def write_manifest(self, data: dict[str, Any]) -> None:
        """Replace the manifest atomically (write a temp file, then rename)."""
        self.check_writable()
        if self.only_shard:
            raise DataError(f"{self.root}: a shard's writer never writes the manifest; the run holding the folder does")
        temp = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        try:
            temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
            os.replace(temp, self.root / MANIFEST)
        except PermissionError as exc:
            raise permission_denied(self.root, exc) from exc
        refresh_card(self.root)

    def update_manifest(self, entries: dict[str, Any]) -> None:
        """Add `entries` to the manifest (replacing those of the same keys), atomically."""
        self.write_manifest({**self.read_manifest(), **entries})

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
