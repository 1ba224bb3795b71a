"""Nodes of the episode pipeline: scenario, then conversation."""

from __future__ import annotations

import random

from langgraph.runtime import Runtime

from humanllm.agents.author import write_conversation
from humanllm.agents.character import CharacterAgent
from humanllm.agents.director import RuleDirector
from humanllm.core import Conversation, Pattern, Scenario
from humanllm.graphs._build import as_model
from humanllm.graphs.conversation import ConversationContext, ConversationParts, conversation_graph, recursion_limit
from humanllm.graphs.conversation.context import Speaker
from humanllm.graphs.episode.context import EpisodeContext, EpisodeParts
from humanllm.graphs.episode.state import EpisodeState
from humanllm.graphs.scenario import ScenarioContext, ScenarioParts, scenario_graph


async def write_scenario(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> EpisodeState:
    ctx = runtime.context
    parts = await ctx.abuilt()
    context = ScenarioContext(
        writer=ctx.writer,
        patterns_dirs=ctx.patterns_dirs,
        characters=ctx.characters,
        seed=ctx.seed,
        variation=ctx.variation,
    ).prebuilt(ScenarioParts(writer=parts.writer, graph=parts.graph))
    result = await scenario_graph().ainvoke(
        {"patterns": state["patterns"], "situation": state["situation"]}, context=context
    )
    return {"scenario": result["scenario"]}


def _cards(scenario: Scenario, parts: EpisodeParts) -> dict[str, list[Pattern]]:
    return {name: parts.graph.library.resolve(held) for name, held in scenario.char2pattern.items()}


async def converse(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> EpisodeState:
    ctx = runtime.context
    parts = await ctx.abuilt()
    scenario = as_model(Scenario, state["scenario"])
    cards = _cards(scenario, parts)
    cast = [p.name for p in scenario.characters]
    director = RuleDirector(cast, scenario.protagonist.name, ctx.rules, random.Random(f"director:{ctx.seed}"))
    if ctx.mode == "author":
        turns = await write_conversation(
            parts.character, scenario, cards, ctx.rules, director.opener, guidance=ctx.guidance
        )
        return {"conversation": Conversation(turns=turns, ended_by="author")}
    human = scenario.protagonist.name if ctx.human else None
    agents: dict[str, Speaker] = {
        p.name: CharacterAgent(
            profile=p,
            background=scenario.background,
            patterns=cards.get(p.name, []),
            model=parts.character,
            guidance=ctx.guidance,
        )
        for p in scenario.characters
        if p.name != human
    }
    context = ConversationContext(
        character=ctx.character,
        patterns_dirs=ctx.patterns_dirs,
        rules=ctx.rules,
        seed=ctx.seed,
        guidance=ctx.guidance,
        human=human,
    ).prebuilt(ConversationParts(agents=agents, director=director))
    result = await conversation_graph().ainvoke(
        {"turns": []}, context=context, config={"recursion_limit": recursion_limit(ctx.rules.max_turns)}
    )
    return {"conversation": Conversation(turns=result["turns"], ended_by=result.get("ended_by", ""))}
