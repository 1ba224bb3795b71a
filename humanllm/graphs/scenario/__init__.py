"""The scenario-writing graph."""

from humanllm.graphs.scenario.context import ScenarioContext, ScenarioParts
from humanllm.graphs.scenario.graph import scenario_graph
from humanllm.graphs.scenario.nodes import ScenarioStepError
from humanllm.graphs.scenario.state import ScenarioState

__all__ = ["ScenarioContext", "ScenarioParts", "ScenarioState", "ScenarioStepError", "scenario_graph"]
