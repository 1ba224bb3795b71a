"""Curated relations between patterns, read from YAML with file and line for every problem."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.errors import PatternDataError

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


class RelationProblem(PatternDataError):
    pass


def read_relation_file(path: Path) -> list[tuple[Relation, int]]:
    """Relations in a file with their line numbers; every problem in one error."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise PatternDataError(f"{path}: cannot read relations: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list) or not isinstance(node, yaml.SequenceNode):
        raise PatternDataError(f"{path}: a relations file holds a YAML list")
    out: list[tuple[Relation, int]] = []
    problems: list[str] = []
    for entry, item in zip(raw, node.value, strict=True):
        line = item.start_mark.line + 1
        try:
            out.append((Relation.model_validate(entry), line))
        except ValidationError as exc:
            first = exc.errors()[0]
            problems.append(f"{path}:{line}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    if problems:
        raise PatternDataError("bad relations:\n  " + "\n  ".join(problems))
    return out


def read_relations(directories: list[Path]) -> list[tuple[Relation, str]]:
    """Every relation under the directories, each with `file:line` for messages."""
    found: list[tuple[Relation, str]] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.yaml")):
            found.extend((rel, f"{path}:{line}") for rel, line in read_relation_file(path))
    return found
