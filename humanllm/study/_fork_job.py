"""A fork's continuation: the forked scene, the kept turns and one agent per character, played on live.

`ForkJob` is an `EpisodeJob` (its id is known before any call), so `run_jobs` runs it with retries and
resumes by id. The director is the simulation's, with the continuation's planned length as both turn
bounds, so the conversation neither ends before that length nor runs past it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from humanllm.agents.character import CharacterAgent
from humanllm.agents.director import RuleDirector, TurnRules
from humanllm.core import Conversation, Episode, Scenario, Turn, sampling_seed, spec_id
from humanllm.graphs.conversation import ConversationContext, ConversationParts, conversation_graph, recursion_limit
from humanllm.graphs.conversation.context import Speaker
from humanllm.llm import RoleModel
from humanllm.patterns import PatternLibrary
from humanllm.simulation import ForkSpec, RoleModels


def forked_scenario(scenario: Scenario, spec: ForkSpec, library: PatternLibrary) -> Scenario:
    """The scene as the continuation plays it: the given pattern added, the withheld one taken away."""
    held = {name: [library.get(p).name for p in patterns] for name, patterns in scenario.char2pattern.items()}
    if spec.give is not None:
        held[spec.give.character] = [*held.get(spec.give.character, []), spec.give.pattern]
    if spec.withhold is not None:
        held[spec.withhold.character] = [p for p in held[spec.withhold.character] if p != spec.withhold.pattern]
    carried = {p for patterns in held.values() for p in patterns}
    bundle = [name for name in (library.get(p).name for p in scenario.patterns) if name in carried]
    bundle += [p for patterns in held.values() for p in patterns if p not in bundle]
    return scenario.model_copy(update={"char2pattern": held, "patterns": bundle})


def kept_turns(source: Episode, spec: ForkSpec) -> list[Turn]:
    """Turns 1..K-1 as they were, then the rewritten turn K when there is one."""
    kept = list(source.conversation.turns[: spec.at_turn - 1])
    return [*kept, spec.edit] if spec.edit is not None else kept


def fork_agents(
    scenario: Scenario, model: RoleModel, library: PatternLibrary, *, guidance: bool
) -> dict[str, CharacterAgent]:
    """One agent per character of the (forked) scene, each prompted with the patterns it carries there."""
    return {
        p.name: CharacterAgent(
            profile=p,
            background=scenario.background,
            patterns=library.resolve(scenario.char2pattern.get(p.name, [])),
            model=model,
            guidance=guidance,
        )
        for p in scenario.characters
    }


@dataclass(frozen=True)
class ForkJob:
    """One continuation, as a job `run_jobs` can run (retries, resume by id)."""

    spec: ForkSpec
    source: Episode
    library: PatternLibrary

    @property
    def id(self) -> str:
        return spec_id(self.spec)

    async def run(self, models: RoleModels) -> Episode:
        spec, source = self.spec, self.source
        character = models.character.with_seed(sampling_seed(spec))
        scenario = forked_scenario(source.scenario, spec, self.library)
        agents: dict[str, Speaker] = dict(fork_agents(scenario, character, self.library, guidance=spec.guidance))
        prefix = kept_turns(source, spec)
        rules = TurnRules(min_turns=spec.turns, max_turns=spec.turns)
        cast = [p.name for p in scenario.characters]
        director = RuleDirector(cast, scenario.protagonist.name, rules, random.Random(f"director:{source.seed}"))
        if not prefix:
            director.opener = source.conversation.turns[0].speaker  # the same opener as the original
        result = await conversation_graph().ainvoke(
            {"turns": prefix},
            context=ConversationContext(rules=rules, seed=source.seed, guidance=spec.guidance).prebuilt(
                ConversationParts(agents, director)
            ),
            config={"recursion_limit": recursion_limit(spec.turns)},
        )
        return Episode(
            id=self.id,
            scenario=scenario,
            conversation=Conversation(turns=result["turns"], ended_by=result.get("ended_by", "")),
            mode="agents",
            seed=source.seed,
            models={"character": spec.model},
            usage={"character": character.usage.usage},
            spec=spec.model_dump(mode="json"),  # its `measure` field is the judge's MEASURE_KEY
            config={
                "source_episode": source.id,
                "at_turn": spec.at_turn,
                "replicate": spec.replicate,
                "guidance": spec.guidance,
                "min_turns": spec.turns,
                "max_turns": spec.turns,
                "temperature": spec.generation.temperature,
                "max_tokens": spec.generation.max_tokens,
            },
        )
