"""Import the authors' released pattern files into our card format, keeping what they give.

Released schema: `patterns_data.json` is an object keyed by pattern name whose values hold
`construct_name`, `description` (social-cognitive) or `definition` (traits), `core_mechanisms`
(an object of channels, or one text) and `real_world_manifestation`; `pattern_level_checklist.json`
holds entries with `trait`, `checklist: [{question, evidence_status}]`, `case_review` and `notes`,
as a list or an object.

Every card written is `origin: imported`:

- a pattern with a built-in card is merged into it: released text replaces ours where the release
  has it; family, triggers and markers, which the release lacks, stay from the built-in card;
- a pattern with no built-in card becomes a new card: its family comes from `--family` or from the
  documented guess in `_family_guess`, and it has no triggers or markers, so it is *incomplete*
  (`Pattern.missing`): it loads and can be judged on its checklist, and `patterns validate` warns
  about what it lacks. A new pattern without a checklist is skipped: it could not be judged.

Released checklists of any length are kept (a warning outside 12-15), with each item's
`evidence_status` and the entry's `case_review` and `notes`. A bad file stops the import with one
line naming it; a bad pattern is reported with its file and skipped, never stopping the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from humanllm.core import CHECKLIST_MAX, CHECKLIST_MIN, CardOrigin, Family, Pattern, PatternKind, Pole, slugify
from humanllm.errors import ConfigError, DataError
from humanllm.patterns._family_guess import guess_family, guess_pole
from humanllm.patterns._library import PatternLibrary, load_library
from humanllm.patterns._released import (
    MANIFESTATION_CHANNELS,
    MECHANISM_CHANNELS,
    BadEntry,
    ReleasedChecklist,
    merge_sections,
    read_checklists,
    read_json,
    text_of,
)


class ImportedCard(BaseModel):
    """One card an import wrote."""

    name: str
    id: str
    file: str = Field(description="The card file written.")
    new: bool = Field(description="True when the pattern had no built-in card.")
    kind: PatternKind
    family: Family
    pole: Pole | None = None
    family_source: str = Field(description="'built-in card', '--family', or 'guess: ' and the evidence.")
    missing: list[str] = Field(default_factory=list, description="What the card lacks (see Pattern.missing).")
    warnings: list[str] = Field(default_factory=list, description="What was kept or changed, and why.")


class ImportReport(BaseModel):
    """What an import did."""

    written: list[str] = Field(default_factory=list, description="Files written.")
    matched: list[str] = Field(
        default_factory=list, description="Released patterns with a built-in card (merged into it unless skipped)."
    )
    new: list[str] = Field(
        default_factory=list, description="Released patterns with no built-in card (new cards unless skipped)."
    )
    cards: list[ImportedCard] = Field(default_factory=list, description="Per card written: family, gaps, warnings.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Pattern -> why it was not written.")
    warnings: list[str] = Field(default_factory=list, description="Notes not about one written card.")

    @property
    def incomplete(self) -> list[str]:
        """Names of the written cards that lack some part (no markers, for one)."""
        return [card.name for card in self.cards if card.missing]


# --- --family -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamilyChoice:
    """`--family`: one family for every new pattern, and/or one per named pattern."""

    default: Family | None = None
    per_pattern: dict[str, Family] = field(default_factory=dict)
    """Lower-cased pattern name -> family."""

    def get(self, name: str) -> Family | None:
        return self.per_pattern.get(name.strip().lower(), self.default)


def _family(text: str, option: str) -> Family:
    key = re.sub(r"[\s-]+", "_", text.strip().lower())
    try:
        return Family(key)
    except ValueError:
        known = ", ".join(f.value for f in Family)
        raise ConfigError(f"--family {option!r}: unknown family {text.strip()!r}; use one of: {known}") from None


def parse_family_option(values: Sequence[str]) -> FamilyChoice:
    """`FAMILY` (all new patterns) or `NAME=FAMILY` (one pattern), each checked against `Family`."""
    default: Family | None = None
    per_pattern: dict[str, Family] = {}
    for value in values:
        name, _, family = value.rpartition("=")
        if not name.strip():
            if default is not None:
                raise ConfigError("give --family FAMILY once; name single patterns with --family 'NAME=FAMILY'")
            default = _family(family, value)
        else:
            per_pattern[name.strip().lower()] = _family(family, value)
    return FamilyChoice(default, per_pattern)


# --- building cards -------------------------------------------------------------------------------
@dataclass
class _Draft:
    data: dict[str, Any]
    family_source: str
    new: bool
    warnings: list[str] = field(default_factory=list)


def _new_draft(name: str, released: dict[str, Any], families: FamilyChoice, where: str) -> _Draft:
    text = " ".join(t for t in (text_of(released.get("description")), text_of(released.get("definition"))) if t)
    gives_definition = "definition" in released and "description" not in released
    chosen = families.get(name)
    if chosen is not None:
        kind = PatternKind.TRAIT if chosen.is_big_five else PatternKind.SOCIAL_COGNITIVE
        pole, source = None, "--family"
        if chosen.is_big_five:
            pole, why = guess_pole(chosen, name, text)
            source = f"--family; guess: {why}"
        family = chosen
    else:
        guess = guess_family(name, text, gives_definition=gives_definition)
        if guess is None:  # only a trait can go unguessed
            raise BadEntry(
                f"{where}: a trait with no built-in card, and nothing in it suggests its Big-Five dimension; "
                f"pass --family '{name}=DIMENSION'"
            )
        kind, family, pole, source = guess.kind, guess.family, guess.pole, f"guess: {guess.reason}"
    data = {"name": name, "id": slugify(name), "kind": kind, "family": family, "pole": pole}
    return _Draft({**data, "core_mechanisms": {}, "real_world_manifestation": {}}, source, new=True)


def _fill(draft: _Draft, released: dict[str, Any] | None, checklist: ReleasedChecklist | None, where: str) -> None:
    """Released text and checklist into the draft, in place."""
    data = draft.data
    data["origin"] = CardOrigin.IMPORTED
    if released is not None:
        definition = text_of(released.get("description")) or text_of(released.get("definition"))
        if definition:
            data["definition"] = definition
        elif draft.new:
            raise BadEntry(f"{where}: no 'description' or 'definition'")
        else:
            draft.warnings.append("no description or definition in the release; the built-in one is kept")
        draft.warnings += merge_sections(
            data["core_mechanisms"],
            released.get("core_mechanisms"),
            MECHANISM_CHANNELS,
            "cognitive",
            "core_mechanisms",
        )
        draft.warnings += merge_sections(
            data["real_world_manifestation"],
            released.get("real_world_manifestation"),
            MANIFESTATION_CHANNELS,
            "everyday",
            "real_world_manifestation",
        )
    if checklist is None or not checklist.questions:
        if draft.new:
            raise BadEntry(f"{where}: its released checklist is empty, and a new card needs one to be judged")
        draft.warnings.append("no released checklist; the built-in one is kept")
        return
    draft.warnings += checklist.warnings
    count = len(checklist.questions)
    if not CHECKLIST_MIN <= count <= CHECKLIST_MAX:
        draft.warnings.append(
            f"checklist has {count} items, outside the {CHECKLIST_MIN}-{CHECKLIST_MAX} of authored cards; all kept"
        )
    data.update(checklist=checklist.questions, checklist_evidence=checklist.evidence)
    data.update(case_review=checklist.case_review, notes=checklist.notes)


def _validated(draft: _Draft, where: str) -> Pattern:
    try:
        return Pattern.model_validate(draft.data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'card'}: {e['msg']}" for e in exc.errors()[:3])
        raise BadEntry(f"{where}: {problems}") from exc


def _write(card: Pattern, out: Path) -> Path:
    path = out / f"{card.id}.yaml"
    dumped = [card.model_dump(mode="json", exclude_defaults=True)]
    try:
        path.write_text(yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True), encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _checklist_for(
    names: Sequence[str], lists: Mapping[str, ReleasedChecklist]
) -> tuple[str | None, ReleasedChecklist | None]:
    for key in (n.strip().lower() for n in names):
        if key in lists:
            return key, lists[key]
    return None, None


@dataclass
class _Run:
    """One import's inputs and what it has done so far."""

    data_file: Path
    list_file: Path | None
    lists: dict[str, ReleasedChecklist]
    bad_lists: dict[str, str]
    families: FamilyChoice
    library: PatternLibrary
    report: ImportReport = field(default_factory=ImportReport)
    used_lists: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)

    def draft(self, key: str, released: Any, name: str, where: str) -> tuple[_Draft, Pattern]:
        """The validated card for one released pattern (`released` None: a checklist alone)."""
        if released is not None and not isinstance(released, dict):
            raise BadEntry(f"{where}: the value is {type(released).__name__}, not an object")
        known = next((self.library.get(n) for n in (name, key) if n in self.library), None)
        (self.report.new if known is None else self.report.matched).append(known.name if known else name)
        list_key, checklist = _checklist_for([*(known.names() if known else []), name, key], self.lists)
        self.used_lists.add(list_key or name.lower())
        if bad := next((self.bad_lists[n.lower()] for n in (name, key) if n.lower() in self.bad_lists), None):
            raise BadEntry(bad)
        if known is not None:
            draft = _Draft(known.model_dump(mode="json"), "built-in card", new=False)
            if name.lower() in self.families.per_pattern:
                draft.warnings.append("--family ignored: it has a built-in card, whose family is kept")
        elif released is None:
            raise BadEntry(f"{where}: only in the checklists; a new card needs its entry in {self.data_file.name}")
        elif checklist is None:
            held = f"{self.list_file.name} has none for it" if self.list_file else "no --checklists file was given"
            raise BadEntry(f"{where}: no built-in card and {held}; a new card needs a checklist to be judged")
        else:
            draft = _new_draft(name, released, self.families, where)
        _fill(draft, released, checklist, where)
        card = _validated(draft, where)
        if card.id in self.ids:
            raise BadEntry(f"{where}: same id {card.id!r} as {self.ids[card.id]!r}, imported above")
        return draft, card

    def one(self, key: str, released: Any, out: Path) -> None:
        """Import one pattern, or record why not."""
        named = text_of(released.get("construct_name")) if isinstance(released, dict) else None
        name = " ".join((named or key).split())
        source = self.data_file if released is not None else self.list_file
        where = f"{source.name if source else '?'}: {name!r}"
        try:
            draft, card = self.draft(key, released, name, where)
        except BadEntry as exc:
            self.report.skipped[name] = str(exc)
            return
        path = _write(card, out)
        self.ids[card.id] = card.name
        self.report.written.append(str(path))
        self.report.cards.append(
            ImportedCard(
                name=card.name,
                id=card.id,
                file=str(path),
                new=draft.new,
                kind=card.kind,
                family=card.family,
                pole=card.pole,
                family_source=draft.family_source,
                missing=card.missing(),
                warnings=draft.warnings,
            )
        )


def import_released_files(
    patterns_data: Path,
    checklists: Path | None,
    out: Path,
    *,
    families: FamilyChoice | None = None,
    library: PatternLibrary | None = None,
) -> ImportReport:
    """Write one YAML card per released pattern into `out` and report what happened (see module doc)."""
    raw = read_json(patterns_data)
    if not isinstance(raw, dict):
        raise DataError(f"{patterns_data}: expected an object keyed by pattern name, got {type(raw).__name__}")
    lists, bad_lists = read_checklists(read_json(checklists), checklists) if checklists else ({}, {})
    run = _Run(patterns_data, checklists, lists, bad_lists, families or FamilyChoice(), library or load_library())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {out}: {exc.strerror or exc}") from exc
    for key, released in raw.items():
        run.one(str(key), released, out)
    for key in [k for k in lists if k not in run.used_lists]:  # checklists for patterns not in patterns_data
        run.one(key, None, out)
    report = run.report
    for key, why in bad_lists.items():
        if key not in run.used_lists:
            report.skipped.setdefault(key, why)
    seen = {c.name.lower() for c in report.cards} | {n.lower() for n in report.skipped}
    report.warnings += [
        f"--family names {name!r}, which neither file holds" for name in run.families.per_pattern if name not in seen
    ]
    return report
