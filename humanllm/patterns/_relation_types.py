"""The kinds of relation between two patterns: what each means for one character and for a cast."""

from __future__ import annotations

from enum import StrEnum

LEGACY_CONFLICTS = "conflicts"
"""The relation type before issue 16; relation files that still use it are read as `clash`."""
LEGACY_HINT = (
    "'conflicts' is now two types: 'tension' (two pulls inside one person) or 'clash' (the patterns set two "
    "people against each other)"
)


class RelationType(StrEnum):
    """A relation's type. Two are constraints on who carries what, four are interactions a bundle plays out."""

    EXCLUDES = "excludes"
    """A flat contradiction: one character cannot carry both. The graph sampler keeps the pair out of one
    bundle; a bundle that holds it anyway (the paper recipe, a bundle given) puts them on two characters."""
    NOT_SAME_CHARACTER = "not_same_character"
    """Twin constructs, one thing under two names (jealous and jealousy): one character carrying both
    would double one behaviour and its checklist. A constraint, not an interaction: the pair may share a
    bundle, on two characters."""
    REINFORCES = "reinforces"
    """Each makes the other stronger or more likely; the assigner lets them meet inside one person."""
    TENSION = "tension"
    """Two pulls inside one mind (torn between, ambivalence, wanting both): the assigner gives both to the
    protagonist, an inner conflict, when the protagonist can carry them."""
    CLASH = "clash"
    """The patterns set two people against each other: the assigner gives the second to another character."""
    MODULATES = "modulates"
    """The source changes how the target shows (always directed); they meet inside one person."""

    @property
    def is_interaction(self) -> bool:
        """True for the types a bundle plays out (reinforces, tension, clash, modulates)."""
        return self not in (RelationType.EXCLUDES, RelationType.NOT_SAME_CHARACTER)

    @property
    def keeps_apart(self) -> bool:
        """True for the types that forbid one character to carry both patterns."""
        return not self.is_interaction


INTERACTION_TYPES = tuple(kind for kind in RelationType if kind.is_interaction)


def contradicts(a: RelationType, b: RelationType) -> bool:
    """True when one pair cannot hold both types: a tension needs one character, excludes and
    not_same_character forbid it."""
    return (a is RelationType.TENSION and b.keeps_apart) or (b is RelationType.TENSION and a.keeps_apart)


def interaction_type(value: str | RelationType) -> RelationType:
    """The interaction type `value` names; a `ValueError` that says what to pass instead otherwise."""
    if value == LEGACY_CONFLICTS:
        raise ValueError(f"{LEGACY_HINT}; pass one of them")
    names = ", ".join(kind.value for kind in INTERACTION_TYPES)
    try:
        kind = RelationType(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an interaction type; pass one of {names}") from None
    if not kind.is_interaction:
        raise ValueError(f"{kind.value} is a constraint, not an interaction; pass one of {names}")
    return kind
