"""State of the scenario graph."""

from __future__ import annotations

from typing_extensions import TypedDict  # typing.TypedDict on 3.11 breaks LangGraph's /schemas endpoint

from humanllm.agents.scenario_writer import CastMember, ScenarioDraft
from humanllm.core import Scenario, ScenarioChecklist, ScenarioVariation


class ScenarioState(TypedDict, total=False):
    patterns: list[str]
    """The bundle's pattern names."""
    situation: str
    """A DIAMONDS type, a domain or free text."""
    assignment: list[list[str]]
    """Optional: the patterns of each character slot (protagonist first), instead of the graph's assignment
    (a study places each factor on the character its design names)."""
    cast: list[CastMember]
    """Names and the patterns each carries; protagonist first."""
    draft: ScenarioDraft
    """Analysis, background and profiles from the writer."""
    checklists: list[ScenarioChecklist]
    """Expected behaviours per pattern carrier (MPD items)."""
    scenario: Scenario
    """The finished scenario."""
    variation: ScenarioVariation
    """The counterfactual version, when asked for."""
