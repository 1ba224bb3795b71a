"""Proposing new relations for an existing pattern with a model: a review file, never merged."""

from __future__ import annotations

from humanllm.agents.pattern_builder._proposals import candidate_patterns, propose_relations
from humanllm.agents.pattern_builder._steps import NullProgress, StepRunner
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph, Relation


async def annotate_pattern(model: RoleModel, graph: InteractionGraph, name: str, candidates: int = 8) -> list[Relation]:
    """Relations (with rationales) from `name` to the library patterns closest to it in wording.

    Edges the graph already holds are left out; the caller writes the rest to a review file.
    """
    card = graph.library.get(name)
    mechanisms = " ".join(
        [card.core_mechanisms.cognitive, card.core_mechanisms.emotional, card.core_mechanisms.behavioral]
    )
    nearby = candidate_patterns(" ".join([card.definition, mechanisms]), card.id, graph, candidates)
    runner = StepRunner(model, None, NullProgress())
    return await propose_relations(runner, card.name, card.definition, mechanisms, nearby, graph)
