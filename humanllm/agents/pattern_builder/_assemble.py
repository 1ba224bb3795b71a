"""Turning section replies into card fields that `Pattern` accepts, repairing what falls short.

The step schemas already carry the card's minimums, so with a working model nothing here changes
the text. The repairs catch what a schema cannot: whitespace-only strings, repeated list items,
markers that name the pattern. Each repair is reported so the provenance can say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from humanllm.agents.pattern_builder import _fallbacks as fb
from humanllm.agents.pattern_builder._text import normalise_space, redact
from humanllm.core import Family, Pattern, PatternKind, Pole, slugify
from humanllm.errors import ConfigError, PatternDataError

_TEXT_MINIMUMS: dict[tuple[str, str], int] = {
    ("core_mechanisms", "cognitive"): 20,
    ("core_mechanisms", "emotional"): 20,
    ("core_mechanisms", "behavioral"): 20,
    ("core_mechanisms", "motivation"): 20,
    ("real_world_manifestation", "everyday"): 20,
    ("real_world_manifestation", "costs"): 10,
    ("real_world_manifestation", "benefits"): 10,
}
_TEMPLATES = {**fb.TEMPLATE_MECHANISMS, **fb.TEMPLATE_MANIFESTATION}


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in (normalise_space(i) for i in items):
        if item and item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def assemble(
    *,
    name: str,
    family: Family,
    pole: Pole | None,
    fields: dict[str, Any],
    phrases: list[str],
    family_label: str,
) -> tuple[dict[str, Any], list[str]]:
    """Card fields (no checklist yet) and a list of the repairs made."""
    repairs: list[str] = []
    trait = family.is_big_five
    card: dict[str, Any] = {
        "name": name,
        "id": slugify(name),
        "kind": (PatternKind.TRAIT if trait else PatternKind.SOCIAL_COGNITIVE).value,
        "family": family.value,
        "pole": pole.value if trait and pole else None,
        "aliases": _unique(fields.get("aliases", [])),
        "definition": normalise_space(fields["definition"]),
    }
    if len(card["definition"]) < 40:
        card["definition"] = fb.template_definition(name, family_label)
        repairs.append("definition: too short after cleaning; generic placeholder used")
    for section in ("core_mechanisms", "real_world_manifestation"):
        card[section] = {}
        for key, value in fields[section].items():
            if key == "motivation" and trait:
                continue
            text = normalise_space(value or "")
            if len(text) < _TEXT_MINIMUMS[(section, key)]:
                text = _TEMPLATES[key]
                repairs.append(f"{section}.{key}: too short after cleaning; generic text used")
            card[section][key] = text
    cues = _unique([redact(c, phrases) for c in fields["triggers"]["cues"]])
    if len(cues) < 2:
        repairs.append("triggers.cues: fewer than two distinct cues; generic cues added")
    card["triggers"] = {
        "situations": list(dict.fromkeys(fields["triggers"]["situations"])) or ["sociality"],
        "cues": fb.pad(cues, fb.TEMPLATE_CUES, 2),
    }
    card["markers"] = {}
    for channel in ("thought", "action", "speech"):
        items = _unique([redact(m, phrases) for m in fields["markers"][channel]])
        if len(items) < 2:
            repairs.append(f"markers.{channel}: fewer than two distinct markers; generic markers added")
        card["markers"][channel] = fb.pad(items, fb.TEMPLATE_MARKERS[channel], 2)
    return card, repairs


_PLACEHOLDER_CHECKLIST = [f"Is this placeholder question number {i} answered?" for i in range(1, 13)]


def read_partial_card(path: Path, name: str | None) -> dict[str, Any]:
    """A card from a YAML file that has every field but its checklist, validated as far as it goes."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read card file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PatternDataError(f"{path} is not valid YAML: {exc}") from exc
    entries = [e for e in (raw if isinstance(raw, list) else [raw]) if isinstance(e, dict)]
    if name:
        entries = [e for e in entries if str(e.get("name", "")).strip().lower() == name.strip().lower()]
    if len(entries) != 1:
        found = "no card" if not entries else f"{len(entries)} cards"
        raise ConfigError(f"{path} holds {found}{' named ' + repr(name) if name else ''}; name one card to complete")
    entry = entries[0]
    label = entry.get("name", "?")
    if entry.get("checklist"):
        raise ConfigError(
            f"card {label!r} in {path} already has a checklist; delete its checklist field to synthesise a new one"
        )
    try:
        card = Pattern.model_validate({**entry, "checklist": _PLACEHOLDER_CHECKLIST})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "card"
        raise PatternDataError(
            f"{path}: card {label!r} field {where}: {first['msg']}; fix it (see `humanllm patterns validate`)"
        ) from exc
    return card.model_dump(mode="json", exclude={"checklist"})


def finish(card: dict[str, Any], checklist: list[str]) -> Pattern:
    """The complete card; a failure here is a builder bug, reported with the fields."""
    try:
        return Pattern.model_validate({**card, "checklist": checklist})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise PatternDataError(
            f"the built card for {card['name']!r} is not valid ({problems}); please report this"
        ) from exc
