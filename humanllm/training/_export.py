"""Writing SFT files from an episode store: dedup, seeded order, a LLaMA-Factory dataset entry."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from humanllm.core import Episode
from humanllm.patterns import PatternLibrary
from humanllm.training._sft_format import Format, episode_records


class ExportReport(BaseModel):
    episodes: int = 0
    records: int = 0
    duplicates: int = 0
    out: str = ""
    dataset_info: str = ""


def dataset_info(name: str, file_name: str, fmt: Format) -> dict[str, object]:
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
) -> ExportReport:
    """Write one JSONL record per character per episode (windowed when `max_chars` is set)."""
    report = ExportReport(out=str(out))
    seen: set[str] = set()
    lines: list[str] = []
    for episode in episodes:
        report.episodes += 1
        cards = None
        if keep_guidance and library is not None:
            cards = {name: library.resolve(held) for name, held in episode.scenario.char2pattern.items()}
        for record in episode_records(episode, fmt=fmt, cards=cards, keep_guidance=keep_guidance, max_chars=max_chars):
            line = json.dumps(record, ensure_ascii=False, sort_keys=True)
            digest = hashlib.sha256(line.encode()).hexdigest()
            if dedup and digest in seen:
                report.duplicates += 1
                continue
            seen.add(digest)
            lines.append(line)
    random.Random(seed).shuffle(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    report.records = len(lines)
    info_path = out.parent / "dataset_info.json"
    info_path.write_text(json.dumps(dataset_info("humanllm", out.name, fmt), indent=2), encoding="utf-8")
    report.dataset_info = str(info_path)
    return report
