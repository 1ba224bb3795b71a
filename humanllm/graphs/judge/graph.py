"""The judge graph: plan -> (judge_batch x N, holistic) -> review -> [retry judge_batch] -> end."""

from __future__ import annotations

import functools

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from humanllm.graphs.judge.context import JudgeContext
from humanllm.graphs.judge.nodes import fan_out, holistic, judge_batch, plan, retry_or_end, review
from humanllm.graphs.judge.state import JudgeState


@functools.cache
def judge_graph() -> CompiledStateGraph[JudgeState, JudgeContext, JudgeState, JudgeState]:
    """Compiled once per process; each (character, run) passes its own `JudgeContext`."""
    builder = StateGraph(JudgeState, context_schema=JudgeContext)
    builder.add_node("plan", plan)
    # both take a `BatchTask` (sent with `Send`); LangGraph reads the input schema from the signature
    builder.add_node("judge_batch", judge_batch)
    builder.add_node("holistic", holistic)
    builder.add_node("review", review)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["judge_batch", "holistic"])
    builder.add_edge("judge_batch", "review")
    builder.add_edge("holistic", "review")
    builder.add_conditional_edges("review", retry_or_end, ["judge_batch", END])
    return builder.compile(name="judge")


def recursion_limit(retries: int) -> int:
    """Graph steps a judge run needs: plan, then (batch, review) per round, with headroom."""
    return 2 * (retries + 1) + 10
