"""What determines a simulation: the bundle, the situation, the cast size, the rules, the models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.director import TurnRules
from humanllm.llm import DEFAULT_SPEC, ModelSettings
from humanllm.patterns import BundleRecipe


class RoleSpecs(BaseModel):
    """A model spec string per role."""

    model_config = ConfigDict(extra="forbid")

    writer: str = DEFAULT_SPEC
    character: str = DEFAULT_SPEC
    director: str = Field(default="rules", description="'rules' (the rule-based director).")


class SimulationConfig(BaseModel):
    """Everything one simulation run needs; saved (without secrets) next to its output."""

    model_config = ConfigDict(extra="forbid")

    patterns: list[str] | None = Field(default=None, description="The bundle; sampled by `recipe` when None.")
    recipe: BundleRecipe = Field(
        default=BundleRecipe.GRAPH,
        description="How the bundle is drawn: 'graph' (the interaction-graph sampler) or 'paper' (the authors' "
        "recipe); for `generate --n`, the recipe that drew `patterns`. A non-default recipe enters the episode's spec.",
    )
    situation: str | None = Field(default=None, description="DIAMONDS type, domain or free text; drawn when None.")
    characters: int = Field(default=2, ge=2, le=6)
    rules: TurnRules = Field(default_factory=TurnRules)
    mode: Literal["agents", "author"] = "agents"
    seed: int = 0
    guidance: bool = Field(default=True, description="Give characters private guidance from pattern markers.")
    variation: bool = Field(default=False, description="Also write a counterfactual variation of the scenario.")
    models: RoleSpecs = Field(default_factory=RoleSpecs)
    settings: ModelSettings = Field(default_factory=ModelSettings)

    def public_dict(self) -> dict[str, object]:
        """The config as saved next to outputs: no API key."""
        data = self.model_dump(mode="json", exclude={"settings"})
        data["settings"] = self.settings.public_dict()
        return data
