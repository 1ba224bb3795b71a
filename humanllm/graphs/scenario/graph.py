"""The scenario graph: cast -> draft -> checklists -> [variation] -> assemble."""

from __future__ import annotations

import functools

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from humanllm.graphs.scenario.context import ScenarioContext
from humanllm.graphs.scenario.nodes import assemble, cast, checklists, draft, variation, wants_variation
from humanllm.graphs.scenario.state import ScenarioState


@functools.cache
def scenario_graph() -> CompiledStateGraph[ScenarioState, ScenarioContext, ScenarioState, ScenarioState]:
    builder = StateGraph(ScenarioState, context_schema=ScenarioContext)
    builder.add_node("cast", cast)
    builder.add_node("draft", draft)
    builder.add_node("checklists", checklists)
    builder.add_node("variation", variation)
    builder.add_node("assemble", assemble)
    builder.add_edge(START, "cast")
    builder.add_edge("cast", "draft")
    builder.add_edge("draft", "checklists")
    builder.add_conditional_edges("checklists", wants_variation, ["variation", "assemble"])
    builder.add_edge("variation", "assemble")
    builder.add_edge("assemble", END)
    return builder.compile(name="scenario")
