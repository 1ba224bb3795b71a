"""The spec of one episode: everything that determines it, stored whole on the episode; its hash is the id."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from humanllm.agents import template_version
from humanllm.agents.director import TurnRules
from humanllm.core import GrowingSpec, sampling_seed, spec_id
from humanllm.llm import GenerationSpec, canonical_spec, model_template_versions, parse_spec
from humanllm.patterns import BundleRecipe
from humanllm.simulation._config import SimulationConfig

EPISODE_TEMPLATES = (
    "writer_system",
    "scenario_draft",
    "scenario_checklist",
    "scenario_variation",
    "character_system",
    "character_turn",
    "character_leak_retry",
    "author_system",
    "author",
)
"""The agents' prompts that shape an episode (the one list): changing one changes every episode id.
The model layer's templates (`llm/...`: format instructions, repair requests) are added to these;
others, such as the judge's or the SFT export's, are not part of an episode."""


def template_versions() -> dict[str, str]:
    """Hash of each prompt template an episode may render: the agents' and the model layer's."""
    return {**{name: template_version(name) for name in EPISODE_TEMPLATES}, **model_template_versions()}


class EpisodeSpec(GrowingSpec):
    """Everything that determines one episode; `spec_id(spec)` is the episode's id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    omitted_at_default = ("recipe",)

    kind: Literal["episode"] = "episode"
    patterns: list[str] = Field(description="The bundle, sorted.")
    assignment: list[list[str]] = Field(description="Patterns per character slot (protagonist first).")
    situation: str
    seed: int = Field(description="The episode seed: names, turn plan; the sampling seed derives from the spec.")
    characters: int
    mode: Literal["agents", "author"]
    guidance: bool
    variation: bool
    rules: TurnRules
    models: dict[str, str] = Field(description="Role -> model spec in its one written form (writer, character).")
    generation: GenerationSpec
    templates: dict[str, str] = Field(description="Template name -> hash of its text, for every prompt used.")
    recipe: str | None = Field(
        default=None,
        description="The bundle recipe that drew `patterns` when it is not the default graph sampler (e.g. "
        "'paper'); None for the graph sampler and for bundles given. Left out of the JSON when None, so the "
        "ids of episodes from before recipes existed are unchanged.",
    )


def episode_spec(
    config: SimulationConfig, *, patterns: list[str], situation: str, assignment: list[list[str]]
) -> EpisodeSpec:
    """The spec of the episode `config` asks for, once its bundle, situation and assignment are resolved."""
    models = {"writer": canonical_spec(config.models.writer), "character": canonical_spec(config.models.character)}
    remote = any(parse_spec(m).backend == "openai" for m in models.values())
    return EpisodeSpec(
        patterns=sorted(patterns),
        assignment=assignment,
        situation=situation,
        seed=config.seed,
        characters=config.characters,
        mode=config.mode,
        guidance=config.guidance,
        variation=config.variation,
        rules=config.rules,
        models=models,
        generation=config.settings.generation(remote=remote),
        templates=template_versions(),
        recipe=None if config.recipe is BundleRecipe.GRAPH else config.recipe.value,
    )


def episode_id(spec: EpisodeSpec) -> str:
    return spec_id(spec)


def episode_sampling_seed(spec: EpisodeSpec) -> int:
    """The seed every model call of the episode samples with: derived from the spec, so from nothing else."""
    return sampling_seed(spec)
