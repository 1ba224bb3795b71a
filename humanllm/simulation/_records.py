"""One append-only JSONL record store: shards of one record type per file prefix, under a folder's lock.

Used by the episode store (`episodes-*`, `attempts-*`) and the judgement store (`judgements-*`).
Opening is explicit: a reader (`write=False`) never writes anything (no folder, no repair, no lock);
a writer takes the folder's `StoreLock` first (a second writer fails at once, or waits), then moves
a torn last line of every shard it owns to `<shard>.jsonl.torn`. Each `append` writes whole lines
and flushes and fsyncs once at its end (one fsync per batch). A last line that parses as JSON is a
record, newline or not; one that does not (a crash mid-write) is skipped by readers with a warning.
Shards must be regular files.

A shard view (`only_shard=True`) reads and writes one shard only, under that shard's own lock
(`shard_lock_name`), not the folder's: the writer of one Ray task of `generate --ray`, whose driver
holds the folder's lock for the whole run (see `humanllm.simulation._ray`). It mends only its own
shard's torn tail, so shards written by other tasks at the same time are never touched.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ValidationError

from humanllm.errors import DataError
from humanllm.simulation._lock import LOCK_FILE, StoreLock, permission_denied, shard_lock_name

logger = logging.getLogger(__name__)

TORN_SUFFIX = ".torn"

R = TypeVar("R", bound=BaseModel)


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


# --- the store ---------------------------------------------------------------------------------


class RecordStore:
    """A folder of JSONL shards, one record type per file prefix (`<prefix>-<shard>.jsonl`).

    Subclasses name their prefixes (`PREFIXES`, every one mended by a writer) and how to reopen
    for writing (`WRITE_HINT`), and build their typed methods on `files`, `lines`, `records` and
    `append`. Release a writer's lock with `close()` or a `with` block (it is also released when
    the store is garbage-collected, and by the OS when the process ends).
    """

    PREFIXES: ClassVar[tuple[str, ...]] = ()
    WRITE_HINT: ClassVar[str] = "open it for writing"
    """How to open the store for writing, for the error of a write to a reader."""

    def __init__(
        self,
        root: Path,
        shard: str = "main",
        *,
        write: bool = True,
        wait: bool | float = False,
        only_shard: bool = False,
    ) -> None:
        self.root = Path(root)
        self.shard = shard
        self.writable = write
        self.only_shard = only_shard
        self._mutex = threading.Lock()
        self._lock: StoreLock | None = None
        self._release: weakref.finalize[Any, Any] | None = None
        if write:
            name = shard_lock_name(shard) if only_shard else LOCK_FILE
            lock = StoreLock(self.root, wait=wait, name=name).acquire()
            self._lock = lock
            self._release = weakref.finalize(self, lock.release)
            try:
                for prefix in self.PREFIXES:
                    for path in self.files(prefix):
                        repair_torn_tail(path)
            except PermissionError as exc:
                self.close()
                raise permission_denied(self.root, exc) from exc
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        """Release the writer's lock (a reader has none); the store cannot write afterwards."""
        if self._release is not None:
            self._release()
        self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- reading ------------------------------------------------------------------------------
    def files(self, prefix: str) -> list[Path]:
        """Every shard of one prefix, in name order (a shard view: its own, when it exists)."""
        if self.only_shard:
            own = self.root / f"{prefix}-{self.shard}.jsonl"
            return [own] if own.exists() or own.is_symlink() else []
        return sorted(self.root.glob(f"{prefix}-*.jsonl"))

    def lines(self, prefix: str) -> Iterator[tuple[Path, int, bytes]]:
        """(shard, line number, bytes) of every record line of one prefix; torn tails skipped."""
        for path in self.files(prefix):
            for number, raw in read_lines(path):
                yield path, number, raw

    def records(self, prefix: str, model: type[R], invalid: str) -> Iterator[R]:
        """Every record of one prefix, validated as `model`, in file order (duplicates included).

        `invalid` formats the error of a line that does not validate, with `{where}` (path:line)
        and `{msg}` (the first validation error).
        """
        for path, number, raw in self.lines(prefix):
            try:
                yield model.model_validate_json(raw)
            except ValidationError as exc:
                raise DataError(invalid.format(where=f"{path}:{number}", msg=exc.errors()[0]["msg"])) from exc

    # --- writing ------------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Refuse to write through a reader or a closed writer."""
        if not self.writable:
            raise DataError(f"{self.root} was opened for reading: {self.WRITE_HINT}")
        if self._lock is None:
            raise DataError(f"{self.root}: this store was closed; open it again to write")

    def shard_path(self, prefix: str) -> Path:
        """This writer's shard of one prefix."""
        self.check_writable()
        return self.root / f"{prefix}-{self.shard}.jsonl"

    def append(self, prefix: str, records: Iterable[BaseModel]) -> int:
        """Append each record as one line to this writer's shard of `prefix`, then flush and fsync once.

        Callers that filter duplicates hold `self._mutex` around their check and this call.
        """
        path = self.shard_path(prefix)
        written = 0
        with appending(path, self.root) as handle:
            for record in records:
                handle.write(record.model_dump_json() + "\n")
                written += 1
        return written
