"""Run-time dependencies of the episode pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from humanllm.agents.director import TurnRules
from humanllm.agents.human import Reader
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph

Mode = Literal["agents", "author"]


@dataclass
class EpisodeContext:
    writer: RoleModel
    """Writes the scenario."""
    character: RoleModel
    """Plays every character (agents mode) or writes the whole conversation (author mode)."""
    graph: InteractionGraph
    rules: TurnRules
    characters: int
    seed: int
    mode: Mode = "agents"
    variation: bool = False
    """Also write a counterfactual variation of the scenario."""
    guidance: bool = True
    """Give each character private guidance from its patterns' markers."""
    human: Reader | None = None
    """When set, a person plays the protagonist through this reader (interactive mode)."""
