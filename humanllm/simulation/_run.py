"""Running one episode: pick the bundle and situation, run the episode graph, package the result."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from humanllm.agents.human import Reader
from humanllm.core import Episode, SituationType, TokenUsage, spec_id
from humanllm.errors import ConfigError
from humanllm.graphs import ModelChoice
from humanllm.graphs.episode import EpisodeContext, EpisodeParts
from humanllm.llm import CallStats, RoleModel, UsageMeter, build_role_model, rate_limiter_for
from humanllm.patterns import BundleConstraints, BundleRecipe, BundleSampler, InteractionGraph, assign, bundle_source
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._drive import Progress, drive_episode, sqlite_checkpointer
from humanllm.simulation._spec import EpisodeSpec, episode_sampling_seed, episode_spec

if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter


@dataclass
class Plan:
    """The resolved inputs of one episode, before any model call."""

    patterns: list[str]
    situation: str
    assignment: list[list[str]]
    spec: EpisodeSpec
    id: str


def resolve_situation(text: str | None, rng: random.Random) -> str:
    if text is None:
        return rng.choice(list(SituationType)).value
    lowered = text.strip().lower()
    return next((s.value for s in SituationType if s.value == lowered), text.strip())


def plan_episode(config: SimulationConfig, graph: InteractionGraph) -> Plan:
    """Bundle, situation and assignment for this config; validated against the graph."""
    rng = random.Random(f"plan:{config.seed}")
    situation = resolve_situation(config.situation, rng)
    if config.patterns:
        patterns = [p.name for p in graph.library.resolve(config.patterns)]
        if not 1 <= len(patterns) <= 8:
            raise ConfigError(f"give 1-8 patterns, not {len(patterns)}")
    elif config.recipe is BundleRecipe.PAPER:  # the authors' recipe has no situation preference
        patterns = bundle_source(config.recipe, graph, seed=config.seed, characters=config.characters).sample().patterns
    else:
        typed = situation if situation in {s.value for s in SituationType} else None
        sampler = BundleSampler(
            graph,
            seed=config.seed,
            constraints=BundleConstraints(situation=SituationType(typed) if typed else None),
        )
        patterns = sampler.sample().patterns
    assignment = assign(graph, patterns, config.characters).slots
    spec = episode_spec(config, patterns=patterns, situation=situation, assignment=assignment)
    return Plan(patterns=patterns, situation=situation, assignment=assignment, spec=spec, id=spec_id(spec))


@dataclass
class RoleModels:
    """The models an episode talks to, one per role."""

    writer: RoleModel
    character: RoleModel

    @classmethod
    def build(cls, config: SimulationConfig, *, limiter: BaseRateLimiter | None = None) -> RoleModels:
        """Models for every episode of a run: each episode samples with its own seed (`for_episode`).

        `limiter` is the request budget to share (across replicas); by default one from the settings."""
        settings = config.settings
        limiter = limiter or rate_limiter_for(settings)  # one request budget shared by both roles
        return cls(
            writer=build_role_model("writer", config.models.writer, settings, rate_limiter=limiter),
            character=build_role_model("character", config.models.character, settings, rate_limiter=limiter),
        )

    def usage(self) -> dict[str, TokenUsage]:
        return {"writer": self.writer.usage.usage, "character": self.character.usage.usage}

    def with_stats(self, stats: CallStats) -> RoleModels:
        """The same models recording their calls into one endpoint's `stats`."""
        return RoleModels(writer=replace(self.writer, stats=stats), character=replace(self.character, stats=stats))

    def for_episode(self, seed: int) -> RoleModels:
        """The same models (shared engine, rate limiter and meters) sampling with one episode's seed."""
        return RoleModels(writer=self.writer.with_seed(seed), character=self.character.with_seed(seed))

    def metered(self) -> RoleModels:
        """The same models with fresh token meters: one episode's own usage, even when many run at once."""
        return RoleModels(
            writer=replace(self.writer, usage=UsageMeter()), character=replace(self.character, usage=UsageMeter())
        )


async def run_episode(
    config: SimulationConfig,
    graph: InteractionGraph,
    models: RoleModels,
    plan: Plan | None = None,
    progress: Progress | None = None,
    human: Reader | None = None,
    fresh_meters: bool = True,
    checkpoint: Path | None = None,
) -> Episode:
    """Run the episode graph for one config; `models` may be shared by concurrent episodes.

    With `fresh_meters=False` the caller has given models with meters of this attempt's own
    (`models.metered()`), to read what the attempt spent even when it fails. With `human`, a person
    plays the protagonist (the graph pauses at their turns); with `checkpoint`, every step of the
    run is saved to that SQLite file (LangGraph's checkpointer), for inspection.
    """
    plan = plan or plan_episode(config, graph)
    if fresh_meters:
        models = models.metered()
    models = models.for_episode(episode_sampling_seed(plan.spec))
    context = EpisodeContext(
        writer=ModelChoice.of(config.models.writer, config.settings),
        character=ModelChoice.of(config.models.character, config.settings),
        rules=config.rules,
        characters=config.characters,
        seed=config.seed,
        mode=config.mode,
        guidance=config.guidance,
        variation=config.variation,
        human=human is not None,
    ).prebuilt(EpisodeParts(writer=models.writer, character=models.character, graph=graph))
    graph_input = {"patterns": plan.patterns, "situation": plan.situation}
    if checkpoint is None:
        result = await drive_episode(graph_input, context, progress=progress, human=human)
    else:
        async with sqlite_checkpointer(checkpoint) as saver:
            result = await drive_episode(
                graph_input, context, progress=progress, human=human, checkpointer=saver, thread=plan.id
            )
    return Episode(
        id=plan.id,
        scenario=result["scenario"],
        conversation=result["conversation"],
        mode=config.mode,
        seed=config.seed,
        models=config.models.model_dump(),
        spec=plan.spec.model_dump(mode="json"),
        usage=models.usage(),
        config={
            "characters": config.characters,
            "min_turns": config.rules.min_turns,
            "max_turns": config.rules.max_turns,
            "guidance": config.guidance,
            "temperature": config.settings.temperature,
            "max_tokens": config.settings.max_tokens,
        },
    )


def simulate(
    config: SimulationConfig,
    graph: InteractionGraph,
    progress: Progress | None = None,
    human: Reader | None = None,
    checkpoint: Path | None = None,
) -> Episode:
    """Synchronous convenience wrapper: one episode with fresh models."""
    models = RoleModels.build(config)
    return asyncio.run(run_episode(config, graph, models, progress=progress, human=human, checkpoint=checkpoint))
