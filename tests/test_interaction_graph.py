from __future__ import annotations

import functools
import json
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.core import PatternKind, SituationType
from humanllm.errors import InvalidBundleError, PatternDataError
from humanllm.patterns import (
    BundleConstraints,
    BundleSampler,
    InteractionGraph,
    RelationType,
    assign,
    load_graph,
    load_library,
)
from humanllm.patterns._relations import read_relation_file


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def test_curated_relations_meet_the_bar(graph: InteractionGraph) -> None:
    kinds = Counter(key for _, _, key in graph.nx.edges(keys=True))
    assert "conflicts" not in kinds  # split into tension (inside one person) and clash (between people)
    opposed = kinds["tension"] + kinds["clash"]
    interactions = kinds["reinforces"] + opposed + kinds["modulates"]
    assert interactions >= 400
    assert min(kinds["reinforces"], opposed, kinds["modulates"]) >= 0.15 * interactions
    assert min(kinds["tension"], kinds["clash"]) >= 0.05 * interactions  # both halves of the old conflicts are used
    assert all(len(graph.interactions(n)) >= 2 for n in graph.nx.nodes)
    families = {graph.nx.nodes[n]["family"] for a, b, k in graph.nx.edges(keys=True) if k != "excludes" for n in (a, b)}
    assert len(families) == 9  # every social-cognitive family and every Big-Five dimension


def test_opposite_poles_exclude_each_other_only_within_one_aspect(graph: InteractionGraph) -> None:
    traits = [c for c in graph.library if c.kind is PatternKind.TRAIT]
    assert all(c.aspect is not None and c.aspect.dimension is c.family for c in traits)
    pairs = same_aspect = 0
    for a, b in combinations(traits, 2):
        if a.family is b.family and a.pole is not b.pole:
            pairs += 1
            if a.aspect is b.aspect:
                same_aspect += 1
                assert graph.excluded(a.name, b.name)
                assert graph.violations([a.name, b.name])[0].rule == "opposite Big-Five poles"
            else:
                assert (
                    graph.violations([a.name, b.name]) == [] or "curated" in graph.violations([a.name, b.name])[0].rule
                )
    assert pairs == 500 and same_aspect < 0.6 * pairs
    assert graph.excluded("talkative", "quiet") and graph.excluded("secure", "insecure")
    # coherent inner-conflict characters (issue 16): opposite poles of different aspects
    for a, b in [
        ("composed", "anxious"),
        ("critical", "kind"),
        ("reserved", "assertive"),
        ("intellectual", "unartistic"),
    ]:
        assert not graph.excluded(a, b), (a, b)
    # two curated exclusions were wrong: a silent person can still quarrel; conservatism and base-rate neglect
    # live in one mind, depending on the evidence (Griffin & Tversky 1992)
    assert not graph.excluded("silent", "quarrelsome")
    assert not graph.excluded("conservatism", "base rate fallacy")
    assert RelationType.MODULATES in {e.type for e in graph.edges_between("conservatism", "base rate fallacy")}


def test_a_trait_without_an_aspect_excludes_the_whole_opposite_pole() -> None:
    library = load_library()
    quiet = library.get("quiet").model_copy(update={"aspect": None})
    cards = [quiet if c.name == "quiet" else c for c in library]
    graph = InteractionGraph(type(library)(cards), [])
    assert graph.excluded("quiet", "outgoing")  # enthusiasm vs (unknown): the old, strict rule
    assert not graph.excluded("reserved", "assertive")


def test_check_explains_the_pair_and_rule(graph: InteractionGraph) -> None:
    problems = graph.violations(["optimism bias", "pessimism bias", "kind"])
    assert [(p.a, p.b, p.rule) for p in problems] == [("optimism bias", "pessimism bias", "curated exclusion")]
    assert graph.violations(["confirmation bias", "kind"]) == []


@functools.cache
def _shared_graph() -> InteractionGraph:
    return load_graph(load_library())


def _bundle_is_valid(graph: InteractionGraph, names: list[str]) -> bool:
    """No `excludes` pair: twin constructs (`not_same_character`) may share a bundle, on two characters."""
    return not [v for v in graph.violations(names) if v.type is RelationType.EXCLUDES]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), low=st.integers(2, 4), extra=st.integers(0, 2))
@example(seed=576, low=2, extra=1)  # 'cruel' + 'sadistic pleasure': twins, allowed in one bundle
def test_sampled_bundles_are_valid_sized_and_deterministic(seed: int, low: int, extra: int) -> None:
    g = _shared_graph()
    constraints = BundleConstraints(min_size=low, max_size=min(5, low + extra))
    first = BundleSampler(g, seed=seed, constraints=constraints).sample_many(5)
    again = BundleSampler(g, seed=seed, constraints=constraints).sample_many(5)
    assert first == again
    for bundle in first:
        assert constraints.min_size <= len(bundle.patterns) <= constraints.max_size
        assert len(set(bundle.patterns)) == len(bundle.patterns)
        assert _bundle_is_valid(g, bundle.patterns)


def test_coverage_is_balanced_over_2000_samples(graph: InteractionGraph) -> None:
    sampler = BundleSampler(graph, seed=42)
    bundles = sampler.sample_many(2000)
    counts = Counter(name for b in bundles for name in b.patterns)
    assert len(counts) == 244
    assert max(counts.values()) / min(counts.values()) <= 3
    assert sum(1 for b in bundles if b.edges) / len(bundles) > 0.9  # bundles whose patterns interact


def test_constraints_are_honoured(graph: InteractionGraph) -> None:
    constraints = BundleConstraints(
        include=["sunk cost fallacy"],
        exclude=["loss aversion"],
        min_traits=1,
        min_social=2,
        interaction=RelationType.TENSION,
        situation=SituationType.DUTY,
        max_size=4,
        min_size=3,
    )
    for bundle in BundleSampler(graph, seed=3, constraints=constraints).sample_many(30):
        kinds = [graph.library.get(n).kind for n in bundle.patterns]
        assert "sunk cost fallacy" in bundle.patterns and "loss aversion" not in bundle.patterns
        assert kinds.count(PatternKind.TRAIT) >= 1 and kinds.count(PatternKind.SOCIAL_COGNITIVE) >= 2
        assert any("[tension]" in edge for edge in bundle.edges)


def test_impossible_constraints_fail_clearly(graph: InteractionGraph) -> None:
    with pytest.raises(InvalidBundleError, match="cannot be combined"):
        BundleSampler(graph, constraints=BundleConstraints(include=["talkative", "quiet"]))
    with pytest.raises(ValueError, match="above max_size"):
        BundleConstraints(min_size=5, max_size=3)


@pytest.mark.parametrize("characters", [2, 3, 6])
def test_assignment_never_puts_an_excluded_pair_in_one_character(graph: InteractionGraph, characters: int) -> None:
    sampler = BundleSampler(graph, seed=characters)
    for bundle in sampler.sample_many(200):
        assignment = assign(graph, bundle.patterns, characters)
        assert sorted(p for slot in assignment.slots for p in slot) == sorted(bundle.patterns)
        assert assignment.protagonist
        for slot in assignment.slots:
            assert not graph.violations(slot)


def test_clashing_patterns_meet_across_characters(graph: InteractionGraph) -> None:
    clashes = {(e.a, e.b) for a in graph.nx.nodes for e in graph.neighbours(a, kind=RelationType.CLASH)}
    assert clashes
    for a, b in clashes:
        assignment = assign(graph, [a, b], 2)
        assert len(assignment.slots[0]) == 1 and len(assignment.slots[1]) == 1


def test_relations_with_unknown_names_fail_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "relations"
    folder.mkdir()
    rows = [
        {"source": "confirmation bias", "target": "kind", "type": "reinforces", "rationale": "A valid sentence here."},
        {"source": "confirmaton bias", "target": "kind", "type": "clash", "rationale": "Misspelt source name."},
    ]
    (folder / "mine.yaml").write_text(yaml.safe_dump(rows, sort_keys=False))
    with pytest.raises(PatternDataError, match=r"mine\.yaml:5: unknown pattern 'confirmaton bias'"):
        load_graph(load_library(), [tmp_path])
    (folder / "mine.yaml").write_text("- source: a\n  target: b\n  type: likes\n  rationale: not a real type at all\n")
    with pytest.raises(PatternDataError, match=r"mine\.yaml:1: type"):
        read_relation_file(folder / "mine.yaml")


def test_graph_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(register(), ["graph", "check", "talkative, quiet, kind", "--json"])
    assert bad.exit_code == 1 and json.loads(bad.output)["violations"][0]["rule"] == "opposite Big-Five poles"
    good = runner.invoke(register(), ["graph", "check", "confirmation bias, kind"])
    assert good.exit_code == 0
    sampled = runner.invoke(register(), ["graph", "sample", "--n", "3", "--seed", "4", "--json"])
    rows = json.loads(sampled.output)
    assert len(rows) == 3 and all(r["assignment"][0] for r in rows)
    assert runner.invoke(register(), ["graph", "sample", "--n", "3", "--seed", "4", "--json"]).output == sampled.output
    shown = runner.invoke(register(), ["graph", "show", "sunk cost fallacy", "--json"])
    assert json.loads(shown.output)["edges"]
    out = tmp_path / "graph.graphml"
    assert runner.invoke(register(), ["graph", "export", "--out", str(out)]).exit_code == 0
    assert out.stat().st_size > 10_000
    picture = tmp_path / "bundle.png"
    assert (
        runner.invoke(register(), ["graph", "plot", "sunk cost fallacy, anxious", "--out", str(picture)]).exit_code == 0
    )
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_annotate_writes_proposals_for_review_and_merges_nothing(tmp_path: Path) -> None:
    out = tmp_path / "review" / "relations"  # the default, inside a user's patterns dir
    result = CliRunner().invoke(
        register(), ["graph", "annotate", "sunk cost fallacy", "--model", "fake", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    proposals = yaml.safe_load((out / "sunk-cost-fallacy.yaml").read_text())
    assert proposals and all(
        p["source"] == "sunk cost fallacy" or p["target"] == "sunk cost fallacy" for p in proposals
    )
    before = load_graph(load_library()).nx.number_of_edges()
    # neither the card loader nor the graph loader reads the review folder
    assert load_graph(load_library([tmp_path]), [tmp_path]).nx.number_of_edges() == before
