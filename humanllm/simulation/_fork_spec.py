"""The spec of a fork's continuation: an episode played on from the kept start of another one.

It lives beside `EpisodeSpec` (not in `humanllm.study`, which plays forks) so that every layer that checks
stored ids (`data verify`) knows the kind without importing the study. `spec_id(spec)` is the
continuation's id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.core import Turn
from humanllm.llm import GenerationSpec


class PatternChange(BaseModel):
    """One pattern given to, or withheld from, one character."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str = Field(description="The pattern's name as the library writes it.")
    character: str = Field(description="The character's name in the scenario.")


class ForkSpec(BaseModel):
    """Everything that determines one continuation of a fork; `spec_id(spec)` is its id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["fork"] = "fork"
    source: str = Field(description="Id of the episode forked.")
    at_turn: int = Field(ge=1, description="K: turns 1..K-1 are kept as they were; turn K is the first that differs.")
    edit: Turn | None = Field(default=None, description="Turn K as rewritten; None: turn K is played again.")
    give: PatternChange | None = Field(default=None, description="A pattern given to one character.")
    withhold: PatternChange | None = Field(default=None, description="A pattern taken from the character carrying it.")
    replicate: int = Field(ge=0, description="Index of this continuation among the fork's replicates (0-based).")
    model: str = Field(description="The model that plays every character in the continuation (one written form).")
    generation: GenerationSpec = Field(description="Its sampling settings.")
    guidance: bool = Field(description="Characters get private guidance from their patterns (as in the source).")
    turns: int = Field(ge=2, description="The continuation's planned length, kept turns included.")
    templates: dict[str, str] = Field(description="Template name -> hash, for every prompt a continuation renders.")
    measure: dict[str, list[str]] = Field(
        description="Character -> the patterns whose items it is judged on (the judge's `measure` entry)."
    )
