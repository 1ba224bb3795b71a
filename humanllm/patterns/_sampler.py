"""Seeded sampling of pattern bundles that interact, with balanced coverage."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from humanllm.core import PatternKind, SituationType
from humanllm.errors import InvalidBundleError
from humanllm.patterns._graph import Edge, InteractionGraph
from humanllm.patterns._relation_types import RelationType, interaction_type

_MAX_ATTEMPTS = 200


class BundleConstraints(BaseModel):
    """What a sampled bundle must satisfy."""

    model_config = ConfigDict(extra="forbid")

    min_size: int = Field(default=2, ge=1, le=8)
    max_size: int = Field(default=5, ge=1, le=8)
    include: list[str] = Field(default_factory=list, description="Patterns every bundle must contain.")
    exclude: list[str] = Field(default_factory=list, description="Patterns no bundle may contain.")
    min_traits: int = Field(default=0, ge=0, description="At least this many Big-Five trait markers.")
    min_social: int = Field(default=0, ge=0, description="At least this many social-cognitive patterns.")
    interaction: RelationType | None = Field(
        default=None,
        description="An edge of this interaction type (reinforces, tension, clash, modulates) must be inside; "
        "the old 'conflicts' is refused with a hint.",
    )
    situation: SituationType | None = Field(default=None, description="Prefer patterns this situation triggers.")

    @field_validator("interaction", mode="before")
    @classmethod
    def _interaction(cls, value: object) -> object:
        return interaction_type(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sizes(self) -> BundleConstraints:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} is above max_size {self.max_size}")
        if self.min_traits + self.min_social > self.max_size:
            raise ValueError("min_traits + min_social is above max_size")
        return self


class Bundle(BaseModel):
    """A set of patterns to simulate together, and the edges that explain the choice."""

    patterns: list[str]
    edges: list[str] = Field(default_factory=list, description="The interaction edges inside, as text.")

    @property
    def reason(self) -> str:
        return "; ".join(self.edges) if self.edges else "no interaction edges inside"


class BundleSampler:
    """Draws valid bundles (no excluded pair), preferring connected and least-used patterns.

    Twins (`not_same_character`) may share a bundle: they are no link to prefer and no pair to avoid;
    the assigner puts them on two characters.

    Deterministic for a seed: the same seed and constraints give the same sequence.
    """

    def __init__(
        self,
        graph: InteractionGraph,
        *,
        seed: int = 0,
        constraints: BundleConstraints | None = None,
        among: Collection[str] | None = None,
    ) -> None:
        """`among`: draw only from these patterns (e.g. a split's OOD patterns); None: from the whole graph."""
        self.graph = graph
        self.rng = random.Random(seed)
        self.constraints = constraints or BundleConstraints()
        self.usage: Counter[str] = Counter()
        lib = graph.library
        self._kind = {c.name: c.kind for c in lib}
        self._excludes = {n: set() for n in graph.nx.nodes}  # type: dict[str, set[str]]
        self._links: dict[str, dict[str, set[RelationType]]] = {n: {} for n in graph.nx.nodes}
        for a, b, key in graph.nx.edges(keys=True):
            kind = RelationType(key)
            if kind is RelationType.EXCLUDES:
                self._excludes[a].add(b)
                self._excludes[b].add(a)
            elif kind.is_interaction:
                self._links[a].setdefault(b, set()).add(kind)
                self._links[b].setdefault(a, set()).add(kind)
        c = self.constraints
        self._include = [p.name for p in lib.resolve(c.include)]
        banned = {p.name for p in lib.resolve(c.exclude)}
        if clash := [v for v in graph.violations(self._include) if v.type is RelationType.EXCLUDES]:
            raise InvalidBundleError(f"the patterns you require cannot be combined: {clash[0]}")
        if banned & set(self._include):
            raise InvalidBundleError("a pattern is both required and excluded")
        if len(self._include) > c.max_size:
            raise InvalidBundleError(f"{len(self._include)} required patterns exceed max size {c.max_size}")
        self._pool = sorted(set(graph.nx.nodes) - banned - set(self._include))
        if among is not None:
            candidates = {p.name for p in lib.resolve(list(among))}
            if outside := [name for name in self._include if name not in candidates]:
                raise InvalidBundleError(f"{outside[0]!r} is required but not among the patterns to draw from")
            self._pool = [name for name in self._pool if name in candidates]
        if c.situation is not None:
            cue = c.situation
            self._preferred = {p.name for p in lib if cue in p.triggers.situations}
        else:
            self._preferred = set(self._pool)

    def sample(self) -> Bundle:
        """One bundle; raises InvalidBundleError when the constraints cannot be met."""
        for _attempt in range(_MAX_ATTEMPTS):
            names = self._grow()
            if names is not None and self._satisfies(names):
                self.usage.update(names)
                return Bundle(patterns=names, edges=[e.describe() for e in self._edges(names)])
        raise InvalidBundleError(
            f"no bundle satisfies the constraints after {_MAX_ATTEMPTS} tries; relax them "
            "(sizes, kinds mix, interaction type, include/exclude)"
        )

    def sample_many(self, n: int) -> list[Bundle]:
        return [self.sample() for _ in range(n)]

    # --- internals ---------------------------------------------------------------------------
    def _edges(self, names: list[str]) -> list[Edge]:
        return self.graph.internal_edges(names)

    def _satisfies(self, names: list[str]) -> bool:
        c = self.constraints
        traits = sum(self._kind[n] is PatternKind.TRAIT for n in names)
        if traits < c.min_traits or len(names) - traits < c.min_social:
            return False
        if c.interaction is not None:
            return any(c.interaction in self._links[a].get(b, ()) for a in names for b in names if a < b)
        return True

    def _least_used(self, candidates: Iterable[str]) -> str:
        options = list(candidates)
        low = min(self.usage[n] for n in options)
        best = [n for n in options if self.usage[n] == low]
        return self.rng.choice(sorted(best))

    def _needed_kind(self, names: list[str], slots_left: int) -> PatternKind | None:
        c = self.constraints
        traits = sum(self._kind[n] is PatternKind.TRAIT for n in names)
        if c.min_traits - traits >= slots_left:
            return PatternKind.TRAIT
        if c.min_social - (len(names) - traits) >= slots_left:
            return PatternKind.SOCIAL_COGNITIVE
        return None

    def _grow(self) -> list[str] | None:
        c = self.constraints
        size = self.rng.randint(max(c.min_size, len(self._include)), c.max_size)
        names = list(self._include)
        blocked = set().union(*(self._excludes[n] for n in names)) if names else set()
        while len(names) < size:
            kind = self._needed_kind(names, size - len(names))
            allowed = [
                n for n in self._pool if n not in names and n not in blocked and (kind is None or self._kind[n] is kind)
            ]
            if not allowed:
                return None
            if names:
                linked = [n for n in allowed if any(n in self._links[m] for m in names)]
                if c.interaction is not None:
                    typed = [n for n in linked if any(c.interaction in self._links[m].get(n, ()) for m in names)]
                    linked = typed or linked
                preferred = [n for n in linked if n in self._preferred]
                options = preferred or linked or allowed
            else:
                seeded = [n for n in allowed if n in self._preferred and self._links[n]]
                options = seeded or allowed
            choice = self._least_used(options)
            names.append(choice)
            blocked |= self._excludes[choice]
        return names
