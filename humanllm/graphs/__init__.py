"""The LangGraph pipelines, one public subpackage per graph (each exports its graph, context and state).

`conversation` runs the turns, `scenario` writes the scenario, `episode` joins the two, `judge`
scores an episode against the checklists. They are not imported here, so loading one graph does
not load the others.
"""

__all__ = ["conversation", "episode", "judge", "scenario"]
