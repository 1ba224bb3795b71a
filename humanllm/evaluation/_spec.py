"""Specs of evaluation work: a judgement and a benchmark play, each hashed into its id and stored whole."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from humanllm.agents.holistic import HolisticChoice
from humanllm.core import GrowingSpec
from humanllm.llm import GenerationSpec


class JudgementSpec(GrowingSpec):
    """Everything that determines one judgement; `spec_id(spec)` is its key in a judgement store."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    omitted_at_default = ("holistic",)  # a spec stored before `holistic` was kept dumps as it did then

    kind: Literal["judgement"] = "judgement"
    episode_id: str
    character: str
    judge: str = Field(description="Judge model spec in its one written form.")
    generation: GenerationSpec = Field(description="Judge temperature, max tokens and (redacted) base URL.")
    prompt_version: str = Field(description="Hash of the judge's (and the model layer's) prompt templates.")
    batch_size: int = Field(ge=1)
    run: int = Field(ge=0, description="Index of the independent judge run (0-based).")
    seed: int = Field(description="The judge options' seed; run r samples with seed + r.")
    holistic: HolisticChoice | None = Field(
        default=None,
        description="The holistic baseline asked for (coser, direct or off); None: a spec stored before it was kept.",
    )


class PlaySpec(GrowingSpec):
    """Everything that determines one benchmark play: a model playing one character of a source episode."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    omitted_at_default = ("format",)

    kind: Literal["play"] = "play"
    source: str = Field(description="Id of the source episode.")
    target: str = Field(description="The character the model under test plays.")
    model: str = Field(description="Model under test, in its one written form.")
    generation: GenerationSpec = Field(description="Sampling settings of the model under test (and the partner).")
    mode: Literal["replay", "live"]
    partner: str | None = Field(description="live mode: the partner model, in its one written form.")
    guidance: bool
    seed: int
    templates: dict[str, str] = Field(description="Template name -> hash, for every prompt a play renders.")
    format: Literal["json", "sharegpt"] = Field(
        default="json",
        description="How the model under test is prompted and answers: json (the character prompt, a JSON turn) "
        "or sharegpt (the export-sft system prompt and history, a plain trinity turn). A json play leaves the "
        "field out of its stored spec, so its id is the one it had before the field existed.",
    )
