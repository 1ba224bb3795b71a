"""The LangGraph pipelines, one public subpackage per graph (each exports its graph, context and state).

`conversation` runs the turns, `scenario` writes the scenario, `episode` joins the two, `judge`
scores an episode against the checklists. They are not imported here, so loading one graph does
not load the others. Every context is a model of plain settings (`ModelChoice` names a model), so
LangGraph Studio can start a run from JSON; in-process callers attach live parts with `prebuilt`.
"""

from humanllm.graphs._build import ModelChoice

__all__ = ["ModelChoice", "conversation", "episode", "judge", "scenario"]
