"""From a design and its frozen scenario to the episodes to run: who is given what in each cell, and the specs.

A cell changes only what the character agents are given (the patterns each carries, hence its guidance);
the scene, the cast, the MPD checklists and the turn rules are the frozen scenario's in every cell. Every
character is judged on the items of every pattern the design can give it (`measure`), whatever the cell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from humanllm.agents.director import TurnRules
from humanllm.core import Scenario, spec_id
from humanllm.errors import ConfigError
from humanllm.llm import GenerationSpec
from humanllm.patterns import InteractionGraph
from humanllm.simulation import CellSpec
from humanllm.study._design import Cell, StudyDesign
from humanllm.study._roles import character_named
from humanllm.study._scenario import DEFAULT_TURNS, FrozenScenario

STUDY_TEMPLATES = ("character_system", "character_turn", "character_leak_retry")
"""The agents' prompts a cell renders (the model layer's are added): the scenario is not written per cell."""


@dataclass(frozen=True)
class CellPlan:
    """One episode of the study: a cell, a replicate, the scenario as its agents get it, and its spec."""

    cell: Cell
    replicate: int
    scenario: Scenario
    spec: CellSpec

    @property
    def id(self) -> str:
        return spec_id(self.spec)

    @property
    def director_seed(self) -> int:
        """Seeds the turn plan: the same for every cell of a replicate (cells differ only in the factors)."""
        return random.Random(f"study:{self.spec.seed}:{self.replicate}").randrange(2**31)


@dataclass(frozen=True)
class Placement:
    """The factors and fixed patterns resolved to the scene's characters."""

    base: dict[str, list[str]]
    """Character -> patterns given in every cell."""
    factors: dict[str, tuple[str, str, str | None]]
    """Factor -> (character, pattern at level 1, pattern at level 0 or None)."""

    def given(self, cell: Cell) -> dict[str, list[str]]:
        out = {name: list(held) for name, held in self.base.items()}
        for factor, (character, present, swap) in self.factors.items():
            chosen = present if cell.levels[factor] else swap
            if chosen is not None:
                out.setdefault(character, []).append(chosen)
        return out

    def measured(self) -> dict[str, list[str]]:
        out = {name: list(held) for name, held in self.base.items()}
        for character, present, swap in self.factors.values():
            out.setdefault(character, []).extend(p for p in (present, swap) if p is not None)
        return {name: held for name, held in out.items() if held}


def place(design: StudyDesign, frozen: FrozenScenario, graph: InteractionGraph) -> Placement:
    """Resolve every factor's pattern and character; the scene's own patterns not in a factor stay fixed."""
    scenario = frozen.scenario
    factors: dict[str, tuple[str, str, str | None]] = {}
    for factor in design.factors:
        character = character_named(factor.character, scenario)
        present = graph.library.get(factor.pattern).name
        swap = graph.library.get(factor.swap).name if factor.swap else None
        factors[factor.label] = (character, present, swap)
    in_factors = {p for _c, present, swap in factors.values() for p in (present, swap) if p}
    base = {
        name: [card.name for card in graph.library.resolve(held) if card.name not in in_factors]
        for name, held in scenario.char2pattern.items()
    }
    return Placement(base=base, factors=factors)


def check_cells(design: StudyDesign, placement: Placement, graph: InteractionGraph) -> None:
    """One line for the first cell that would give one character two patterns it cannot carry together."""
    for cell in design.cells():
        for character, held in placement.given(cell).items():
            for violation in graph.violations(held):
                raise ConfigError(
                    f"cell [{cell.label}] would give {character} both {violation.a!r} and {violation.b!r} "
                    f"({violation.rule}): put the factor on another character or drop one of them"
                )


def cell_scenario(frozen: Scenario, given: dict[str, list[str]]) -> Scenario:
    """The frozen scenario as a cell's agents get it: who carries what changes, nothing else."""
    char2pattern = {p.name: list(given.get(p.name, [])) for p in frozen.characters}
    bundle = sorted({name for held in char2pattern.values() for name in held})
    return frozen.model_copy(update={"char2pattern": char2pattern, "patterns": bundle})


def plan_study(
    design: StudyDesign,
    frozen: FrozenScenario,
    graph: InteractionGraph,
    *,
    model: str,
    generation: GenerationSpec,
    templates: dict[str, str],
) -> list[CellPlan]:
    """Every cell x replicate of the design, validated (unknown pattern or character, excluded pairs)."""
    design.check_size()
    placement = place(design, frozen, graph)
    check_cells(design, placement, graph)
    rules = _rules(design, frozen)
    scenario_id = spec_id(frozen.scenario)
    measure = placement.measured()
    plans = []
    for cell in design.cells():
        given = placement.given(cell)
        scenario = cell_scenario(frozen.scenario, given)
        for replicate in range(design.replicates):
            spec = CellSpec(
                scenario=scenario_id,
                levels=cell.levels,
                assignment=scenario.char2pattern,
                measure=measure,
                replicate=replicate,
                seed=design.seed,
                rules=rules,
                guidance=design.guidance,
                model=model,
                generation=generation,
                templates=templates,
            )
            plans.append(CellPlan(cell=cell, replicate=replicate, scenario=scenario, spec=spec))
    return plans


def _rules(design: StudyDesign, frozen: FrozenScenario) -> TurnRules:
    if design.turns is not None:
        return TurnRules(min_turns=design.turns.min, max_turns=design.turns.max)
    return frozen.rules or DEFAULT_TURNS
