"""Reading the authors' released pattern files: one-line errors, text kept as given.

`read_json` fails on a whole file (unreadable, not UTF-8, not JSON) with a `DataError` naming it;
anything wrong with one pattern raises `BadEntry`, which the importer reports and skips.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humanllm.errors import DataError


class BadEntry(ValueError):
    """One released pattern cannot be imported; the message says why in one line."""


def read_json(path: Path) -> Any:
    """A released JSON file; any failure is one `DataError` line naming the file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc


def text_of(value: Any) -> str | None:
    """Released text as one string: lists one item a line, objects 'key: value'; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        parts = [t for t in (text_of(v) for v in value) if t]
        return "\n".join(parts) or None
    if isinstance(value, dict):
        parts = [f"{k}: {t}" for k, v in value.items() if (t := text_of(v))]
        return "\n".join(parts) or None
    return str(value)


@dataclass
class ReleasedChecklist:
    """A released checklist entry, normalised."""

    questions: list[str]
    evidence: dict[str, str]
    case_review: str | None
    notes: str | None
    warnings: list[str]


def _one_checklist(entry: Any, where: str) -> ReleasedChecklist:
    if not isinstance(entry, dict):
        raise BadEntry(f"{where}: the entry is {type(entry).__name__}, not an object")
    items = entry.get("checklist")
    if not isinstance(items, list):
        raise BadEntry(f"{where}: 'checklist' must be a list of {{question, evidence_status}} items")
    questions: list[str] = []
    evidence: dict[str, str] = {}
    warnings: list[str] = []
    for n, item in enumerate(items, 1):
        raw = item.get("question") if isinstance(item, dict) else item
        if not isinstance(item, dict | str):
            raise BadEntry(f"{where}: checklist item {n} is {type(item).__name__}, not an object")
        question = text_of(raw) if isinstance(raw, str | int | float) else None
        if not question:
            raise BadEntry(f"{where}: checklist item {n} has no 'question'")
        question = " ".join(question.split())
        question = question if question.endswith("?") else question + "?"
        if question.lower() in {q.lower() for q in questions}:
            warnings.append(f"checklist item {n} repeats an earlier one; kept once")
            continue
        questions.append(question)
        if isinstance(item, dict) and (status := text_of(item.get("evidence_status"))):
            evidence[question] = status
    return ReleasedChecklist(
        questions, evidence, text_of(entry.get("case_review")), text_of(entry.get("notes")), warnings
    )


def read_checklists(raw: Any, path: Path) -> tuple[dict[str, ReleasedChecklist], dict[str, str]]:
    """Checklists by lower-cased pattern name, and entries that cannot be used, with why."""
    if isinstance(raw, dict):
        entries = [(str(key), entry) for key, entry in raw.items()]
    elif isinstance(raw, list):
        entries = [(f"entry {n}", entry) for n, entry in enumerate(raw, 1)]
    else:
        raise DataError(f"{path}: expected a list or an object of checklist entries, got {type(raw).__name__}")
    good: dict[str, ReleasedChecklist] = {}
    bad: dict[str, str] = {}
    for label, entry in entries:
        trait = text_of(entry.get("trait")) if isinstance(entry, dict) else None
        name = " ".join((trait or ("" if label.startswith("entry ") else label)).split())
        where = f"{path.name}: {name or label!r}" if name else f"{path.name}: {label}"
        try:
            if not name:
                raise BadEntry(f"{where}: no 'trait' names the pattern")
            parsed = _one_checklist(entry, where)
        except BadEntry as exc:
            bad[name.lower() or label] = str(exc)
            continue
        if name.lower() in good:
            good[name.lower()].warnings.append(f"{path.name} holds a second checklist for it; the first is kept")
            continue
        good[name.lower()] = parsed
    return good, bad


# --- mechanism and manifestation text -------------------------------------------------------------
MECHANISM_CHANNELS = {
    "cognitive": ("cogn",),
    "emotional": ("emot", "affect", "feel"),
    "behavioral": ("behav", "action"),
    "motivation": ("evol", "motiv", "adaptive", "function", "reason"),
}
MANIFESTATION_CHANNELS = {
    "everyday": ("every", "example", "context", "situation", "manifest"),
    "costs": ("cost", "drawback", "downside", "risk"),
    "benefits": ("benef", "advantage", "upside"),
}
_LABEL = r"(?:^|(?<=[.;!?]\s)|(?<=\n))[ \t*_#•-]*({words})\w*\b[^:\n]{{0,40}}:"


def _channel_of(key: str, channels: Mapping[str, tuple[str, ...]]) -> str | None:
    """The card field a released key or label belongs to."""
    return next((channel for channel, needles in channels.items() if any(n in key.lower() for n in needles)), None)


def _split_labelled(text: str, channels: Mapping[str, tuple[str, ...]], default: str) -> dict[str, str]:
    """One text cut at channel labels ('Emotional: ...'); with no label, all of it goes to `default`."""
    words = "|".join(re.escape(n) for needles in channels.values() for n in needles)
    marks = list(re.finditer(_LABEL.format(words=words), text, re.IGNORECASE | re.MULTILINE))
    if not marks:
        return {default: text}
    parts: dict[str, list[str]] = {}
    if head := text[: marks[0].start()].strip():
        parts.setdefault(default, []).append(head)
    for mark, nxt in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end() : nxt.start() if nxt else len(text)].strip()
        if body:
            parts.setdefault(_channel_of(mark.group(1), channels) or default, []).append(body)
    return {channel: " ".join(bodies) for channel, bodies in parts.items()}


_Channels = Mapping[str, tuple[str, ...]]


def _sections(value: Any, channels: _Channels, default: str, label: str) -> Iterator[tuple[str, str] | str]:
    """(channel, text) pairs from a released object or text; warning strings for what has no place."""
    if isinstance(value, dict):
        for key, raw in value.items():
            text = text_of(raw)
            channel = _channel_of(str(key), channels)
            if text and channel:
                yield channel, text
            elif text:
                yield f"{label} key {key!r} matches no field of the card; dropped"
    elif text := text_of(value):
        yield from _split_labelled(text, channels, default).items()


def merge_sections(target: dict[str, Any], value: Any, channels: _Channels, default: str, label: str) -> list[str]:
    """Released channel text into `target` (joined when two keys feed one channel); warnings."""
    warnings: list[str] = []
    given: dict[str, list[str]] = {}
    for part in _sections(value, channels, default, label):
        if isinstance(part, str):
            warnings.append(part)
        else:
            given.setdefault(part[0], []).append(part[1])
    target.update({channel: " ".join(texts) for channel, texts in given.items()})
    return warnings
