"""Run-time dependencies of the scenario graph."""

from __future__ import annotations

from dataclasses import dataclass

from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph


@dataclass
class ScenarioContext:
    writer: RoleModel
    """The model that writes analysis, background, profiles and checklists; its completion limit
    (`max_tokens`) sizes the bounds of every reply, so no reply is cut off."""
    graph: InteractionGraph
    """The pattern graph (and its library) used to assign patterns to characters."""
    characters: int
    """How many characters, protagonist included (2-6)."""
    seed: int
    """Seeds the names drawn for the cast."""
    variation: bool = False
    """Also write a counterfactual variation of the scenario."""
