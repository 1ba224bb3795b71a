"""A study's design file: the fixed scenario, the factors, the design, the models and the judge runs.

Read with `read_design(PATH)` (YAML, every model `extra="forbid"`); relative paths in it are relative to
the file. A factor is one pattern given to (level 1) or withheld from (level 0) one character; with `swap`
level 0 gives the swap pattern instead. The design decides which combinations of levels are cells.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from humanllm.agents import JUDGE_BATCH_SIZE, JUDGE_MAX_TOKENS, JUDGE_TEMPERATURE
from humanllm.errors import ConfigError
from humanllm.llm import DEFAULT_SPEC
from humanllm.patterns import PatternLibrary

MAX_FACTORS = 5
DEFAULT_MAX_CELLS = 32


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignKind(StrEnum):
    FACTORIAL = "factorial"
    """Every combination of levels: 2^k cells; main effects and every pairwise interaction."""
    LEAVE_ONE_OUT = "leave-one-out"
    """All factors given, then each one withheld in turn: k + 1 cells; each factor's effect against the full cell."""
    ONE_AT_A_TIME = "one-at-a-time"
    """None given, then each one alone: k + 1 cells; each factor's effect against the empty cell."""


def design_levels(factors: Sequence[str], design: DesignKind) -> list[tuple[int, ...]]:
    """The level combinations that are the design's cells, in a fixed order (the first factor varies fastest)."""
    k = len(factors)
    if design is DesignKind.FACTORIAL:
        return [tuple(reversed(bits)) for bits in itertools.product((0, 1), repeat=k)]
    if design is DesignKind.LEAVE_ONE_OUT:
        return [(1,) * k] + [tuple(0 if i == j else 1 for i in range(k)) for j in range(k)]
    return [(0,) * k] + [tuple(1 if i == j else 0 for i in range(k)) for j in range(k)]


class Placed(_Model):
    """A pattern held fixed on one character, in every cell."""

    pattern: str
    character: str = Field(default="protagonist", description="protagonist, supporting, supporting:N or a name.")


class WrittenScenario(_Model):
    """A scenario the writer model writes once (all factors given), frozen in the study folder."""

    fixed: list[Placed] = Field(default_factory=list, description="Patterns held fixed besides the factors.")
    situation: str | None = Field(default=None, description="A DIAMONDS type, a domain or free text; None: drawn.")
    characters: int = Field(default=2, ge=2, le=6)
    seed: int = 0


class ScenarioSource(_Model):
    """Where the fixed scenario comes from: exactly one of `episode`, `released` or `write`."""

    episode: Path | None = Field(default=None, description="A store folder or JSONL file holding the episode.")
    id: str | None = Field(default=None, description="The episode's id (a unique prefix will do) in `episode`.")
    released: Path | None = Field(default=None, description="A file of the authors' released data.")
    index: int = Field(default=0, ge=0, description="The record of `released` (0-based).")
    write: WrittenScenario | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("episode", "released", "write") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of episode, released or write (got {', '.join(given) or 'none'})")
        return self


class Factor(_Model):
    """One pattern given to or withheld from one character."""

    pattern: str
    character: str = Field(
        default="protagonist",
        description="protagonist, supporting (the first), supporting:N (1-based) or a character's name.",
    )
    name: str | None = Field(default=None, description="Short name in tables and plots; default: from the pattern.")
    swap: str | None = Field(default=None, description="Level 0 gives this pattern instead of none.")

    @property
    def label(self) -> str:
        return self.name or re.sub(r"[^a-z0-9]+", "_", self.pattern.lower()).strip("_")


class StudyModels(_Model):
    character: str = Field(default=DEFAULT_SPEC, description="Plays every character.")
    writer: str = Field(default=DEFAULT_SPEC, description="Writes the scenario when `scenario.write` is used.")
    judge: str = Field(default=DEFAULT_SPEC)


class StudyJudge(_Model):
    runs: int = Field(default=1, ge=1, le=10, description="Independent judge runs per character.")
    batch_size: int = Field(default=JUDGE_BATCH_SIZE, ge=1, description="Items per judge call.")
    temperature: float = Field(default=JUDGE_TEMPERATURE, ge=0, le=2)
    max_tokens: int = Field(default=JUDGE_MAX_TOKENS, ge=64, description="Judge completion limit (fit a batch).")


class TurnBounds(_Model):
    min: int = Field(default=4, ge=2)
    max: int = Field(default=8, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max < self.min:
            raise ValueError(f"turns.max ({self.max}) is below turns.min ({self.min})")
        return self


class StudyDesign(_Model):
    """The whole design file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Names the study in tables and ids.")
    question: str = Field(default="", description="The research question, shown in the report.")
    scenario: ScenarioSource
    factors: list[Factor] = Field(min_length=1, max_length=MAX_FACTORS)
    design: DesignKind = DesignKind.FACTORIAL
    replicates: int = Field(default=3, ge=1, le=1000, description="Episodes (seeds) per cell.")
    models: StudyModels = Field(default_factory=StudyModels)
    judge: StudyJudge = Field(default_factory=StudyJudge)
    turns: TurnBounds | None = Field(default=None, description="None: the source episode's bounds, else 4-8.")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=16)
    guidance: bool = Field(default=True, description="Give each character private guidance from its patterns.")
    seed: int = 0
    max_cells: int = Field(default=DEFAULT_MAX_CELLS, ge=1, description="Refuse designs with more cells than this.")

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        labels = [f.label for f in self.factors]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"two factors share the name {repeated[0]!r}: give each a distinct `name`")
        patterns = [p.strip().lower() for f in self.factors for p in (f.pattern, f.swap) if p]
        twice = sorted({p for p in patterns if patterns.count(p) > 1})
        if twice:
            raise ValueError(f"the pattern {twice[0]!r} is in two factors: a pattern can be one factor's level only")
        return self

    @property
    def factor_names(self) -> list[str]:
        return [f.label for f in self.factors]

    def cells(self) -> list[Cell]:
        """The design's cells, in a fixed order."""
        combos = design_levels(self.factor_names, self.design)
        return [Cell(levels=dict(zip(self.factor_names, combo, strict=True))) for combo in combos]

    def check_patterns(self, library: PatternLibrary) -> None:
        """A one-line error (with suggestions) for the first factor pattern the library does not know."""
        for factor in self.factors:
            for name in (factor.pattern, factor.swap):
                if name:
                    library.get(name)

    def check_size(self) -> None:
        """A one-line error when the design has more cells than `max_cells`."""
        count = len(self.cells())
        if count > self.max_cells:
            raise ConfigError(
                f"the {self.design.value} design over {len(self.factors)} factors has {count} cells, above the "
                f"limit of {self.max_cells}: use design: leave-one-out or one-at-a-time, fewer factors, or raise "
                "max_cells"
            )


class Cell(_Model):
    """One combination of factor levels."""

    levels: dict[str, int]

    @property
    def label(self) -> str:
        return " ".join(f"{name}={level}" for name, level in self.levels.items())


def read_design(path: Path) -> StudyDesign:
    """The design in a YAML file, paths made relative to it; one-line errors for a missing or malformed file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no design file at {path}: write one (see examples/ in the repository)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping (name, scenario, factors, ...), not {type(raw).__name__}")
    try:
        design = StudyDesign.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "design"
        raise ConfigError(f"{path}: {where}: {error['msg']}") from exc
    return _relative_to(design, path.parent)


def _relative_to(design: StudyDesign, folder: Path) -> StudyDesign:
    source = design.scenario
    updates: dict[str, Path] = {}
    for field in ("episode", "released"):
        value = getattr(source, field)
        if value is not None and not value.is_absolute():
            updates[field] = folder / value
    if not updates:
        return design
    return design.model_copy(update={"scenario": source.model_copy(update=updates)})
