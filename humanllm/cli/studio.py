"""The graphs as LangGraph Studio loads them: the factories that `langgraph.json` names.

`langgraph dev` imports this module and calls each factory (no arguments) for the compiled graph.
Every context is plain settings, so Studio draws its form and a run starts from JSON, e.g. the
episode graph with input `{"patterns": ["shy", "bold"], "situation": "sociality"}` and context
`{"writer": {"spec": "fake"}, "character": {"spec": "fake"}, "rules": {"min_turns": 4, "max_turns": 6}}`.
Like the CLI, this registers the offline `fake` backend, so a run can be tried without a model.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph


@functools.cache
def _ready() -> None:
    from humanllm.testing import register_fakes

    register_fakes()


def scenario() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The scenario graph: cast, draft, checklists, [variation], assemble."""
    from humanllm.graphs.scenario import scenario_graph

    _ready()
    return scenario_graph()


def conversation() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The conversation graph; its input brings the `scenario` the agents are built from."""
    from humanllm.graphs.conversation import conversation_graph

    _ready()
    return conversation_graph()


def episode() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The episode graph: the scenario graph, then the conversation graph (set `human` to play the protagonist)."""
    from humanllm.graphs.episode import episode_graph

    _ready()
    return episode_graph()


def judge() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The judge graph: one character of one episode (its input: `episode` and `character`)."""
    from humanllm.graphs.judge import judge_graph

    _ready()
    return judge_graph()


GRAPHS = {"scenario": scenario, "conversation": conversation, "episode": episode, "judge": judge}
"""Graph id -> factory, as `langgraph.json` names them."""
