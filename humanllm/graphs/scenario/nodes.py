"""Nodes of the scenario graph (coroutines: LangGraph runs a plain function node in a worker thread)."""

from __future__ import annotations

import random
from typing import Literal

from langgraph.runtime import Runtime

from humanllm.agents import draw_names
from humanllm.agents.scenario_writer import CastMember, write_checklists, write_draft, write_variation
from humanllm.core import Scenario
from humanllm.errors import HumanLLMError
from humanllm.graphs.scenario.context import ScenarioContext
from humanllm.graphs.scenario.state import ScenarioState
from humanllm.patterns import assign


class ScenarioStepError(HumanLLMError):
    """A scenario step failed after its retries."""


async def cast(state: ScenarioState, runtime: Runtime[ScenarioContext]) -> ScenarioState:
    """Names from the candidate list and the patterns each carries: the assignment given, else the graph's."""
    ctx = runtime.context
    slots = state.get("assignment") or assign((await ctx.abuilt()).graph, state["patterns"], ctx.characters).slots
    names = draw_names(ctx.characters, random.Random(f"names:{ctx.seed}"))
    return {"cast": [CastMember(name=n, patterns=held) for n, held in zip(names, slots, strict=True)]}


async def draft(state: ScenarioState, runtime: Runtime[ScenarioContext]) -> ScenarioState:
    parts = await runtime.context.abuilt()
    cards = parts.graph.library.resolve(state["patterns"])
    try:
        result = await write_draft(parts.writer, cards, state["situation"], state["cast"])
    except HumanLLMError as exc:
        raise ScenarioStepError(f"scenario step 'draft' failed: {exc}") from exc
    return {"draft": result}


async def checklists(state: ScenarioState, runtime: Runtime[ScenarioContext]) -> ScenarioState:
    try:
        result = await write_checklists((await runtime.context.abuilt()).writer, state["draft"], state["cast"])
    except HumanLLMError as exc:
        raise ScenarioStepError(f"scenario step 'checklists' failed: {exc}") from exc
    return {"checklists": result}


async def wants_variation(state: ScenarioState, runtime: Runtime[ScenarioContext]) -> Literal["variation", "assemble"]:
    return "variation" if runtime.context.variation else "assemble"


async def variation(state: ScenarioState, runtime: Runtime[ScenarioContext]) -> ScenarioState:
    try:
        result = await write_variation((await runtime.context.abuilt()).writer, state["draft"], state["cast"])
    except HumanLLMError as exc:
        raise ScenarioStepError(f"scenario step 'variation' failed: {exc}") from exc
    return {"variation": result}


async def assemble(state: ScenarioState) -> ScenarioState:
    """Put the pieces into a validated `Scenario`."""
    draft_ = state["draft"]
    profiles = draft_.profiles
    return {
        "scenario": Scenario(
            patterns=state["patterns"],
            situation=state["situation"],
            analysis=draft_.analysis,
            background=draft_.background,
            protagonist=profiles[0],
            supporting=profiles[1:],
            char2pattern={member.name: member.patterns for member in state["cast"]},
            checklists=state["checklists"],
            variation=state.get("variation"),
        )
    }
