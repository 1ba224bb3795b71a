"""The pattern explorer's data: a pattern's neighbourhood as Cytoscape elements, on the bundled library."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import pytest

from humanllm.errors import ConfigError, UnknownPatternError
from humanllm.patterns import InteractionGraph, PatternLibrary, Relation, RelationType, load_graph, load_library
from humanllm.viewer._graph_data import DEFAULT_MAX_NODES, neighbourhood

STATIC = Path(__file__).resolve().parents[1] / "humanllm" / "viewer" / "static"


@pytest.fixture(scope="module")
def library() -> PatternLibrary:
    return load_library()


@pytest.fixture(scope="module")
def graph(library: PatternLibrary) -> InteractionGraph:
    return load_graph(library)


def _ball(graph: InteractionGraph, name: str, radius: int) -> dict[str, int]:
    return nx.single_source_shortest_path_length(graph.nx, name, cutoff=radius)


def _ids(graph: InteractionGraph, names: Iterable[str]) -> set[str]:
    return {graph.library.get(n).id for n in names}


def test_radius_one_is_the_pattern_its_neighbours_and_every_relation_among_them(
    graph: InteractionGraph, library: PatternLibrary
) -> None:
    name = "conformity"
    elements = neighbourhood(graph, library, name)
    ball = _ball(graph, name, 1)
    assert {n["data"]["id"] for n in elements["nodes"]} == _ids(graph, ball)
    induced = graph.nx.subgraph(ball)
    assert len(elements["edges"]) == induced.number_of_edges()  # one per pair and relation type
    expected = {
        (frozenset(_ids(graph, (a, b))), key) for a, b, key in induced.edges(keys=True)
    }  # the pair's ids with the relation type
    got = {(frozenset((e["data"]["source"], e["data"]["target"])), e["data"]["relation"]) for e in elements["edges"]}
    assert got == expected
    assert not elements["truncated"] and elements["total_nodes"] == len(ball)
    centres = [n["data"] for n in elements["nodes"] if n["data"]["centre"]]
    assert [c["id"] for c in centres] == ["conformity"] and centres[0]["distance"] == 0
    json.dumps(elements)  # what the server sends


def test_nodes_carry_the_cards_fields(graph: InteractionGraph, library: PatternLibrary) -> None:
    trait = next(c for c in library if c.kind.value == "trait" and graph.nx.degree(c.name) > 0)
    elements = neighbourhood(graph, library, trait.name)
    data = next(n["data"] for n in elements["nodes"] if n["data"]["id"] == trait.id)
    assert data["label"] == trait.name and data["kind"] == "trait" and data["family"] == trait.family.value
    assert data["dimension"] == trait.family.value and data["pole"] == trait.pole.value  # type: ignore[union-attr]
    others = [n["data"] for n in elements["nodes"] if n["data"]["kind"] == "social_cognitive"]
    assert all(d["dimension"] is None and d["pole"] is None for d in others)


def test_edges_keep_type_rationale_and_direction(graph: InteractionGraph, library: PatternLibrary) -> None:
    a, b, attrs = next((a, b, d) for a, b, k, d in graph.nx.edges(keys=True, data=True) if k == "modulates")
    acting = attrs["source"]
    other = b if acting == a else a
    elements = neighbourhood(graph, library, other)
    edge = next(
        e["data"]
        for e in elements["edges"]
        if e["data"]["relation"] == "modulates" and {e["data"]["source"], e["data"]["target"]} == _ids(graph, (a, b))
    )
    assert edge["directed"] and edge["source"] == library.get(acting).id and edge["target"] == library.get(other).id
    assert edge["rationale"] == attrs["rationale"] and not edge["constraint"]
    kinds = {e["data"]["relation"] for e in neighbourhood(graph, library, "talkative")["edges"]}
    assert "excludes" in kinds  # the generated opposite-pole exclusions are drawn too
    assert kinds <= {kind.value for kind in RelationType}
    excludes = next(
        e["data"] for e in neighbourhood(graph, library, "talkative")["edges"] if e["data"]["relation"] == "excludes"
    )
    assert excludes["constraint"] and not excludes["directed"]


def test_edges_only_join_drawn_nodes_and_ids_are_unique(graph: InteractionGraph, library: PatternLibrary) -> None:
    for radius in (1, 2, 3):
        elements = neighbourhood(graph, library, "negativity bias", radius)
        ids = [n["data"]["id"] for n in elements["nodes"]]
        assert len(ids) == len(set(ids))
        edge_ids = [e["data"]["id"] for e in elements["edges"]]
        assert len(edge_ids) == len(set(edge_ids))
        assert all({e["data"]["source"], e["data"]["target"]} <= set(ids) for e in elements["edges"])


def test_the_cap_keeps_the_closest_and_says_it_cut(graph: InteractionGraph, library: PatternLibrary) -> None:
    name = max(graph.nx.nodes, key=graph.nx.degree)  # the busiest pattern: its 2-hop ring passes the cap
    ball = _ball(graph, name, 2)
    assert len(ball) > DEFAULT_MAX_NODES  # else this test checks nothing
    elements = neighbourhood(graph, library, name, 2)
    assert len(elements["nodes"]) == DEFAULT_MAX_NODES and elements["truncated"]
    assert elements["total_nodes"] == len(ball)
    distances = [n["data"]["distance"] for n in elements["nodes"]]
    assert distances == sorted(distances)
    assert distances.count(1) == sum(1 for d in ball.values() if d == 1)  # every direct neighbour kept
    small = neighbourhood(graph, library, name, 1, max_nodes=4)
    assert len(small["nodes"]) == 4 and small["truncated"] and small["nodes"][0]["data"]["centre"]


def test_within_a_ring_the_most_tied_come_first(library: PatternLibrary) -> None:
    """Two second-ring patterns: the one tied to both first-ring patterns is kept over the one tied to one."""
    names = ["conformity", "naive realism", "bandwagon effect", "groupthink", "anchoring"]
    cards = [library.get(n) for n in names]
    rationale = "a rationale long enough for the validator"
    pairs = [(0, 1), (0, 2), (1, 4), (1, 3), (2, 3)]  # 3 is tied to ring one twice, 4 once
    relations = [
        (Relation(source=cards[a].name, target=cards[b].name, type=RelationType.REINFORCES, rationale=rationale), "t")
        for a, b in pairs
    ]
    graph = InteractionGraph(PatternLibrary(cards), relations)
    kept = [n["data"]["id"] for n in neighbourhood(graph, graph.library, "conformity", 2, max_nodes=4)["nodes"]]
    assert kept[:1] == [cards[0].id] and set(kept[1:3]) == {cards[1].id, cards[2].id} and kept[3] == cards[3].id


def test_names_ids_and_aliases_find_the_same_neighbourhood(graph: InteractionGraph, library: PatternLibrary) -> None:
    card = next(c for c in library if c.aliases)
    by_name = neighbourhood(graph, library, card.name)
    assert neighbourhood(graph, library, card.id) == by_name
    assert neighbourhood(graph, library, card.aliases[0].upper()) == by_name


def test_an_unknown_pattern_suggests_close_names(graph: InteractionGraph, library: PatternLibrary) -> None:
    with pytest.raises(UnknownPatternError) as caught:
        neighbourhood(graph, library, "conformaty")
    message = str(caught.value)
    assert "did you mean" in message and "'conformity'" in message and "\n" not in message


def test_a_pattern_outside_the_graph_is_unknown(graph: InteractionGraph, library: PatternLibrary) -> None:
    other = PatternLibrary([library.get("conformity"), library.get("naive realism")])
    small = InteractionGraph(other, [])
    with pytest.raises(UnknownPatternError, match="not in the interaction graph"):
        neighbourhood(small, library, "talkative")


@pytest.mark.parametrize("radius", [0, 4, -1, True, 1.5])
def test_the_radius_is_bounded(graph: InteractionGraph, library: PatternLibrary, radius: object) -> None:
    with pytest.raises(ConfigError, match="radius must be 1, 2 or 3"):
        neighbourhood(graph, library, "conformity", radius)  # type: ignore[arg-type]


def test_a_node_cap_below_one_is_refused(graph: InteractionGraph, library: PatternLibrary) -> None:
    with pytest.raises(ConfigError, match="max_nodes"):
        neighbourhood(graph, library, "conformity", max_nodes=0)


def test_node_urls_follow_the_template_encoded(graph: InteractionGraph, library: PatternLibrary) -> None:
    plain = neighbourhood(graph, library, "conformity")
    assert all("url" not in n["data"] for n in plain["nodes"])
    linked = neighbourhood(graph, library, "conformity", url_template="/patterns/{id}?from=graph")
    for node in linked["nodes"]:
        assert node["data"]["url"] == f"/patterns/{node['data']['id']}?from=graph"


def test_cytoscape_is_vendored_as_recorded() -> None:
    vendor = STATIC / "vendor"
    script = (vendor / "cytoscape.min.js").read_bytes()
    record = (vendor / "VENDOR.md").read_text(encoding="utf-8")
    assert hashlib.sha256(script).hexdigest() in record
    version = re.search(rb'\.version="(\d+\.\d+\.\d+)"', script)
    assert version is not None and f"| {version.group(1).decode()} |" in record
    assert len(script) < 2 * 1024 * 1024
    assert "Permission is hereby granted" in (vendor / "cytoscape.LICENSE.txt").read_text(encoding="utf-8")


def test_the_widget_loads_nothing_from_elsewhere() -> None:
    for path in (STATIC / "explorer.js", STATIC / "explorer.css"):
        text = path.read_text(encoding="utf-8")
        assert "://" not in text and "innerHTML" not in text and "eval(" not in text, path
