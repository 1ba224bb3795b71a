"""Reading the user's files and writing outputs: one-line errors that name the file and the fix.

Input: `read_text_file` gives a file's UTF-8 text or a `DataError` (missing, a folder, permission
denied, not UTF-8 with the line of the first bad byte); `read_json_file` adds "not JSON at line N",
`read_yaml_file` "not valid YAML at line N" (a `ConfigError`); `as_object` names a record that is not a
JSON object. Output: `check_output_file` and
`check_output_dir` run before any work (or model call) and refuse a folder given for a file, a
parent that is a file, a place that cannot be written, and an existing output unless `force`;
`write_text_atomic` never leaves a half-written file; `save_or_rescue` (and `write_text_or_rescue`)
save a result that cannot go where asked to `humanllm-rescue-<id>` in the current (or the temp)
folder and say where.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from humanllm.errors import ConfigError, DataError

_KINDS = {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list"}


def _reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def read_text_file(path: Path, *, what: str = "file") -> str:
    """The UTF-8 text of a user's file (a BOM is dropped); a `DataError` naming the file and the fix otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"{what} {path} does not exist: check the path") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{what} {path} is a folder: give a file") from exc
    except PermissionError as exc:
        raise DataError(f"cannot read {what} {path}: permission denied; check its permissions") from exc
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {_reason(exc)}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{what} {path} is not UTF-8 text (bad byte 0x{data[exc.start]:02x} on line {line}): re-save it as UTF-8"
        ) from exc


def read_yaml_file(path: Path, *, what: str = "file") -> Any:
    """A user's YAML file, parsed (None when empty); `ConfigError` with the line of the first syntax error."""
    import yaml  # here, not at the top: loading the CLI for `--help` does not need it

    text = read_text_file(path, what=what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{what} {path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from exc


def read_json_file(path: Path, *, what: str = "file") -> Any:
    """A user's JSON file, parsed; `DataError` with the line of the first syntax error."""
    text = read_text_file(path, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{what} {path} is not JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc


def kind_of(value: object) -> str:
    """'a string', 'a list', ...: what a JSON value is, for messages."""
    if value is None:
        return "null"
    return _KINDS.get(type(value), type(value).__name__)


def as_object(value: object, where: str) -> dict[str, Any]:
    """`value` when it is a JSON object; a `DataError` saying what it is otherwise."""
    if not isinstance(value, dict):
        raise DataError(f"{where} is {kind_of(value)}, not an object: each record must be a JSON object {{...}}")
    return value


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_writable(folder: Path, *, target: Path, option: str) -> None:
    """The nearest existing folder above `target` (or `folder` itself) can take new files."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise ConfigError(f"cannot write {target}: {existing} is a file, not a folder; choose another {option}")
    try:
        handle, name = tempfile.mkstemp(dir=existing, prefix=".humanllm-probe-")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {target}: {existing} is not writable ({_reason(exc)}); choose another {option}"
        ) from exc
    os.close(handle)
    os.unlink(name)


def check_output_file(path: Path, *, force: bool = False, option: str = "--out") -> Path:
    """Fail now (before any work) if `path` cannot be written, or exists and `force` is off; returns `path`.

    Missing parent folders are fine: they are created when the file is written.
    """
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder: give a file name, e.g. {path / 'out.json'}")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists: pass --force to overwrite it, or choose another {option}")
    _check_writable(path.parent, target=path, option=option)
    return path


def check_output_dir(path: Path, *, force: bool | None = None, option: str = "--out") -> Path:
    """Fail now if folder `path` cannot be made or written; with `force` given, also if it holds files and is False.

    `force=None` is for folders that resume (stores, caches): files already there are expected.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file: give a folder")
    if force is False and path.is_dir() and any(path.iterdir()):
        raise ConfigError(f"{path} is not empty: pass --force to write over what is there, or choose another {option}")
    _check_writable(path, target=path, option=option)
    return path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to: on success it replaces `path` in one step; on an error it is
    removed and any old `path` is left whole (for writers that take a path, e.g. pandas' `to_parquet`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, so a failed write leaves any old file whole."""
    with atomic_path(path) as temporary, temporary.open("x", encoding="utf-8") as handle:
        handle.write(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """`write_text_atomic` for bytes (images, archives)."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def rescue_folders() -> list[Path]:
    """Where a result that cannot be written goes: the current folder, then the system temp folder."""
    return [Path.cwd(), Path(tempfile.gettempdir())]


def save_or_rescue(path: Path, write: Callable[[Path], None], *, rescue_id: str, what: str = "result") -> Path:
    """`write(path)`; if that fails, `write` a rescue copy `humanllm-rescue-<rescue_id><suffix>` into the
    current (or else the temp) folder and raise a `DataError` naming both, so an expensive result (an
    episode, a model's proposals) is never lost to a full disk or a folder that went read-only."""
    try:
        write(path)
        return path
    except OSError as exc:
        reason = _reason(exc)
        cause = exc
    name = f"humanllm-rescue-{rescue_id}{path.suffix or '.txt'}"
    for folder in rescue_folders():
        candidate = folder / name
        count = 2
        while candidate.exists():
            candidate = folder / f"{Path(name).stem}-{count}{Path(name).suffix}"
            count += 1
        try:
            write(candidate)
        except OSError:
            continue
        raise DataError(f"cannot write {path} ({reason}); the {what} was saved to {candidate} instead") from cause
    raise DataError(f"cannot write {path} ({reason}), nor a rescue copy in {rescue_folders()[0]} or the temp folder")


def write_text_or_rescue(path: Path, text: str, *, rescue_id: str, what: str = "result") -> Path:
    """`write_text_atomic(path, text)`, with the rescue copy of `save_or_rescue` when it fails."""
    return save_or_rescue(path, lambda where: write_text_atomic(where, text), rescue_id=rescue_id, what=what)
