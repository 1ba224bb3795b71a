"""Curated relations between patterns, read from YAML with file and line for every problem."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.core import read_text_file
from humanllm.errors import DataError, PatternDataError

if TYPE_CHECKING:
    from humanllm.patterns._library import PatternLibrary

BUILTIN_RELATIONS = Path(__file__).parent / "relations"


class RelationType(StrEnum):
    EXCLUDES = "excludes"
    """Cannot live in one character."""
    REINFORCES = "reinforces"
    CONFLICTS = "conflicts"
    MODULATES = "modulates"

    @property
    def is_interaction(self) -> bool:
        return self is not RelationType.EXCLUDES


class Relation(BaseModel):
    """A typed relation between two patterns, with a one-sentence rationale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    target: str
    type: RelationType
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


def _read(path: Path) -> tuple[list[tuple[Relation, int]], list[tuple[int, str]]]:
    """(relation, line of its entry) of a file, and every problem (line, `file:line: ...`) in it."""
    out: list[tuple[Relation, int]] = []
    entries, problems = _parse(path)
    for entry, item in entries:
        line = item.start_mark.line + 1
        try:
            out.append((Relation.model_validate(entry), line))
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "entry"
                problems.append((line, f"{path}:{line}: {field}: {error['msg']}"))
    return out, problems


def relation_file_problems(path: Path) -> tuple[list[tuple[Relation, int]], list[str]]:
    """The relations of a file with their line numbers, and every problem (`file:line: ...`) in it."""
    found, problems = _read(path)
    return found, [text for _, text in problems]


def read_relation_file(path: Path) -> list[tuple[Relation, int]]:
    """Relations in a file with their line numbers; every problem in one error."""
    out, problems = relation_file_problems(path)
    if problems:
        raise PatternDataError("bad relations:\n  " + "\n  ".join(problems))
    return out


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


def check_relation_files(directory: Path, library: PatternLibrary) -> list[str]:
    """Every problem in the relations files of a folder: unreadable or malformed files, bad fields
    (an unknown relation type, a short rationale), patterns the library does not know, a pattern
    related to itself and a relation given twice; each as `file:line: ...`."""
    problems: list[str] = []
    seen: dict[tuple[str, frozenset[str]], str] = {}
    for path in relation_files(directory):
        relations, issues = _read(path)
        found = list(issues)
        for relation, line in relations:
            names: list[str] = []
            for field in ("source", "target"):
                value = getattr(relation, field)
                try:
                    names.append(library.get(value).name)
                except KeyError:
                    found.append((line, f"{path}:{line}: {field}: unknown pattern {value!r}"))
            if len(names) != 2:
                continue
            if names[0] == names[1]:
                found.append((line, f"{path}:{line}: a pattern cannot relate to itself ({names[0]!r})"))
                continue
            key = (relation.type.value, frozenset(names))
            if key in seen:
                found.append(
                    (
                        line,
                        f"{path}:{line}: duplicate {relation.type.value} relation between {names[0]!r} and "
                        f"{names[1]!r} (first at {seen[key]})",
                    )
                )
            else:
                seen[key] = f"{path}:{line}"
        problems.extend(text for _, text in sorted(found, key=lambda item: item[0]))
    return problems
