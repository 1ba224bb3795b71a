"""Giving a bundle's patterns to characters so the interactions play out: tensions inside one person,
clashes between people."""

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
    """Protagonist first; tensions stay inside the protagonist, clashes go to others; unrelated ones give
    the others a part.

    Rules, for each pattern (most connected first):
    1. the first pattern goes to the protagonist;
    2. `clash` with a pattern the protagonist holds -> a supporting character (a clash between people);
    3. `tension` with a pattern the protagonist holds -> the protagonist (an inner conflict: torn between
       the two); `reinforces` / `modulates` -> the protagonist too (they meet inside one person);
    4. tension, reinforces or modulates with a supporting character's pattern, and no clash with it ->
       that character; otherwise the least loaded supporting character it does not clash with, so the
       others carry patterns too; when it clashes with every one of them, the protagonist.
    A character never receives a pattern that it excludes, or whose twin (`not_same_character`) it holds;
    a rule whose character cannot take the pattern yields to the next. When no rule can place a pattern,
    the protagonist or anyone who can hold it takes it.
    """
    if not MIN_CHARACTERS <= n_characters <= MAX_CHARACTERS:
        raise InvalidBundleError(f"characters must be {MIN_CHARACTERS}-{MAX_CHARACTERS}, got {n_characters}")
    names = [graph.library.get(p).name for p in patterns]
    order = sorted(names, key=lambda n: (-len(graph.internal_edges_for(n, names)), names.index(n)))
    slots: list[list[str]] = [[] for _ in range(n_characters)]
    reasons: list[str] = []
    others = range(1, n_characters)

    def fits(slot: int, name: str) -> bool:
        return not any(graph.apart(name, other) for other in slots[slot])

    def linked(name: str, slot: int, kinds: set[RelationType]) -> list[tuple[str, RelationType]]:
        """(held pattern, type) of this character's links to `name` of the given types."""
        return [(other, e.type) for other in slots[slot] for e in graph.edges_between(name, other) if e.type in kinds]

    def clashes(name: str, slot: int) -> bool:
        return bool(linked(name, slot, {RelationType.CLASH}))

    def least_loaded(name: str, *, calm: bool = False) -> int | None:
        """The least loaded supporting character that can hold `name`: one it does not clash with if any
        (only such a one when `calm`)."""
        options = [i for i in others if fits(i, name)]
        peaceful = [i for i in options if not clashes(name, i)]
        choices = peaceful if calm or peaceful else options
        return min(choices, key=lambda i: (len(slots[i]), i)) if choices else None

    def place(name: str) -> tuple[int | None, str]:
        if not slots[0]:
            return (0, "first pattern: the protagonist") if fits(0, name) else (None, "")
        if (clash := linked(name, 0, {RelationType.CLASH})) and (slot := least_loaded(name)) is not None:
            return slot, f"clash with the protagonist's {clash[0][0]!r}: a clash between people"
        together = linked(name, 0, _TOGETHER)
        if together and fits(0, name):
            held, kind = min(together, key=lambda item: _TOGETHER_ORDER.index(item[1]))
            why = "an inner conflict" if kind is RelationType.TENSION else "they meet inside one person"
            return 0, f"{kind.value} with the protagonist's {held!r}: {why}"
        for slot in others:
            if slots[slot] and linked(name, slot, _TOGETHER) and fits(slot, name) and not clashes(name, slot):
                return slot, "interacts with this character's patterns"
        if (slot := least_loaded(name, calm=True)) is not None:
            twins = [held for held in slots[0] if graph.apart(name, held)]
            if twins:
                return slot, f"cannot share the protagonist's {twins[0]!r}: another character"
            return slot, "no link to the protagonist: gives another character a part"
        if fits(0, name) and not clashes(name, 0):
            return 0, "clashes with every other character who could hold it: the protagonist"
        if (slot := least_loaded(name)) is not None:
            return slot, "no character can hold it without a clash: the least loaded other"
        return (0, "no other character can hold it") if fits(0, name) else (None, "")

    for name in order:
        slot, why = place(name)
        if slot is None:
            raise InvalidBundleError(
                f"no character can carry {name!r} without an excluded or twin pair; add characters"
            )
        slots[slot].append(name)
        reasons.append(f"{name!r} -> {'protagonist' if slot == 0 else f'character {slot}'}: {why}")
    return Assignment(slots=slots, reasons=reasons)


_TOGETHER_ORDER = (RelationType.TENSION, RelationType.REINFORCES, RelationType.MODULATES)
"""The types that bring a pattern to the character holding its partner, the first named in a reason first."""
_TOGETHER = set(_TOGETHER_ORDER)
