"""A pattern's neighbourhood in the interaction graph, as Cytoscape.js elements for the pattern explorer.

Pure: reads the graph, writes nothing. The shape is what `cy.add(...)` takes: `{"nodes": [{"data":
{...}}], "edges": [{"data": {...}}]}`, plus a few keys about the cut (`truncated`, `centre`, ...)
that Cytoscape ignores. Node ids are the cards' slugs (safe in a URL); labels are their names.
"""

from __future__ import annotations

import logging
from typing import NotRequired, TypedDict
from urllib.parse import quote

from humanllm.core import Pattern
from humanllm.errors import ConfigError, UnknownPatternError
from humanllm.patterns import InteractionGraph, PatternLibrary, RelationType

logger = logging.getLogger(__name__)

MAX_RADIUS = 3
"""Farthest ring the explorer draws: at 3 hops the busiest pattern already reaches most of the library."""
DEFAULT_MAX_NODES = 60
"""Most nodes drawn at once; past this a drawing stops being readable."""


class NodeData(TypedDict):
    """One pattern, as a Cytoscape node's `data`."""

    id: str  # the card's slug
    label: str  # the card's name
    kind: str  # "trait" or "social_cognitive"
    family: str  # social-cognitive family or Big-Five dimension
    dimension: str | None  # traits: the Big-Five dimension; None otherwise
    pole: str | None  # traits: "positive" or "negative"; None otherwise
    centre: bool  # the pattern the neighbourhood is about
    distance: int  # hops from the centre (0 for the centre)
    url: NotRequired[str]  # the pattern's page, when a URL template was given


class EdgeData(TypedDict):
    """One relation, as a Cytoscape edge's `data`."""

    id: str  # "<source>|<relation>|<target>": a pair holds at most one relation of each type
    source: str  # node id; the acting pattern when `directed`
    target: str  # node id
    relation: str  # a RelationType value: excludes, not_same_character, reinforces, tension, clash, modulates
    constraint: bool  # true for the types that keep two patterns out of one character (drawn dashed)
    rationale: str  # the relation's one-sentence rationale (data: display it as text, never as HTML)
    directed: bool  # the source acts on the target (always for modulates)


class Node(TypedDict):
    data: NodeData


class EdgeElement(TypedDict):
    data: EdgeData


class GraphElements(TypedDict):
    """What the explorer fetches: Cytoscape elements and how the neighbourhood was cut."""

    nodes: list[Node]
    edges: list[EdgeElement]
    centre: str  # the centre's node id
    radius: int  # the radius asked for
    truncated: bool  # some patterns within `radius` were left out to stay under the node cap
    total_nodes: int  # how many patterns lie within `radius`, before the cap


def _distances(graph: InteractionGraph, centre: str, radius: int) -> dict[str, int]:
    """Hops from `centre` to every pattern within `radius` (breadth first over all relation types)."""
    seen = {centre: 0}
    ring = [centre]
    for hop in range(1, radius + 1):
        following: list[str] = []
        for name in ring:
            for other in graph.nx.neighbors(name):
                if other not in seen:
                    seen[other] = hop
                    following.append(other)
        ring = following
    return seen


def _keep(graph: InteractionGraph, distance: dict[str, int], max_nodes: int) -> list[str]:
    """The closest patterns first; within a ring, the most strongly tied to the rings inside it (relations
    to nearer patterns, counted per type), then the best connected overall, then by name."""

    def ties(name: str) -> int:
        return sum(
            len(graph.nx.get_edge_data(name, other) or {})
            for other in graph.nx.neighbors(name)
            if distance.get(other, MAX_RADIUS + 1) < distance[name]
        )

    order = sorted(distance, key=lambda n: (distance[n], -ties(n), -graph.nx.degree(n), n))
    return order[:max_nodes]


def _node(card: Pattern, distance: int, url_template: str | None) -> Node:
    data = NodeData(
        id=card.id,
        label=card.name,
        kind=card.kind.value,
        family=card.family.value,
        dimension=card.dimension.value if card.dimension else None,
        pole=card.pole.value if card.pole else None,
        centre=distance == 0,
        distance=distance,
    )
    if url_template is not None:
        data["url"] = url_template.replace("{id}", quote(card.id, safe=""))
    return Node(data=data)


def neighbourhood(
    graph: InteractionGraph,
    library: PatternLibrary,
    pattern_id: str,
    radius: int = 1,
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    url_template: str | None = None,
) -> GraphElements:
    """The patterns within `radius` hops (1-3) of `pattern_id` (a name, id or alias) and every relation
    among them, at most `max_nodes` patterns (the closest and most strongly tied kept; `truncated` says
    whether any were left out). `url_template` (e.g. "/patterns/{id}") gives each node a `url`.

    An unknown pattern raises `UnknownPatternError` with the library's close-name suggestions; a radius
    or node cap out of range raises `ConfigError`."""
    if isinstance(radius, bool) or not isinstance(radius, int) or not 1 <= radius <= MAX_RADIUS:
        raise ConfigError(f"radius must be 1, 2 or {MAX_RADIUS} (hops from the pattern), not {radius!r}")
    if max_nodes < 1:
        raise ConfigError(f"max_nodes must be at least 1, not {max_nodes}")
    card = library.get(pattern_id)
    if card.name not in graph.nx:
        raise UnknownPatternError(
            f"pattern {card.name!r} is not in the interaction graph; build the graph from the same library"
        )
    cards = {c.name: c for c in graph.library}
    cards.update({c.name: c for c in library})
    distance = _distances(graph, card.name, radius)
    kept = _keep(graph, distance, max_nodes)
    kept_set = set(kept)
    nodes = [_node(cards[name], distance[name], url_template) for name in kept]
    edges: list[EdgeElement] = []
    for a, b, key, attrs in graph.nx.edges(kept, keys=True, data=True):
        if b not in kept_set:
            continue
        src = attrs.get("source", a)
        source, target = cards[src].id, cards[b if src == a else a].id
        kind = RelationType(key)
        edges.append(
            EdgeElement(
                data=EdgeData(
                    id=f"{source}|{kind.value}|{target}",
                    source=source,
                    target=target,
                    relation=kind.value,
                    constraint=kind.keeps_apart,
                    rationale=attrs["rationale"],
                    directed=bool(attrs.get("directed")),
                )
            )
        )
    # one edge per pair and relation type (the id says which); sorted for a stable drawing
    unique = list({e["data"]["id"]: e for e in edges}.values())
    unique.sort(key=lambda e: e["data"]["id"])
    truncated = len(kept) < len(distance)
    if truncated:
        logger.debug(
            "neighbourhood of %r at radius %d: %d of %d patterns kept", card.name, radius, len(kept), len(distance)
        )
    return GraphElements(
        nodes=nodes,
        edges=unique,
        centre=card.id,
        radius=radius,
        truncated=truncated,
        total_nodes=len(distance),
    )
