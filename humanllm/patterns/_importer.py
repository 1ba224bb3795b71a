"""Import the authors' released pattern files into our card format.

Released schema: `patterns_data.json` is an object keyed by pattern name whose values hold
`construct_name`, `description` (social-cognitive) or `definition` (traits), `core_mechanisms`
and `real_world_manifestation`; `pattern_level_checklist.json` holds entries with `trait`,
`checklist: [{question, evidence_status}]`, `case_review` and `notes`, as a list or an object.

Released text replaces ours where the released schema has it; triggers, markers and family,
which the release lacks, are kept from the built-in card. Patterns we have no card for are
reported and skipped: a card needs those fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from humanllm.core import Pattern
from humanllm.errors import DataError
from humanllm.patterns._library import load_library


class ImportReport(BaseModel):
    """What an import did."""

    written: list[str] = Field(default_factory=list, description="Files written.")
    matched: list[str] = Field(default_factory=list, description="Released patterns merged into built-in cards.")
    new: list[str] = Field(default_factory=list, description="Released patterns with no built-in card.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Pattern -> why it was not written.")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc


def _checklists_by_name(raw: Any, path: Path) -> dict[str, list[str]]:
    entries = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise DataError(f"{path}: expected a list or an object of checklist entries")
    out: dict[str, list[str]] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or "trait" not in entry or "checklist" not in entry:
            raise DataError(f"{path}: entry {index} needs 'trait' and 'checklist'")
        questions = [
            str(item["question"]).strip() if isinstance(item, dict) else str(item).strip()
            for item in entry["checklist"]
        ]
        out[str(entry["trait"]).strip().lower()] = [q if q.endswith("?") else q + "?" for q in questions if q]
    return out


def _channel(raw: dict[str, Any], *needles: str) -> str | None:
    for key, value in raw.items():
        if any(n in key.lower() for n in needles) and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _merge(card: Pattern, released: dict[str, Any], checklist: list[str] | None) -> dict[str, Any]:
    data = card.model_dump(mode="json")
    definition = released.get("description") or released.get("definition")
    if isinstance(definition, str) and definition.strip():
        data["definition"] = definition.strip()
    mech = released.get("core_mechanisms")
    if isinstance(mech, dict):
        for field, needles in (
            ("cognitive", ("cogn",)),
            ("emotional", ("emot", "affect")),
            ("behavioral", ("behav",)),
            ("motivation", ("evol", "motiv", "adaptive", "function")),
        ):
            value = _channel(mech, *needles)
            if value:
                data["core_mechanisms"][field] = value
    rwm = released.get("real_world_manifestation")
    if isinstance(rwm, str) and rwm.strip():
        data["real_world_manifestation"]["everyday"] = rwm.strip()
    elif isinstance(rwm, dict):
        for field, needles in (
            ("everyday", ("every", "example", "context", "situation")),
            ("costs", ("cost",)),
            ("benefits", ("benef",)),
        ):
            value = _channel(rwm, *needles)
            if value:
                data["real_world_manifestation"][field] = value
    if checklist:
        data["checklist"] = checklist
    return data


def import_released_files(patterns_data: Path, checklists: Path | None, out: Path) -> ImportReport:
    """Write merged cards (one YAML file per pattern) into `out` and report what happened."""
    raw = _read_json(patterns_data)
    if not isinstance(raw, dict):
        raise DataError(f"{patterns_data}: expected an object keyed by pattern name")
    lists = _checklists_by_name(_read_json(checklists), checklists) if checklists else {}
    library = load_library()
    report = ImportReport()
    out.mkdir(parents=True, exist_ok=True)
    for key, released in raw.items():
        name = str(released.get("construct_name") or key).strip() if isinstance(released, dict) else str(key)
        if not isinstance(released, dict):
            report.skipped[name] = "entry is not an object"
            continue
        if name not in library:
            report.new.append(name)
            report.skipped[name] = (
                "no built-in card: the release lacks family, triggers and markers; write the card by hand "
                "or build it with the pattern builder"
            )
            continue
        card = library.get(name)
        try:
            merged = Pattern.model_validate(_merge(card, released, lists.get(name.lower())))
        except ValidationError as exc:
            first = exc.errors()[0]
            report.skipped[name] = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
            continue
        path = out / f"{merged.id}.yaml"
        path.write_text(
            yaml.safe_dump(
                [merged.model_dump(mode="json", exclude_defaults=True)], sort_keys=False, allow_unicode=True
            ),
            encoding="utf-8",
        )
        report.matched.append(merged.name)
        report.written.append(str(path))
    return report
