"""Pictures of the interaction graph (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from humanllm.patterns._graph import InteractionGraph

FAMILY_COLOURS = {
    "cognitive_bias": "#4e79a7",
    "social_influence": "#f28e2b",
    "evolutionary": "#59a14f",
    "motivational": "#b07aa1",
    "extraversion": "#edc948",
    "agreeableness": "#ff9da7",
    "conscientiousness": "#9c755f",
    "emotional_stability": "#76b7b2",
    "openness": "#e15759",
}
EDGE_STYLES: dict[str, tuple[str, Any]] = {
    "reinforces": ("#2ca02c", "solid"),
    "tension": ("#ff7f0e", "dashdot"),
    "clash": ("#d62728", "dashed"),
    "modulates": ("#1f77b4", "dotted"),
    "excludes": ("#7f7f7f", (0, (1, 3))),
    "not_same_character": ("#9467bd", (0, (5, 2, 1, 2))),
}


def draw(graph: InteractionGraph, names: Sequence[str], out: Path) -> None:
    """One pattern -> it and its neighbours; several -> the bundle and the edges among them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    nodes = set(names)
    if len(names) == 1:
        nodes |= set(graph.nx.neighbors(names[0]))
    sub = graph.nx.subgraph(nodes)
    layout = nx.spring_layout(nx.Graph(sub), seed=7, k=1.2)
    fig, ax = plt.subplots(figsize=(11, 8))
    for kind, (colour, style) in EDGE_STYLES.items():
        edges = [(a, b) for a, b, key in sub.edges(keys=True) if key == kind]
        nx.draw_networkx_edges(sub, layout, edgelist=edges, edge_color=colour, style=style, width=1.8, ax=ax)
    colours = [FAMILY_COLOURS.get(sub.nodes[n]["family"], "#cccccc") for n in sub.nodes]
    sizes = [1400 if n in names else 700 for n in sub.nodes]
    nx.draw_networkx_nodes(sub, layout, node_color=colours, node_size=sizes, edgecolors="black", ax=ax)
    nx.draw_networkx_labels(sub, layout, font_size=8, ax=ax)
    families = sorted({sub.nodes[n]["family"] for n in sub.nodes})
    handles = [
        Line2D([0], [0], marker="o", color="w", markerfacecolor=FAMILY_COLOURS.get(f, "#ccc"), markersize=10, label=f)
        for f in families
    ] + [Line2D([0], [0], color=c, linestyle=s, label=k) for k, (c, s) in EDGE_STYLES.items()]
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    ax.set_title(", ".join(names) if len(names) > 1 else f"{names[0]} and its relations")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
