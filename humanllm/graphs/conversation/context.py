"""Run-time settings of the conversation graph (serialisable), and the parts built from them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import Field

from humanllm.agents.character import CharacterAgent
from humanllm.agents.director import RuleDirector, TurnRules
from humanllm.core import Scenario, Turn
from humanllm.graphs._build import PATTERNS_DIRS_HELP, ModelChoice, Settings, as_model, interaction_graph, role_model


class Speaker(Protocol):
    """Anything that can take a turn: a character agent, or a scripted stand-in in tests."""

    @property
    def name(self) -> str: ...

    async def take_turn(self, turns: Sequence[Turn], *, closing: bool = False) -> Turn: ...


@dataclass(frozen=True)
class ConversationParts:
    """What the nodes use: built from the settings and the state's scenario, or attached with `prebuilt`."""

    agents: dict[str, Speaker]
    """Character name -> the agent that plays them (a person's character has none)."""
    director: RuleDirector


class ConversationContext(Settings[ConversationParts]):
    """One per conversation; the compiled graph is shared by every conversation."""

    character: ModelChoice = Field(default_factory=ModelChoice, description="The model that plays the characters.")
    patterns_dirs: list[str] = Field(default_factory=list, description=PATTERNS_DIRS_HELP)
    rules: TurnRules = Field(default_factory=TurnRules, description="Turn-taking and length rules.")
    seed: int = Field(default=0, description="Seeds the director (planned length, opener) and the sampling.")
    guidance: bool = Field(default=True, description="Give each character private guidance from its patterns.")
    human: str | None = Field(
        default=None,
        description="A character a person plays: the run pauses at each of their turns (interrupt) and resumes "
        "with their line, `[thought] (action) speech`.",
    )

    def director(self, scenario: Scenario | None) -> RuleDirector:
        """The attached director, else one over the scenario's cast (deterministic from the seed)."""
        if self.parts is not None:
            return self.parts.director
        scenario = _needs(scenario)
        cast = [p.name for p in scenario.characters]
        return RuleDirector(cast, scenario.protagonist.name, self.rules, random.Random(f"director:{self.seed}"))

    def agent(self, scenario: Scenario | None, name: str) -> Speaker:
        """The attached agent for `name`, else a character agent built from the scenario."""
        if self.parts is not None:
            return self.parts.agents[name]
        scenario = _needs(scenario)
        profile = next(p for p in scenario.characters if p.name == name)
        library = interaction_graph(self.patterns_dirs).library
        return CharacterAgent(
            profile=profile,
            background=scenario.background,
            patterns=library.resolve(scenario.char2pattern.get(name, [])),
            model=role_model("character", self.character).with_seed(self.seed),
            guidance=self.guidance,
        )


def _needs(scenario: Scenario | dict | None) -> Scenario:
    if scenario is None:
        raise ValueError("the conversation graph builds its agents from the input's `scenario`: give one")
    return as_model(Scenario, scenario)
