"""Placeholder until the pattern explorer's branch lands: a pattern's neighbourhood as Cytoscape elements.

The explorer's own module (branch `i19-explorer`) replaces this file with the same signature; this one
gives the pattern and its direct neighbours (any `radius` reads as 1), each edge with its relation
type and rationale, from `InteractionGraph`'s public API.
"""

from __future__ import annotations

from typing import Any

from humanllm.patterns import InteractionGraph, PatternLibrary


def _node(library: PatternLibrary, name: str, *, centre: bool = False) -> dict[str, Any]:
    card = library.get(name)
    data: dict[str, Any] = {"id": card.id, "label": card.name, "kind": card.kind.value, "family": card.family.value}
    if centre:
        data["centre"] = True
    return {"data": data}


def neighbourhood(graph: InteractionGraph, library: PatternLibrary, pattern_id: str, radius: int = 1) -> dict:
    """{"nodes": [...], "edges": [...]}: the pattern and its direct neighbours; raises KeyError when unknown."""
    card = library.get(pattern_id)
    nodes = {card.name: _node(library, card.name, centre=True)}
    edges = []
    for edge in graph.neighbours(card.name):
        for name in (edge.a, edge.b):
            nodes.setdefault(name, _node(library, name))
        a, b = library.get(edge.a).id, library.get(edge.b).id
        edges.append(
            {
                "data": {
                    "id": f"{a}~{edge.type.value}~{b}",
                    "source": a,
                    "target": b,
                    "type": edge.type.value,
                    "rationale": edge.rationale,
                    "directed": edge.directed,
                }
            }
        )
    return {"nodes": list(nodes.values()), "edges": edges}
