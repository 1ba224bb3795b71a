"""Giving a bundle's patterns to characters so the interactions play out."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from humanllm.errors import InvalidBundleError
from humanllm.patterns._graph import InteractionGraph
from humanllm.patterns._relations import RelationType

MIN_CHARACTERS, MAX_CHARACTERS = 2, 6


class Assignment(BaseModel):
    """Which character slot carries which patterns; slot 0 is the protagonist."""

    slots: list[list[str]] = Field(description="Patterns per character; index 0 is the protagonist.")
    reasons: list[str] = Field(default_factory=list, description="Why each pattern went where it went.")

    @property
    def protagonist(self) -> list[str]:
        return self.slots[0]


def assign(graph: InteractionGraph, patterns: Sequence[str], n_characters: int) -> Assignment:
    """Protagonist first; clashing patterns go to others; unrelated ones give the others a part.

    Rules, for each pattern (most connected first):
    1. the first pattern goes to the protagonist;
    2. `conflicts` with a pattern the protagonist holds -> a supporting character (a clash between
       people);
    3. `reinforces` / `modulates` a pattern the protagonist holds -> the protagonist (they meet
       inside one person);
    4. linked to a supporting character's pattern -> that character; otherwise the least loaded
       supporting character, so the others carry patterns too.
    A character never receives a pattern that it excludes with one it holds; when no rule can place
    a pattern, the protagonist or anyone who can hold it takes it.
    """
    if not MIN_CHARACTERS <= n_characters <= MAX_CHARACTERS:
        raise InvalidBundleError(f"characters must be {MIN_CHARACTERS}-{MAX_CHARACTERS}, got {n_characters}")
    names = [graph.library.get(p).name for p in patterns]
    order = sorted(names, key=lambda n: (-len(graph.internal_edges_for(n, names)), names.index(n)))
    slots: list[list[str]] = [[] for _ in range(n_characters)]
    reasons: list[str] = []

    def fits(slot: int, name: str) -> bool:
        return not any(graph.excluded(name, other) for other in slots[slot])

    def types_with(name: str, slot: int) -> set[RelationType]:
        return {e.type for other in slots[slot] for e in graph.edges_between(name, other) if e.type.is_interaction}

    def least_loaded(name: str) -> int | None:
        options = [i for i in range(1, n_characters) if fits(i, name)]
        return min(options, key=lambda i: (len(slots[i]), i)) if options else None

    def place(name: str) -> tuple[int | None, str]:
        if not slots[0]:
            return (0, "first pattern: the protagonist") if fits(0, name) else (None, "")
        with_protagonist = types_with(name, 0)
        if RelationType.CONFLICTS in with_protagonist and (slot := least_loaded(name)) is not None:
            return slot, "conflicts with the protagonist's patterns: a clash between people"
        if with_protagonist and fits(0, name):
            return 0, "reinforces or modulates the protagonist's patterns"
        linked = [i for i in range(1, n_characters) if slots[i] and types_with(name, i) and fits(i, name)]
        if linked:
            return linked[0], "interacts with this character's patterns"
        if (slot := least_loaded(name)) is not None:
            return slot, "no link to the protagonist: gives another character a part"
        return (0, "no other character can hold it") if fits(0, name) else (None, "")

    for name in order:
        slot, why = place(name)
        if slot is None:
            raise InvalidBundleError(f"no character can carry {name!r} without an excluded pair; add characters")
        slots[slot].append(name)
        reasons.append(f"{name!r} -> {'protagonist' if slot == 0 else f'character {slot}'}: {why}")
    return Assignment(slots=slots, reasons=reasons)
