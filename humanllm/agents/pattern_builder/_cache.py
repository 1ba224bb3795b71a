"""On-disk cache of the builder's step replies, so an interrupted build resumes where it stopped.

One JSON file per finished step under `<cache>/<step>/<key>.json`. The key hashes the prompt
template's version, the model spec, the reply schema and the rendered prompt (which holds the
chunk's or the notes' content), so any change to one of them makes a fresh call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)


def cache_key(*, prompt_version: str, model: str, schema: type[BaseModel], prompt: str) -> str:
    """The identity of one step: prompt version, model, reply schema and the prompt's content."""
    schema_text = json.dumps(schema.model_json_schema(), sort_keys=True)
    blob = json.dumps([prompt_version, model, schema_text, prompt], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class StepCache:
    """Finished step replies on disk; writes are atomic (a crash never leaves half a file)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, step: str, key: str) -> Path:
        return self.root / step / f"{key}.json"

    def get(self, step: str, key: str, schema: type[T]) -> T | None:
        """The cached reply, or None when missing or no longer valid for the schema."""
        path = self._path(step, key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            return schema.model_validate(entry["reply"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            logger.warning("ignoring unusable cache entry %s (%s)", path, exc)
            return None

    def put(self, step: str, key: str, reply: BaseModel, *, model: str, prompt_version: str) -> None:
        path = self._path(step, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "step": step,
            "model": model,
            "prompt_version": prompt_version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "reply": reply.model_dump(mode="json"),
        }
        write_atomic(path, json.dumps(entry, ensure_ascii=False, indent=1))


def write_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
