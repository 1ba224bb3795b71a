"""The episode store: a folder of append-only JSONL shards, safe against crashes and concurrent runs.

Layout of a store folder:
- `episodes-<shard>.jsonl`: finished episodes, one `Episode` per line (loads with
  `datasets.load_dataset("json", data_files="DIR/episodes-*.jsonl")`);
- `attempts-<shard>.jsonl`: failed attempts, one `Failure` per line: the record of what failed and
  why, kept in the store so `data status` and resumes see it;
- `manifest.json`: the resolved config (no secrets), counts and token usage, replaced atomically;
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
import stat
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import Episode, TokenUsage
from humanllm.errors import DataError
from humanllm.simulation._lock import StoreLock, permission_denied

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TORN_SUFFIX = ".torn"


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


# --- files ------------------------------------------------------------------------------------


def check_shard(path: Path) -> None:
    """Refuse anything but a regular file (a symlink could point anywhere: a writer would cut or grow it)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise DataError(
            f"{path} is a symbolic link: shards must be regular files inside the store; replace the link with a "
            "copy of its target, or merge the stores with `humanllm data merge`"
        )
    if not stat.S_ISREG(mode):
        raise DataError(f"{path} is not a regular file: move it out of the store")


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False
    return True


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line of a shard, opened read-only.

    A last line without a newline is a record when it parses as JSON; when it does not, it is the
    torn tail of an interrupted write (or of a write in progress): skipped with a warning.
    """
    check_shard(path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            if not raw.endswith(b"\n") and not _parses(raw):
                logger.warning(
                    "%s:%d: skipped a torn last line (%d bytes) left by an interrupted write; the next writer "
                    "moves it to %s",
                    path,
                    number,
                    len(raw),
                    path.name + TORN_SUFFIX,
                )
                return
            yield number, raw


def repair_torn_tail(path: Path) -> int:
    """Make the last line whole; only for a writer that holds the store's lock. Returns the bytes moved aside.

    A last line that parses as JSON gets its missing newline; one that does not is appended to
    `<path>.torn` (fsynced) and only then cut from the shard.
    """
    check_shard(path)
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb") as peek:  # most shards are whole: look before opening for writing
        peek.seek(-1, os.SEEK_END)
        if peek.read(1) == b"\n":
            return 0
    with path.open("rb+") as handle:
        keep = _after_last_newline(handle, size)
        handle.seek(keep)
        tail = handle.read()
        if _parses(tail):
            handle.seek(0, os.SEEK_END)
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            logger.info("%s: added the missing newline after the last record", path)
            return 0
        torn = path.with_name(path.name + TORN_SUFFIX)
        check_shard(torn)
        with torn.open("ab") as aside:
            aside.write(tail + b"\n")
            aside.flush()
            os.fsync(aside.fileno())
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    logger.warning(
        "%s: moved a torn last line (%d bytes) left by an interrupted write to %s", path, len(tail), torn.name
    )
    return len(tail)


def _after_last_newline(handle: IO[bytes], size: int) -> int:
    """The offset just past the last newline of the file (0 when it has none)."""
    block = min(size, 1 << 20)
    position = size
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        chunk = handle.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline != -1:
            return start + newline + 1
        position = start
    return 0


@contextmanager
def appending(path: Path, folder: Path) -> Iterator[IO[str]]:
    """A shard opened for appending, flushed and fsynced once on leaving; a permission error is one line."""
    check_shard(path)
    try:
        with path.open("a", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
    except PermissionError as exc:
        raise permission_denied(folder, exc) from exc


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


class EpisodeStore:
    """Appends episodes and failures to one shard (writers); reads every shard of the folder (everyone).

    `EpisodeStore(root, shard)` opens for writing, as `open_for_writing` does, for existing callers;
    release the lock with `close()` or a `with` block (it is also released when the store is
    garbage-collected, and by the OS when the process ends).
    """

    def __init__(self, root: Path, shard: str = "main", *, write: bool = True, wait: bool | float = False) -> None:
        self.root = Path(root)
        self.shard = shard
        self.writable = write
        self._mutex = threading.Lock()
        self._lock: StoreLock | None = None
        self._release: weakref.finalize[Any, Any] | None = None
        if write:
            lock = StoreLock(self.root, wait=wait).acquire()
            self._lock = lock
            self._release = weakref.finalize(self, lock.release)
            try:
                for path in [*self.episode_files(), *self.attempt_files()]:
                    repair_torn_tail(path)
            except PermissionError as exc:
                self.close()
                raise permission_denied(self.root, exc) from exc
            except BaseException:
                self.close()
                raise
        self._done, self.duplicates = self._read_done_ids()

    @classmethod
    def open_for_reading(cls, root: Path) -> EpisodeStore:
        """Read a store without writing anything; a missing folder reads as empty."""
        return cls(root, write=False)

    @classmethod
    def open_for_writing(cls, root: Path, shard: str = "main", *, wait: bool | float = False) -> EpisodeStore:
        """Take the folder's writer lock (created if missing), mend torn tails, and append to `shard`."""
        return cls(root, shard, write=True, wait=wait)

    def close(self) -> None:
        """Release the writer's lock (a reader has none); the store cannot write afterwards."""
        if self._release is not None:
            self._release()
        self._lock = None

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- reading ------------------------------------------------------------------------------
    def episode_files(self) -> list[Path]:
        return sorted(self.root.glob("episodes-*.jsonl"))

    def attempt_files(self) -> list[Path]:
        return sorted(self.root.glob("attempts-*.jsonl"))

    def _read_done_ids(self) -> tuple[set[str], int]:
        ids: set[str] = set()
        duplicates = 0
        for path in self.episode_files():
            for number, line in read_lines(path):
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
        for path in self.episode_files():
            for number, line in read_lines(path):
                try:
                    episode = Episode.model_validate_json(line)
                except ValidationError as exc:
                    raise DataError(f"{path}:{number}: invalid episode: {exc.errors()[0]['msg']}") from exc
                if episode.id not in seen:
                    seen.add(episode.id)
                    yield episode

    def failures(self) -> list[Failure]:
        out: list[Failure] = []
        for path in self.attempt_files():
            for number, line in read_lines(path):
                try:
                    out.append(Failure.model_validate_json(line))
                except ValidationError as exc:
                    raise DataError(f"{path}:{number}: not an attempt record: {exc.errors()[0]['msg']}") from exc
        return out

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
    def _shard_path(self, name: str) -> Path:
        self._check_writable()
        return self.root / f"{name}-{self.shard}.jsonl"

    def _check_writable(self) -> None:
        if not self.writable:
            raise DataError(f"{self.root} was opened for reading: open it with EpisodeStore.open_for_writing")
        if self._lock is None:
            raise DataError(f"{self.root}: this store was closed; open it again to write")

    def add_episode(self, episode: Episode) -> bool:
        """Append an episode unless its id is stored already; returns whether it was written."""
        return self.add_episodes([episode]) == 1

    def add_episodes(self, episodes: Iterable[Episode]) -> int:
        """Append every episode whose id is not stored yet, then flush and fsync once; returns how many."""
        path = self._shard_path("episodes")
        written = 0
        with self._mutex, appending(path, self.root) as handle:
            for episode in episodes:
                if episode.id in self._done:
                    continue
                handle.write(episode.model_dump_json() + "\n")
                self._done.add(episode.id)
                written += 1
        return written

    def add_failure(self, failure: Failure) -> None:
        path = self._shard_path("attempts")
        with self._mutex, appending(path, self.root) as handle:
            handle.write(failure.model_dump_json() + "\n")

    def write_manifest(self, data: dict[str, Any]) -> None:
        """Replace the manifest atomically (write a temp file, then rename)."""
        self._check_writable()
        temp = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        try:
            temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
            os.replace(temp, self.root / MANIFEST)
        except PermissionError as exc:
            raise permission_denied(self.root, exc) from exc

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
