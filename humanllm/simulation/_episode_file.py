"""Reading one JSONL file of episodes: a split file, an exported store, a file the user gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from humanllm.core import Episode
from humanllm.errors import DataError
from humanllm.simulation._records import read_lines


def read_episode_file(path: Path) -> Iterator[Episode]:
    """Episodes of a JSONL file, one per line (blank lines and a torn last line skipped), each id once."""
    seen: set[str] = set()
    for number, line in read_lines(path):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} is not UTF-8 text (bad byte 0x{line[exc.start]:02x} on line {number}): re-save it as UTF-8"
            ) from exc
        try:
            episode = Episode.model_validate_json(line)
        except ValidationError as exc:
            raise DataError(
                f"{path}:{number}: not an episode record ({exc.errors()[0]['msg']}); give a store folder, a "
                "split folder or a JSONL file written by humanllm"
            ) from exc
        if episode.id not in seen:
            seen.add(episode.id)
            yield episode
