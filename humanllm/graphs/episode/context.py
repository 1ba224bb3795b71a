"""Run-time settings of the episode pipeline (serialisable), and the parts built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from humanllm.agents.director import TurnRules
from humanllm.graphs._build import PATTERNS_DIRS_HELP, ModelChoice, Settings, interaction_graph, role_model
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph

Mode = Literal["agents", "author"]


@dataclass(frozen=True)
class EpisodeParts:
    """What the nodes use: built from the settings, or attached with `prebuilt`."""

    writer: RoleModel
    """Writes the scenario."""
    character: RoleModel
    """Plays every character (agents mode) or writes the whole conversation (author mode)."""
    graph: InteractionGraph


class EpisodeContext(Settings[EpisodeParts]):
    """One per episode; the compiled graph is shared by every episode."""

    writer: ModelChoice = Field(default_factory=ModelChoice, description="The scenario writer's model.")
    character: ModelChoice = Field(
        default_factory=ModelChoice, description="Plays the characters (agents mode) or writes the talk (author)."
    )
    patterns_dirs: list[str] = Field(default_factory=list, description=PATTERNS_DIRS_HELP)
    rules: TurnRules = Field(default_factory=TurnRules, description="Turn-taking and length rules.")
    characters: int = Field(default=2, ge=2, le=6, description="How many characters, protagonist included.")
    seed: int = Field(default=0, description="Seeds the cast's names, the director and the models' sampling.")
    mode: Mode = Field(default="agents", description="agents (one agent per character) or author (one call).")
    variation: bool = Field(default=False, description="Also write a counterfactual variation of the scenario.")
    guidance: bool = Field(default=True, description="Give each character private guidance from its patterns.")
    human: bool = Field(
        default=False,
        description="A person plays the protagonist: the run pauses at each of their turns (interrupt) and "
        "resumes with their line, `[thought] (action) speech` (agents mode).",
    )

    def built(self) -> EpisodeParts:
        """The attached parts, else the ones these settings name."""
        return self.parts or EpisodeParts(
            writer=role_model("writer", self.writer).with_seed(self.seed),
            character=role_model("character", self.character).with_seed(self.seed),
            graph=interaction_graph(self.patterns_dirs),
        )
