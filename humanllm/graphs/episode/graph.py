"""The episode pipeline: scenario graph -> conversation graph (-> judge, once it exists)."""

from __future__ import annotations

import functools

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from humanllm.graphs.episode.context import EpisodeContext
from humanllm.graphs.episode.nodes import converse, write_scenario
from humanllm.graphs.episode.state import EpisodeState


@functools.cache
def episode_graph() -> CompiledStateGraph[EpisodeState, EpisodeContext, EpisodeState, EpisodeState]:
    builder = StateGraph(EpisodeState, context_schema=EpisodeContext)
    builder.add_node("scenario", write_scenario)
    builder.add_node("conversation", converse)
    builder.add_edge(START, "scenario")
    builder.add_edge("scenario", "conversation")
    builder.add_edge("conversation", END)
    return builder.compile(name="episode")
