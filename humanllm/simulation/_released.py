"""The authors' released split-file schema (REFERENCE §4), read into and written from episodes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from humanllm.agents.trinity import parse_trinity
from humanllm.core import (
    CharacterProfile,
    Conversation,
    Episode,
    Scenario,
    ScenarioChecklist,
    ScenarioVariation,
    as_object,
    read_text_file,
)
from humanllm.errors import DataError


class ImportReport(BaseModel):
    read: int = 0
    imported: int = 0
    skipped: dict[str, str] = Field(default_factory=dict, description="record -> why it was skipped")


_RELEASED_HINT = "give the authors' released split files (a JSON list, or JSONL, of scenario objects)"


def read_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, record) from a JSON list (or one object) or a JSONL file; `DataError` for an unreadable or
    non-UTF-8 file, bad JSON (with its line), a record that is not an object, or a file with no records."""
    text = read_text_file(path, what="released file")
    stripped = text.lstrip()
    rows: list[tuple[str, str, Any]] = []  # (label, where, value)
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not JSON at line {exc.lineno}: {exc.msg}; {_RELEASED_HINT}") from exc
        rows = [(f"{path.name}[{index}]", f"{path}: record {index}", row) for index, row in enumerate(data)]
    else:
        try:
            rows = [(path.name, f"{path}: the record", json.loads(text))] if stripped.startswith("{") else []
        except json.JSONDecodeError:  # not one object: JSONL
            rows = []
        if not rows:
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((f"{path.name}:{number}", f"{path}: the record on line {number}", json.loads(line)))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}: not JSON at line {number}: {exc.msg}; {_RELEASED_HINT}") from exc
    if not rows:
        raise DataError(f"{path} holds no records: {_RELEASED_HINT}")
    for label, where, row in rows:
        yield label, as_object(row, where)


def _profile(raw: dict[str, Any]) -> CharacterProfile:
    return CharacterProfile(
        name=str(raw["name"]).strip(),
        about_self=str(raw.get("aboutSelf", "")),
        about_others=str(raw.get("aboutOthers", "")),
    )


def _checklists(raw: Any) -> list[ScenarioChecklist]:
    if not isinstance(raw, dict):
        return []
    return [ScenarioChecklist(character=name, items=[str(i) for i in items]) for name, items in raw.items() if items]


def episode_from_released(record: dict[str, Any]) -> Episode:
    """One released record as an episode; raises ValueError with the reason when it cannot be."""
    scenario_raw = record.get("scenario") or {}
    profiles = scenario_raw.get("charactersProfiles") or {}
    if "protagonist" not in profiles:
        raise ValueError("scenario.charactersProfiles.protagonist is missing")
    protagonist = _profile(profiles["protagonist"])
    supporting = [_profile(p) for p in profiles.get("supportingCharacter") or []]
    cast = {p.name for p in [protagonist, *supporting]}
    turns = []
    for index, line in enumerate(record.get("conversation") or []):
        speaker = str(line.get("char", "")).strip()
        if speaker not in cast:
            raise ValueError(f"conversation[{index}] speaker {speaker!r} is not in the cast {sorted(cast)}")
        turns.append(parse_trinity(str(line.get("content", "")), speaker))
    variation = None
    if record.get("scenario_variation"):
        varied = record["scenario_variation"]
        variation = ScenarioVariation(
            factor_analysis=str(record.get("factor_analysis", "")),
            new_factor_settings=json.dumps(record.get("new_factor_settings", ""), ensure_ascii=False)
            if not isinstance(record.get("new_factor_settings"), str)
            else record["new_factor_settings"],
            background=str(varied.get("storyBackground", "")) if isinstance(varied, dict) else str(varied),
            analysis=str(record.get("analysis_variation", "")),
            checklists=_checklists(record.get("conversation_checklist_variation")),
        )
    scenario = Scenario(
        patterns=[str(p) for p in record.get("pattern") or []],
        situation=str(record.get("situation", "")),
        analysis=str(record.get("analysis", "")),
        background=str(scenario_raw.get("storyBackground", "")),
        protagonist=protagonist,
        supporting=supporting or [CharacterProfile(name="(none)", about_self="", about_others="")],
        char2pattern={str(k): list(v) for k, v in (record.get("char2pattern") or {}).items()},
        checklists=_checklists(record.get("conversation_checklist")),
        variation=variation,
    )
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return Episode(
        id=digest,
        scenario=scenario,
        conversation=Conversation(turns=turns, ended_by="released"),
        mode="author",
        models={"source": "released"},
    )


def import_released(paths: list[Path]) -> tuple[list[Episode], ImportReport]:
    report = ImportReport()
    episodes = []
    for path in paths:
        for label, record in read_records(path):
            report.read += 1
            try:
                episodes.append(episode_from_released(record))
                report.imported += 1
            except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
                report.skipped[label] = str(exc).splitlines()[0]
    return episodes, report


def episode_to_released(episode: Episode) -> dict[str, Any]:
    """An episode in the released schema (thoughts kept in the trinity text)."""
    scenario = episode.scenario

    def profile(p: CharacterProfile) -> dict[str, str]:
        return {"name": p.name, "aboutSelf": p.about_self, "aboutOthers": p.about_others}

    record: dict[str, Any] = {
        "pattern": scenario.patterns,
        "situation": scenario.situation,
        "analysis": scenario.analysis,
        "scenario": {
            "storyBackground": scenario.background,
            "charactersProfiles": {
                "protagonist": profile(scenario.protagonist),
                "supportingCharacter": [profile(p) for p in scenario.supporting],
            },
        },
        "protagonist": scenario.protagonist.name,
        "supporting_characters": [p.name for p in scenario.supporting],
        "char2pattern": scenario.char2pattern,
        "conversation": [{"char": t.speaker, "content": t.as_trinity()} for t in episode.conversation.turns],
        "conversation_checklist": {c.character: c.items for c in scenario.checklists},
    }
    if scenario.variation is not None:
        varied = scenario.variation
        record.update(
            factor_analysis=varied.factor_analysis,
            new_factor_settings=varied.new_factor_settings,
            scenario_variation={"storyBackground": varied.background},
            analysis_variation=varied.analysis,
            conversation_checklist_variation={c.character: c.items for c in varied.checklists},
        )
    return record
