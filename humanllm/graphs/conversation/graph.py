"""The conversation graph: director -> character (or the person at the keyboard) -> director ... -> end.

A character's node ends with the director's pick (see `nodes`), so it routes on by itself; the
person's turn goes back to the director node (an empty line: they are asked again).
"""

from __future__ import annotations

import functools

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from humanllm.graphs.conversation.context import ConversationContext
from humanllm.graphs.conversation.nodes import direct, human_turn, route, speak
from humanllm.graphs.conversation.state import ConversationState


@functools.cache
def conversation_graph() -> CompiledStateGraph[
    ConversationState, ConversationContext, ConversationState, ConversationState
]:
    """Compiled once per process; each run passes its own `ConversationContext`."""
    builder = StateGraph(ConversationState, context_schema=ConversationContext)
    builder.add_node("direct", direct)
    builder.add_node("speak", speak)
    builder.add_node("human_turn", human_turn)
    builder.add_edge(START, "direct")
    builder.add_conditional_edges("direct", route, ["speak", "human_turn", END])
    builder.add_conditional_edges("speak", route, ["speak", "human_turn", END])
    builder.add_edge("human_turn", "direct")
    return builder.compile(name="conversation")


def recursion_limit(max_turns: int) -> int:
    """Graph steps a conversation of `max_turns` needs (at most two nodes per turn), with headroom."""
    return 2 * max_turns + 10
