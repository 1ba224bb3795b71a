"""The pattern-interaction graph: patterns as nodes, typed relations as edges (networkx)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from humanllm.core import Pattern, PatternKind
from humanllm.errors import PatternDataError
from humanllm.patterns._library import PatternLibrary
from humanllm.patterns._relation_types import contradicts
from humanllm.patterns._relations import BUILTIN_RELATIONS, Relation, RelationType, contradiction, read_relations


@dataclass(frozen=True)
class Edge:
    """One relation between two patterns, as the graph holds it."""

    a: str
    b: str
    type: RelationType
    rationale: str
    directed: bool = False
    """When true, `a` acts on `b`."""

    def describe(self) -> str:
        link = f"-[{self.type.value}]->" if self.directed else f"-[{self.type.value}]-"
        return f"{self.a} {link} {self.b}: {self.rationale}"


@dataclass(frozen=True)
class Violation:
    """Why two patterns cannot live in one character."""

    a: str
    b: str
    rule: str
    rationale: str
    type: RelationType = RelationType.EXCLUDES
    """`excludes` (the pair also stays out of one sampled bundle) or `not_same_character` (twins: one
    bundle may hold both, on two characters)."""

    def __str__(self) -> str:
        return f"{self.a!r} and {self.b!r} cannot be one character's patterns ({self.rule}): {self.rationale}"


def _opposite_poles(cards: Sequence[Pattern]) -> Iterable[Relation]:
    """Generated `excludes` edges: opposite poles of one Big-Five aspect (DeYoung et al., 2007).

    Talkative and quiet (both assertiveness) exclude each other; reserved and assertive (enthusiasm
    against assertiveness) do not: a reserved person who speaks up firmly is a coherent character.
    A trait card with no aspect (an imported one) is held to the old, stricter rule: every opposite
    pole of its dimension."""
    traits = [c for c in cards if c.kind is PatternKind.TRAIT]
    for a, b in combinations(traits, 2):
        if a.family is not b.family or a.pole is b.pole:
            continue
        dimension = a.family.value.replace("_", " ")
        if a.aspect is not None and b.aspect is not None:
            if a.aspect is not b.aspect:
                continue
            rationale = f"opposite poles of the {a.aspect.value} aspect of {dimension}"
        else:
            rationale = f"opposite poles of {dimension} (a card without an aspect excludes the whole opposite pole)"
        yield Relation(source=a.name, target=b.name, type=RelationType.EXCLUDES, rationale=rationale)


class InteractionGraph:
    """Which patterns exclude, twin, reinforce, pull against (tension), clash with or modulate which.

    Backed by a `networkx.MultiGraph` keyed by relation type, so a pair can be both excluded
    within one character and clash across two. A tension on a pair that cannot share a character
    (excludes, not_same_character) is refused: a tension plays out inside one person.
    """

    def __init__(self, library: PatternLibrary, relations: Iterable[tuple[Relation, str]]) -> None:
        import networkx as nx  # here, not at import: `humanllm --help` loads this module

        self.library = library
        self.nx = nx.MultiGraph()
        for card in library:
            self.nx.add_node(
                card.name,
                kind=card.kind.value,
                family=card.family.value,
                pole=card.pole.value if card.pole else "",
                dimension=card.dimension.value if card.dimension else "",
            )
        problems: list[str] = []
        generated = [(rel, "generated") for rel in _opposite_poles(list(library))]
        for relation, where in [*generated, *relations]:
            try:
                a, b = library.get(relation.source).name, library.get(relation.target).name
            except KeyError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if a == b:
                problems.append(f"{where}: a pattern cannot relate to itself ({a!r})")
                continue
            if self.nx.has_edge(a, b, key=relation.type.value):
                if where != "generated":
                    problems.append(f"{where}: duplicate {relation.type.value} relation between {a!r} and {b!r}")
                continue
            for key, attrs in (self.nx.get_edge_data(a, b) or {}).items():
                if contradicts(relation.type, RelationType(key)):
                    problems.append(f"{where}: {contradiction(relation.type, RelationType(key), a, b, attrs['where'])}")
            self.nx.add_edge(
                a,
                b,
                key=relation.type.value,
                rationale=relation.rationale,
                directed=relation.is_directed,
                source=a,
                where=where,
            )
        if problems:
            raise PatternDataError("bad relations:\n  " + "\n  ".join(problems[:30]))

    # --- queries ---------------------------------------------------------------------------
    def edges_between(self, a: str, b: str) -> list[Edge]:
        a, b = self.library.get(a).name, self.library.get(b).name
        data = self.nx.get_edge_data(a, b) or {}
        return [self._edge(a, b, key, attrs) for key, attrs in data.items()]

    def _edge(self, a: str, b: str, key: str, attrs: dict) -> Edge:
        src = attrs.get("source", a)
        dst = b if src == a else a
        return Edge(src, dst, RelationType(key), attrs["rationale"], bool(attrs.get("directed")))

    def neighbours(self, name: str, *, kind: RelationType | None = None) -> list[Edge]:
        """Every relation of a pattern, optionally of one type."""
        name = self.library.get(name).name
        out: list[Edge] = []
        for _, other, key, attrs in self.nx.edges(name, keys=True, data=True):
            if kind is None or key == kind.value:
                out.append(self._edge(name, other, key, attrs))
        return sorted(out, key=lambda e: (e.type.value, e.b if e.a == name else e.a))

    def interactions(self, name: str) -> list[str]:
        """Patterns linked to `name` by reinforces, tension, clash or modulates."""
        return sorted({other for _, other, key in self.nx.edges(name, keys=True) if RelationType(key).is_interaction})

    def excluded(self, a: str, b: str) -> bool:
        """A curated or generated `excludes` edge: not one character, and not one sampled bundle."""
        return self.nx.has_edge(a, b, key=RelationType.EXCLUDES.value)

    def apart(self, a: str, b: str) -> bool:
        """One character cannot carry both: `excludes` or `not_same_character` (twin constructs)."""
        return any(self.nx.has_edge(a, b, key=kind.value) for kind in RelationType if kind.keeps_apart)

    def internal_edges(self, names: Sequence[str]) -> list[Edge]:
        """The interaction edges inside a set of patterns: why a bundle hangs together."""
        out: list[Edge] = []
        for a, b in combinations(names, 2):
            out.extend(e for e in self.edges_between(a, b) if e.type.is_interaction)
        return out

    def internal_edges_for(self, name: str, names: Sequence[str]) -> list[Edge]:
        """Interaction edges between `name` and the others in `names`."""
        return [e for other in names if other != name for e in self.edges_between(name, other) if e.type.is_interaction]

    def violations(self, names: Sequence[str]) -> list[Violation]:
        """Why this set cannot be one character's patterns; empty when it can. Only the `excludes`
        ones also keep a pair out of one sampled bundle (see `Violation.type`)."""
        cards = self.library.resolve(list(names))
        out = []
        for a, b in combinations([c.name for c in cards], 2):
            for kind in (RelationType.EXCLUDES, RelationType.NOT_SAME_CHARACTER):
                data = self.nx.get_edge_data(a, b, key=kind.value)
                if data is None:
                    continue
                if kind is RelationType.NOT_SAME_CHARACTER:
                    rule = "twin constructs"
                else:
                    rule = "opposite Big-Five poles" if data.get("where") == "generated" else "curated exclusion"
                out.append(Violation(a, b, rule, data["rationale"], kind))
        return out


def load_graph(library: PatternLibrary, relation_dirs: Sequence[Path] = ()) -> InteractionGraph:
    """The graph over a library: built-in relations plus any in `<patterns-dir>/relations/`."""
    dirs = [BUILTIN_RELATIONS, *[Path(d) / "relations" for d in relation_dirs]]
    return InteractionGraph(library, read_relations(dirs))
