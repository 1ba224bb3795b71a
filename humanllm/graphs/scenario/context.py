"""Run-time settings of the scenario graph (serialisable), and the parts built from them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from humanllm.graphs._build import PATTERNS_DIRS_HELP, ModelChoice, Settings, interaction_graph, role_model
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph


@dataclass(frozen=True)
class ScenarioParts:
    """What the nodes use: built from the settings, or attached with `prebuilt`."""

    writer: RoleModel
    """The model that writes analysis, background, profiles and checklists; its completion limit
    (`max_tokens`) sizes the bounds of every reply, so no reply is cut off."""
    graph: InteractionGraph
    """The pattern graph (and its library) used to assign patterns to characters."""


class ScenarioContext(Settings[ScenarioParts]):
    """One per scenario; the compiled graph is shared."""

    writer: ModelChoice = Field(default_factory=ModelChoice, description="The scenario writer's model.")
    patterns_dirs: list[str] = Field(default_factory=list, description=PATTERNS_DIRS_HELP)
    characters: int = Field(default=2, ge=2, le=6, description="How many characters, protagonist included.")
    seed: int = Field(default=0, description="Seeds the names drawn for the cast (and the writer's sampling).")
    variation: bool = Field(default=False, description="Also write a counterfactual variation of the scenario.")

    def built(self) -> ScenarioParts:
        """The attached parts, else the ones these settings name."""
        return self.parts or ScenarioParts(
            writer=role_model("writer", self.writer).with_seed(self.seed),
            graph=interaction_graph(self.patterns_dirs),
        )
