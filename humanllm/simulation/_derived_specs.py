"""Specs of episodes derived from a fixed scenario (a study's cells), kept here beside `EpisodeSpec` so every
reader of a store (`data verify` among them) knows each kind of episode spec."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.director import TurnRules
from humanllm.llm import GenerationSpec


class CellSpec(BaseModel):
    """Everything that determines one cell episode; `spec_id(spec)` is its id (resume, never pay twice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["study"] = "study"
    scenario: str = Field(description="Id (content hash) of the frozen scenario.")
    levels: dict[str, int] = Field(description="Factor -> level (1 given, 0 withheld or swapped).")
    assignment: dict[str, list[str]] = Field(description="Character -> the patterns it is given in this cell.")
    measure: dict[str, list[str]] = Field(description="Character -> the patterns it is judged on (every cell).")
    replicate: int = Field(ge=0)
    seed: int = Field(description="The study seed; with the replicate it seeds the turn plan.")
    rules: TurnRules
    guidance: bool
    model: str = Field(description="The character model, in its one written form.")
    generation: GenerationSpec
    templates: dict[str, str]
