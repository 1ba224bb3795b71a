"""The episode pipeline: scenario graph -> conversation graph; a scenario given in the input is played as is."""

from __future__ import annotations

import functools
from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from humanllm.graphs.episode.context import EpisodeContext
from humanllm.graphs.episode.nodes import converse, write_scenario
from humanllm.graphs.episode.state import EpisodeState


async def _start(state: EpisodeState) -> Literal["scenario", "conversation"]:
    """Write the scenario, unless the input brings one (a study plays one frozen scenario in every cell)."""
    return "conversation" if "scenario" in state else "scenario"


@functools.cache
def episode_graph() -> CompiledStateGraph[EpisodeState, EpisodeContext, EpisodeState, EpisodeState]:
    builder = StateGraph(EpisodeState, context_schema=EpisodeContext)
    builder.add_node("scenario", write_scenario)
    builder.add_node("conversation", converse)
    builder.add_conditional_edges(START, _start, ["scenario", "conversation"])
    builder.add_edge("scenario", "conversation")
    builder.add_edge("conversation", END)
    return builder.compile(name="episode")
