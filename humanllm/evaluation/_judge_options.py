"""How episodes are judged: the options model, in a module of its own so the CLI reads its defaults
without loading the judge graph (and LangGraph)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from humanllm.agents import JUDGE_BATCH_SIZE, JUDGE_RETRIES
from humanllm.agents.holistic import HOLISTIC_DEFAULT, HolisticChoice
from humanllm.evaluation._bootstrap import RESAMPLES


class JudgeOptions(BaseModel):
    """How episodes are judged."""

    model_config = ConfigDict(extra="forbid")

    runs: int = Field(default=3, ge=1, description="Independent judge runs (reported as mean +- SD).")
    batch_size: int = Field(
        default=JUDGE_BATCH_SIZE, ge=1, description="Checklist items per judge call; 1 = one call per item."
    )
    retries: int = Field(
        default=JUDGE_RETRIES, ge=0, description="Extra rounds for unscored items (batch halves each round)."
    )
    holistic: HolisticChoice = Field(
        default=HOLISTIC_DEFAULT,
        description="Also rate anthropomorphism and character fidelity: coser (flaw penalty, the paper's baseline), "
        "direct (a 0-100 rating) or off.",
    )
    concurrency: int = Field(default=4, ge=1, description="Characters judged at once.")
    seed: int = Field(default=0, description="Run r samples with seed `seed + r` (where the backend takes one).")
    na_as_zero: bool = Field(
        default=False,
        description="Scoring only (judgements are the same): count n/a items as 0, the paper-comparable number; "
        "by default n/a items are left out of the metrics and counted in the coverage.",
    )
    bootstrap: int = Field(
        default=RESAMPLES,
        ge=0,
        description="Scoring only: bootstrap resamples for the 95% confidence intervals over samples (seeded from "
        "`seed`); 0 = no intervals.",
    )

    @field_validator("holistic", mode="before")
    @classmethod
    def _legacy_flag(cls, value: object) -> object:
        """Results saved before the CoSER score stored a flag: true meant the direct rating, false none."""
        if isinstance(value, bool):
            return "direct" if value else "off"
        return value
