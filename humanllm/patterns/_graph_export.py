"""The interaction graph for people and other tools: summary statistics and GraphML / node-link export."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any, Literal

import networkx as nx

from humanllm.patterns._graph import InteractionGraph
from humanllm.patterns._relations import RelationType

ExportFormat = Literal["graphml", "json"]


def graph_statistics(graph: InteractionGraph) -> dict[str, Any]:
    """Degrees, relation counts by type and family, coverage and components (JSON-ready).

    Every type is counted (constraints included); degrees, components and family counts use the
    interaction types only (reinforces, tension, clash, modulates)."""
    g = graph.nx
    by_type = Counter(key for _, _, key in g.edges(keys=True))
    interaction = nx.Graph([(a, b) for a, b, key in g.edges(keys=True) if RelationType(key).is_interaction])
    interaction.add_nodes_from(g.nodes)
    degrees = [len(graph.interactions(n)) for n in g.nodes]
    family_edges: Counter[str] = Counter()
    for a, b, key in g.edges(keys=True):
        if RelationType(key).is_interaction:
            family_edges[g.nodes[a]["family"]] += 1
            family_edges[g.nodes[b]["family"]] += 1
    return {
        "patterns": g.number_of_nodes(),
        "relations_by_type": {kind.value: by_type[kind.value] for kind in RelationType},
        "interaction_degree": {"min": min(degrees), "max": max(degrees), "mean": sum(degrees) / len(degrees)},
        "patterns_with_fewer_than_2_interactions": sorted(n for n in g.nodes if len(graph.interactions(n)) < 2),
        "components": nx.number_connected_components(interaction),
        "interaction_endpoints_by_family": dict(sorted(family_edges.items())),
    }


def export_graph(graph: InteractionGraph, fmt: ExportFormat = "graphml") -> tuple[str, int, int]:
    """The whole graph as GraphML or node-link JSON text (attributes as strings); with its node and edge counts."""
    plain = nx.MultiGraph()
    plain.add_nodes_from(graph.nx.nodes(data=True))
    for a, b, key, attrs in graph.nx.edges(keys=True, data=True):
        plain.add_edge(a, b, key=key, type=key, **{k: str(v) for k, v in attrs.items()})
    if fmt == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(plain, buffer)
        text = buffer.getvalue().decode("utf-8")
    else:
        text = json.dumps(nx.node_link_data(plain, edges="edges"), indent=1)
    return text, plain.number_of_nodes(), plain.number_of_edges()
