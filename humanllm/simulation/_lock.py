"""One writer per store folder: an advisory lock that every writing path takes, and readers never do.

The lock is `filelock` (`fcntl.flock` on Unix) on `<folder>/.humanllm.lock`; the holder writes its pid
and command to `<folder>/.humanllm.lock.json`, removed on release, so that a second writer can say
who holds the folder. The OS drops the lock when its process dies (even on `kill -9`); a holder file
left behind then is overwritten by the next writer. Within one process the lock is re-entrant: a
command that locked its output folder can open the stores inside it for writing.

A lock may also be named (`StoreLock(folder, name=shard_lock_name("ray-000of004"))`): one shard's
writer under a run that holds the folder's lock (`generate --ray`: the driver holds the folder, each
Ray task its own shard, see `humanllm.simulation._ray`). The holder file is then `<name>.json`.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from humanllm.errors import DataError, StoreLockedError
from humanllm.redaction import redact

logger = logging.getLogger(__name__)

LOCK_FILE = ".humanllm.lock"
HOLDER_FILE = ".humanllm.lock.json"


def shard_lock_name(shard: str) -> str:
    """The lock file of one shard's writer (a writer of one shard only, under the folder's run)."""
    return f".humanllm-{shard}.lock"


def permission_denied(folder: Path, exc: OSError) -> DataError:
    """The one-line error for a store folder this user may not write."""
    where = exc.filename or folder
    return DataError(
        f"{folder}: permission denied ({where} cannot be written): reading works, but to write give a folder "
        "you may write (e.g. another --out) or fix its permissions"
    )


def holder_command() -> str:
    """This process's command line, as a user would type it, secrets redacted and clipped."""
    argv = list(sys.argv) or ["python"]
    name = Path(argv[0]).name
    head = "humanllm" if name in {"humanllm", "__main__.py", "-m"} else name
    return redact(shlex.join([head, *argv[1:]]))[:300]


@dataclass
class _Hold:
    lock: FileLock
    count: int


_holds: dict[tuple[Path, str], _Hold] = {}
_holds_guard = threading.Lock()


class StoreLock:
    """The writer's lock of one store folder (created if missing); a context manager.

    `wait=False` fails at once with `StoreLockedError` naming the holder; `wait=True` waits for the
    holder to finish; a number waits at most that many seconds.
    """

    def __init__(self, folder: Path, *, wait: bool | float = False, name: str = LOCK_FILE) -> None:
        self.folder = Path(folder)
        self.wait = wait
        self.name = name
        self._key: tuple[Path, str] | None = None

    @property
    def held(self) -> bool:
        return self._key is not None

    def acquire(self) -> StoreLock:
        if self._key is not None:
            return self
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise DataError(f"{self.folder} is not a folder: give a store folder (or a new path) instead") from exc
        except PermissionError as exc:
            raise permission_denied(self.folder, exc) from exc
        key = (self.folder.resolve(), self.name)
        with _holds_guard:
            hold = _holds.get(key)
            if hold is not None:
                hold.count += 1
            else:
                _holds[key] = _Hold(self._take(key), 1)
        self._key = key
        return self

    def _take(self, key: tuple[Path, str]) -> FileLock:
        folder, name = key
        lock = FileLock(folder / name, timeout=0, thread_local=False, preserve_lock_file=True)
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if self.wait is False:
                    raise StoreLockedError(self._busy_message()) from None
                logger.warning("%s; waiting for it to finish", self._busy_message(brief=True))
                timeout = -1.0 if self.wait is True else float(self.wait)
                try:
                    lock.acquire(timeout=timeout)
                except Timeout:
                    raise StoreLockedError(f"{self._busy_message()} (waited {timeout:g}s)") from None
        except PermissionError as exc:
            raise permission_denied(self.folder, exc) from exc
        try:
            _write_holder(folder / _holder_name(name))
        except OSError as exc:
            lock.release()
            if isinstance(exc, PermissionError):
                raise permission_denied(self.folder, exc) from exc
            raise
        return lock

    def _busy_message(self, *, brief: bool = False) -> str:
        holder = read_holder(self.folder, self.name)
        pid = holder.get("pid", "unknown")
        command = holder.get("command") or "unknown command"
        since = holder.get("since")
        when = f", since {time.strftime('%H:%M:%S', time.localtime(since))}" if isinstance(since, int | float) else ""
        host = holder.get("host")
        where = f" on {host}" if host and host != socket.gethostname() else ""
        what = self.folder if self.name == LOCK_FILE else f"{self.folder} (lock {self.name})"
        head = f"{what} is being written by pid {pid}{where} ({command}{when})"
        if brief:
            return head
        return (
            f"{head}: one writer per store; wait for it to finish, add --wait to start when it does, or write to "
            "another folder"
        )

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        with _holds_guard:
            hold = _holds[key]
            hold.count -= 1
            if hold.count > 0:
                return
            del _holds[key]
            holder = key[0] / _holder_name(key[1])
            try:
                holder.unlink(missing_ok=True)
            except OSError as exc:  # the lock still goes; a stale holder file is overwritten by the next writer
                logger.debug("could not remove %s: %s", holder, exc)
            hold.lock.release()

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def _holder_name(name: str) -> str:
    return HOLDER_FILE if name == LOCK_FILE else f"{name}.json"


def read_holder(folder: Path, name: str = LOCK_FILE) -> dict[str, Any]:
    """Who holds (or last held) the folder's (or the lock `name`'s) lock: pid, command, host, since; {} if unknown."""
    try:
        data = json.loads((Path(folder) / _holder_name(name)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_holder(path: Path) -> None:
    record = {"pid": os.getpid(), "command": holder_command(), "host": socket.gethostname(), "since": time.time()}
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temp, path)
