"""Nodes of the episode pipeline: scenario, then conversation."""

from __future__ import annotations

import random

from langgraph.runtime import Runtime

from humanllm.agents.author import write_conversation
from humanllm.agents.character import CharacterAgent
from humanllm.agents.director import RuleDirector
from humanllm.agents.human import HumanAgent
from humanllm.core import Conversation, Pattern, Scenario
from humanllm.graphs.conversation import ConversationContext, conversation_graph, recursion_limit
from humanllm.graphs.conversation.context import Speaker
from humanllm.graphs.episode.context import EpisodeContext
from humanllm.graphs.episode.state import EpisodeState
from humanllm.graphs.scenario import ScenarioContext, scenario_graph


async def write_scenario(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> EpisodeState:
    ctx = runtime.context
    result = await scenario_graph().ainvoke(
        {"patterns": state["patterns"], "situation": state["situation"]},
        context=ScenarioContext(
            writer=ctx.writer, graph=ctx.graph, characters=ctx.characters, seed=ctx.seed, variation=ctx.variation
        ),
    )
    return {"scenario": result["scenario"]}


def _cards(scenario: Scenario, ctx: EpisodeContext) -> dict[str, list[Pattern]]:
    return {name: ctx.graph.library.resolve(held) for name, held in scenario.char2pattern.items()}


async def converse(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> EpisodeState:
    ctx = runtime.context
    scenario = state["scenario"]
    cards = _cards(scenario, ctx)
    cast = [p.name for p in scenario.characters]
    director = RuleDirector(cast, scenario.protagonist.name, ctx.rules, random.Random(f"director:{ctx.seed}"))
    if ctx.mode == "author":
        turns = await write_conversation(
            ctx.character, scenario, cards, ctx.rules, director.opener, guidance=ctx.guidance
        )
        return {"conversation": Conversation(turns=turns, ended_by="author")}
    agents: dict[str, Speaker] = {
        p.name: CharacterAgent(
            profile=p,
            background=scenario.background,
            patterns=cards.get(p.name, []),
            model=ctx.character,
            guidance=ctx.guidance,
        )
        for p in scenario.characters
    }
    if ctx.human is not None:
        agents[scenario.protagonist.name] = HumanAgent(scenario.protagonist.name, ctx.human)
    result = await conversation_graph().ainvoke(
        {"turns": []},
        context=ConversationContext(agents=agents, director=director),
        config={"recursion_limit": recursion_limit(ctx.rules.max_turns)},
    )
    return {"conversation": Conversation(turns=result["turns"], ended_by=result.get("ended_by", ""))}
