"""The results of a study's analysis: pydantic models, JSON-serialisable, undefined numbers None (never NaN)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.study._design import DesignKind

MPD = "MPD"
"""The `pattern` of a character's MPD outcome."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(_Model):
    """What one character's items measure: one pattern's IPE items, or the MPD items."""

    character: str
    metric: Literal["ipe", "mpd"]
    pattern: str = Field(description='The IPE items\' pattern, or "MPD".')
    label: str = Field(description='"character: pattern", the name in tables and plots.')


class CellInfo(_Model):
    label: str
    levels: dict[str, int]
    episodes: int = Field(description="Episodes (replicates) of the cell in the table.")


class Expression(_Model):
    """One outcome in one cell: the mean over replicates and its bootstrap interval."""

    outcome: str
    character: str
    pattern: str
    cell: str
    levels: dict[str, int]
    mean: float | None = Field(description="None: no episode of the cell has a value.")
    ci_low: float | None = Field(description="None with fewer than two replicates.")
    ci_high: float | None
    sd: float | None = Field(description="Standard deviation over replicates (n - 1); None below two.")
    n: int = Field(description="Replicates with a value.")
    dropped: int = Field(description="Episodes of the cell without a scored item for the outcome.")
    carried: bool | None = Field(description="The character was given the pattern in this cell; None for MPD.")


class PairMean(_Model):
    """An outcome's mean at one level of each of two factors, averaged over the other factors' cells."""

    outcome: str
    levels: dict[str, int]
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


class Effect(_Model):
    """A main effect or a pairwise interaction on one outcome."""

    kind: Literal["main", "interaction"]
    factors: list[str]
    name: str = Field(description='The factor, or "f x g".')
    outcome: str
    character: str
    pattern: str
    estimate: float | None = Field(description="None: a cell it needs has no value (see `note`).")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None = Field(description="Two-sided permutation p-value; None when not tested.")
    n: int = Field(description="Replicates in the cells the contrast uses.")
    contrast: str = Field(description="What was subtracted from what, in words.")
    manipulates: bool = Field(
        description="The factor (either, for an interaction) decides whether the character carries this "
        "outcome's pattern: the effect is the manipulation check rather than a spill-over."
    )
    note: str | None = None

    @property
    def significant(self) -> bool:
        """p < 0.05, or without a test an interval that excludes 0."""
        if self.p_value is not None:
            return self.p_value < 0.05
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)


class Counts(_Model):
    """What went into the analysis and what did not."""

    rows: int
    scored: int = Field(description="Rows scored -1, 0 or 1.")
    not_applicable: int = Field(description='Rows the judge answered "n/a".')
    unscored: int = Field(description="Rows the judge gave no usable answer for.")
    scored_without_score: int = Field(description='Rows marked "scored" whose score is missing: left out.')
    episodes: int
    episodes_outside_design: int = Field(description="Episodes whose levels are no cell of the design: left out.")
    judge_runs: int = Field(description="Distinct (judge, run) pairs.")
    dropped_values: int = Field(description="Episode x outcome pairs without any scored item.")
    judge_run_sd: float | None = Field(
        description="Mean over episodes and outcomes of the SD between judge runs (None with one run)."
    )


class Settings(_Model):
    seed: int
    n_boot: int
    n_perm: int
    confidence: float


class StudyAnalysis(_Model):
    """Everything `analyse` found, JSON-serialisable (undefined numbers are None, never NaN)."""

    study: str
    design: DesignKind
    factors: list[str]
    cells: list[CellInfo] = Field(description="The design's cells, in design order.")
    missing_cells: list[str] = Field(description="Cells of the design without any episode in the table.")
    outcomes: list[Outcome]
    expression: list[Expression]
    pair_means: list[PairMean] = Field(description="Factorial designs: the four means behind each interaction.")
    main_effects: list[Effect]
    interactions: list[Effect]
    interactions_estimated: bool = Field(description="False for designs that cannot separate interactions.")
    interactions_note: str
    counts: Counts
    settings: Settings

    @property
    def effects(self) -> list[Effect]:
        return [*self.main_effects, *self.interactions]
