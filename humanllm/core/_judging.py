"""Checklist items and the judge's verdicts on them."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


NOT_APPLICABLE = "n/a"
"""What the judge answers for an item the transcript gave no opportunity to show."""


class Verdict(BaseModel):
    """The judge's verdict on one item: a ternary score, "n/a" (no opportunity), or unscored (the judge failed).

    Three different things: 0 means the scene gave the character a chance and the behaviour did not
    show; n/a means nothing in the transcript could have called for it (`not_applicable`, score None);
    unscored means the judge gave no usable answer (score None, not n/a). Metrics leave n/a and
    unscored items out (with `na_as_zero` n/a counts as 0, the paper-comparable number)."""

    model_config = ConfigDict(extra="forbid")

    item_id: str
    score: Score | None = Field(description="+1 exhibited, 0 not exhibited, -1 contradicted; None = n/a or unscored.")
    not_applicable: bool = Field(
        default=False, description="The judge answered n/a: the transcript gave no opportunity to show it."
    )
    evidence: str = Field(default="", description="Turn numbers and a short quote.")
    reason: str = Field(default="", description="Why this score; for unscored items, why no score.")

    @model_validator(mode="after")
    def _na_has_no_score(self) -> Self:
        if self.not_applicable and self.score is not None:
            raise ValueError("an n/a verdict has no score")
        return self

    @property
    def scored(self) -> bool:
        """It has a score (-1, 0 or +1)."""
        return self.score is not None

    @property
    def answered(self) -> bool:
        """The judge decided: a score or n/a (only unanswered items are asked again)."""
        return self.score is not None or self.not_applicable

    def value(self, *, na_as_zero: bool = False) -> int | None:
        """The number that enters a metric: the score; n/a as 0 with `na_as_zero`; else None."""
        if self.score is not None:
            return int(self.score)
        return 0 if self.not_applicable and na_as_zero else None
