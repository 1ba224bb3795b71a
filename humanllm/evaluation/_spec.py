"""Specs of evaluation work: a judgement and a benchmark play, each hashed into its id and stored whole."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from humanllm.agents.holistic import HolisticChoice
from humanllm.llm import GenerationSpec


class JudgementSpec(BaseModel):
    """Everything that determines one judgement; `spec_id(spec)` is its key in a judgement store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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

    @model_serializer(mode="wrap")
    def _omit_unknown_holistic(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A spec stored before `holistic` was kept dumps (and so hashes) as it did then."""
        data: dict[str, Any] = handler(self)
        if data.get("holistic") is None:
            data.pop("holistic", None)
        return data


class PlaySpec(BaseModel):
    """Everything that determines one benchmark play: a model playing one character of a source episode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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

    @model_serializer(mode="wrap")
    def _without_default_format(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("format") == "json":
            del data["format"]
        return data
