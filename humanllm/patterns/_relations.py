"""Curated relations between patterns, read from YAML with file and line for every problem."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.core import read_text_file
from humanllm.errors import DataError, PatternDataError
from humanllm.patterns._relation_types import LEGACY_CONFLICTS, LEGACY_HINT, RelationType, contradicts

if TYPE_CHECKING:
    from humanllm.patterns._library import PatternLibrary

logger = logging.getLogger(__name__)

BUILTIN_RELATIONS = Path(__file__).parent / "relations"


class Relation(BaseModel):
    """A typed relation between two patterns, with a one-sentence rationale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    target: str
    type: RelationType = Field(
        description="What the pair does (see RelationType); a file's old 'conflicts' reads as clash."
    )
    rationale: str = Field(min_length=10)
    directed: bool = Field(default=False, description="Source acts on target only (always true for modulates).")

    @property
    def is_directed(self) -> bool:
        return self.directed or self.type is RelationType.MODULATES


def _parse(path: Path) -> tuple[list[tuple[object, yaml.Node]], list[tuple[int, str]]]:
    """(entry, its node) of a relations file, or the one problem that stops it being read."""
    try:
        text = read_text_file(path, what="relations file")
    except DataError as exc:
        return [], [(0, str(exc))]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        where = f"{path}:{line}" if line else str(path)
        return [], [(line, f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")]
    if raw is None:
        return [], []
    if not isinstance(raw, list) or not isinstance(node, yaml.SequenceNode):
        return [], [(0, f"{path}: a relations file holds a YAML list of source/target/type/rationale entries")]
    return list(zip(raw, node.value, strict=True)), []


@dataclass
class _FileRead:
    """What one relations file holds: its relations with their lines, its problems, and the lines of
    entries that still use the old type `conflicts` (read as `clash`)."""

    relations: list[tuple[Relation, int]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    legacy: list[int] = field(default_factory=list)


def _read(path: Path) -> _FileRead:
    """Every relation of a file with the line of its entry, and every problem (line, `file:line: ...`) in it."""
    entries, problems = _parse(path)
    out = _FileRead(problems=problems)
    for entry, item in entries:
        line = item.start_mark.line + 1
        if isinstance(entry, dict) and entry.get("type") == LEGACY_CONFLICTS:
            entry = {**entry, "type": RelationType.CLASH.value}
            out.legacy.append(line)
        try:
            out.relations.append((Relation.model_validate(entry), line))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "entry"
                out.problems.append((line, f"{path}:{line}: {where}: {error['msg']}"))
    return out


@functools.cache
def _note_legacy(path: Path, count: int) -> None:
    """Logged once per file and process: old user folders keep working, and say how to update."""
    logger.warning(
        "%s: %d relation(s) of the old type 'conflicts' read as 'clash'; %s (humanllm patterns validate lists them)",
        path,
        count,
        LEGACY_HINT,
    )


def relation_file_problems(path: Path) -> tuple[list[tuple[Relation, int]], list[str]]:
    """The relations of a file with their line numbers, and every problem (`file:line: ...`) in it."""
    found = _read(path)
    return found.relations, [text for _, text in found.problems]


def read_relation_file(path: Path) -> list[tuple[Relation, int]]:
    """Relations in a file with their line numbers; every problem in one error. An entry of the old
    type `conflicts` is read as `clash`, with one logged note per file."""
    found = _read(path)
    if found.problems:
        raise PatternDataError("bad relations:\n  " + "\n  ".join(text for _, text in found.problems))
    if found.legacy:
        _note_legacy(path, len(found.legacy))
    return found.relations


def relation_files(directory: Path) -> list[Path]:
    """The relations files under a folder (.yaml and .yml), in a stable order."""
    return sorted(p for ext in ("*.yaml", "*.yml") for p in directory.rglob(ext))


def read_relations(directories: list[Path]) -> list[tuple[Relation, str]]:
    """Every relation under the directories, each with `file:line` for messages."""
    found: list[tuple[Relation, str]] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in relation_files(directory):
            found.extend((rel, f"{path}:{line}") for rel, line in read_relation_file(path))
    return found


def relation_warnings(directory: Path) -> list[str]:
    """Entries of the relations files of a folder that still load but should be updated: the old type
    `conflicts` (read as `clash`); each as `file:line: ...`."""
    return [
        f"{path}:{line}: type 'conflicts' is read as 'clash'; {LEGACY_HINT}: write the one its rationale describes"
        for path in relation_files(directory)
        for line in _read(path).legacy
    ]


def check_relation_files(directory: Path, library: PatternLibrary) -> list[str]:
    """Every problem in the relations files of a folder: unreadable or malformed files, bad fields
    (an unknown relation type, a short rationale), patterns the library does not know, a pattern
    related to itself, a relation given twice and a tension on a pair that cannot share a character;
    each as `file:line: ...`."""
    problems: list[str] = []
    seen: dict[frozenset[str], dict[RelationType, str]] = {}
    for path in relation_files(directory):
        read = _read(path)
        found = list(read.problems)
        for relation, line in read.relations:
            names: list[str] = []
            for name_field in ("source", "target"):
                value = getattr(relation, name_field)
                try:
                    names.append(library.get(value).name)
                except KeyError:
                    found.append((line, f"{path}:{line}: {name_field}: unknown pattern {value!r}"))
            if len(names) != 2:
                continue
            if names[0] == names[1]:
                found.append((line, f"{path}:{line}: a pattern cannot relate to itself ({names[0]!r})"))
                continue
            types = seen.setdefault(frozenset(names), {})
            kind = relation.type
            if kind in types:
                found.append(
                    (
                        line,
                        f"{path}:{line}: duplicate {kind.value} relation between {names[0]!r} and "
                        f"{names[1]!r} (first at {types[kind]})",
                    )
                )
                continue
            for other, where in types.items():
                if contradicts(kind, other):
                    found.append((line, f"{path}:{line}: {contradiction(kind, other, names[0], names[1], where)}"))
            types[kind] = f"{path}:{line}"
        problems.extend(text for _, text in sorted(found, key=lambda item: item[0]))
    return problems


def contradiction(kind: RelationType, other: RelationType, a: str, b: str, where: str) -> str:
    """Why one pair cannot hold both types (see `contradicts`), and what to write instead."""
    keep = other if other.keeps_apart else kind
    return (
        f"{a!r} and {b!r} have both a tension and a {keep.value} relation (the other at {where}): a tension "
        f"plays out inside one person, which {keep.value} forbids; make it a clash (between people) or drop one"
    )
