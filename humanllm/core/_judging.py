"""Checklist items and the judge's verdicts on them."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Metric(StrEnum):
    IPE = "ipe"
    """Individual Pattern Expression: pattern-level checklist items."""
    MPD = "mpd"
    """Multi-Pattern Dynamics: scenario-level checklist items."""


class ChecklistItem(BaseModel):
    """One yes/no item the judge scores for one character."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id, unique within one judged character.")
    metric: Metric
    question: str
    pattern: str | None = Field(default=None, description="IPE: the pattern the item belongs to.")


class Score(IntEnum):
    CONTRADICTED = -1
    NOT_EXHIBITED = 0
    EXHIBITED = 1


class Verdict(BaseModel):
    """The judge's ternary verdict on one item; `score` None means unscored."""

    model_config = ConfigDict(extra="forbid")

    item_id: str
    score: Score | None = Field(description="+1 exhibited, 0 not exhibited, -1 contradicted; None = unscored.")
    evidence: str = Field(default="", description="Turn numbers and a short quote.")
    reason: str = Field(default="", description="Why this score; for unscored items, why no score.")

    @property
    def scored(self) -> bool:
        return self.score is not None
