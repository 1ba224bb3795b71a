"""The judge graph: one character of one episode, scored item by item and holistically."""

from humanllm.graphs.judge.context import JudgeContext, JudgeParts
from humanllm.graphs.judge.graph import judge_graph, recursion_limit
from humanllm.graphs.judge.nodes import batched
from humanllm.graphs.judge.state import BatchTask, JudgeState, merge_verdicts

__all__ = [
    "BatchTask",
    "JudgeContext",
    "JudgeParts",
    "JudgeState",
    "batched",
    "judge_graph",
    "merge_verdicts",
    "recursion_limit",
]
