"""Writing SFT files from an episode store: streamed, dedup, seeded order, a merged LLaMA-Factory dataset entry."""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from humanllm.core import Episode, check_output_file, kind_of, read_json_file, write_text_atomic
from humanllm.errors import ConfigError, DataError
from humanllm.patterns import PatternLibrary
from humanllm.training._sft_format import Format, episode_records


class ExportReport(BaseModel):
    episodes: int = 0
    records: int = 0
    duplicates: int = 0
    out: str = ""
    dataset_info: str = ""


def dataset_info(name: str, file_name: str, fmt: Format) -> dict[str, dict[str, Any]]:
    """The `dataset_info.json` entry LLaMA-Factory needs to read the file."""
    if fmt == "sharegpt":
        return {
            name: {
                "file_name": file_name,
                "formatting": "sharegpt",
                "columns": {"messages": "conversations", "system": "system"},
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"},
            }
        }
    return {
        name: {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        }
    }


def _existing_info(path: Path) -> dict[str, Any]:
    """The entries of an existing `dataset_info.json` (kept as they are); `{}` when there is none."""
    if not path.exists():
        return {}
    info = read_json_file(path, what="LLaMA-Factory dataset list")
    if not isinstance(info, dict):
        raise DataError(f"{path} holds {kind_of(info)}, not an object of datasets: fix it or move it away")
    return info


def _merged_info(path: Path, name: str, entry: dict[str, Any], *, force: bool) -> dict[str, Any]:
    """The user's `dataset_info.json` with our entry added (or, with `force`, replaced), every other one kept."""
    info = _existing_info(path)
    held = info.get(name)
    if held is not None and held != entry and not force:
        where = f" (for {held['file_name']})" if isinstance(held, dict) and "file_name" in held else ""
        raise ConfigError(
            f"{path} already has a dataset named {name!r}{where}: pass --dataset-name to add another, "
            "or --force to replace it"
        )
    return {**info, name: entry}


def export_sft(
    episodes: Iterable[Episode],
    out: Path,
    *,
    fmt: Format = "sharegpt",
    library: PatternLibrary | None = None,
    keep_guidance: bool = False,
    max_chars: int | None = None,
    dedup: bool = True,
    seed: int = 0,
    name: str = "humanllm",
    force: bool = False,
) -> ExportReport:
    """Write one JSONL record per character per episode (windowed when `max_chars` is set), in seeded order.

    Streams: records go to a spool file beside `out` while only their byte offsets (and, for dedup,
    a 16-byte hash each) stay in memory; the offsets are shuffled with the seed and the records
    copied in that order, so memory stays flat with the size of the store. `out` is replaced in
    one step at the end (an existing `out` needs `force`), and the entry `name` is merged into the
    `dataset_info.json` beside it, keeping every other entry there.
    """
    check_output_file(out, force=force)
    info_path = out.parent / "dataset_info.json"
    info = _merged_info(info_path, name, dataset_info(name, out.name, fmt)[name], force=force)
    report = ExportReport(out=str(out))
    seen: set[bytes] = set()
    offsets = array("Q", [0])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out.parent, prefix=f".{out.name}.spool-") as spool:
        for episode in episodes:
            report.episodes += 1
            cards = None
            if keep_guidance and library is not None:
                cards = {who: library.resolve(held) for who, held in episode.scenario.char2pattern.items()}
            for record in episode_records(
                episode, fmt=fmt, cards=cards, keep_guidance=keep_guidance, max_chars=max_chars
            ):
                line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
                if dedup:
                    digest = hashlib.blake2b(line, digest_size=16).digest()
                    if digest in seen:
                        report.duplicates += 1
                        continue
                    seen.add(digest)
                spool.write(line)
                offsets.append(offsets[-1] + len(line))
        report.records = len(offsets) - 1
        if report.episodes == 0:
            raise DataError(
                f"no episodes to export to {out}: generate some with `humanllm generate --out STORE` "
                "or import them with `humanllm data import`"
            )
        if report.records == 0:
            raise DataError(f"{report.episodes} episode(s) but no character speaks in any: nothing to export to {out}")
        order = array("Q", range(report.records))
        random.Random(seed).shuffle(order)  # the same permutation as shuffling the records themselves
        _copy_in_order(spool, offsets, order, out)
    write_text_atomic(info_path, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    report.dataset_info = str(info_path)
    return report


def _copy_in_order(spool: IO[bytes], offsets: array[int], order: array[int], out: Path) -> None:
    """Copy spooled records to `out` in `order`, through a temporary file so an old `out` stays whole on failure."""
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as target:
            for index in order:
                spool.seek(offsets[index])
                target.write(spool.read(offsets[index + 1] - offsets[index]))
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
