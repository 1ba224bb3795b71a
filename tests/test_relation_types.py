"""Relation types after issue 16: tension (inside one person), clash (between people), twins (not_same_character),
and the old `conflicts` still read from user files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.cli.graph import _STYLE
from humanllm.errors import PatternDataError
from humanllm.patterns import (
    BundleConstraints,
    BundleSampler,
    InteractionGraph,
    RelationType,
    assign,
    graph_statistics,
    load_graph,
    load_library,
)
from humanllm.patterns._plot import EDGE_STYLES

TWINS = [("jealous", "jealousy"), ("cruel", "sadistic pleasure"), ("reactance", "psychological reactance theory")]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _folder(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    (tmp_path / "relations").mkdir(exist_ok=True)
    (tmp_path / "relations" / "mine.yaml").write_text(yaml.safe_dump(rows, sort_keys=False))
    return tmp_path


def _row(source: str, target: str, kind: str) -> dict[str, str]:
    return {"source": source, "target": target, "type": kind, "rationale": f"A {kind} relation written for a test."}


def _owner(slots: list[list[str]]) -> dict[str, int]:
    return {name: i for i, slot in enumerate(slots) for name in slot}


def test_constraints_are_no_interaction_and_every_type_has_a_style() -> None:
    assert {k for k in RelationType if not k.is_interaction} == {
        RelationType.EXCLUDES,
        RelationType.NOT_SAME_CHARACTER,
    }
    assert all(k.keeps_apart is not k.is_interaction for k in RelationType)
    assert set(EDGE_STYLES) == set(_STYLE) == {k.value for k in RelationType}


def test_each_new_type_loads_from_a_user_folder(tmp_path: Path) -> None:
    pairs = {
        "tension": ("confirmation bias", "helpful"),
        "clash": ("anchoring", "talkative"),
        "not_same_character": ("decoy effect", "warm"),
    }
    base = load_graph(load_library())
    assert all(not base.edges_between(a, b) for a, b in pairs.values())
    folder = _folder(tmp_path, [_row(a, b, kind) for kind, (a, b) in pairs.items()])
    graph = load_graph(load_library(), [folder])
    for kind, (a, b) in pairs.items():
        assert [e.type.value for e in graph.edges_between(a, b)] == [kind]
    assert graph.apart("decoy effect", "warm") and not graph.excluded("decoy effect", "warm")
    assert "warm" not in graph.interactions("decoy effect")  # a twin link is a constraint, not an interaction
    assert graph_statistics(graph)["relations_by_type"]["not_same_character"] == len(TWINS) + 1


def test_the_assigner_keeps_a_tension_in_one_person_and_a_clash_between_two(graph: InteractionGraph) -> None:
    tensions = {(e.a, e.b) for n in graph.nx.nodes for e in graph.neighbours(n, kind=RelationType.TENSION)}
    clashes = {(e.a, e.b) for n in graph.nx.nodes for e in graph.neighbours(n, kind=RelationType.CLASH)}
    assert len(tensions) > 50 and len(clashes) > 20
    for a, b in tensions:
        assignment = assign(graph, [a, b], 2)
        assert sorted(assignment.protagonist) == sorted([a, b]) and assignment.slots[1] == []
        assert "an inner conflict" in assignment.reasons[1]
    for a, b in clashes:
        owner = _owner(assign(graph, [a, b], 3).slots)
        assert owner[a] != owner[b]
    # a third pattern that clashes with the protagonist's goes to another character, the tension stays inside
    assignment = assign(graph, ["reserved", "affectionate", "rude"], 3)
    owner = _owner(assignment.slots)
    assert owner["reserved"] == owner["affectionate"] == 0
    clash = next(e for e in graph.neighbours("rude", kind=RelationType.CLASH))
    partner = clash.b if clash.a == "rude" else clash.a
    owner = _owner(assign(graph, ["rude", partner, "affectionate"], 2).slots)
    assert owner["rude"] != owner[partner]


def test_a_clash_with_a_supporting_character_keeps_away_from_that_character(tmp_path: Path) -> None:
    rows = [
        _row("confirmation bias", "helpful", "tension"),
        _row("confirmation bias", "kind", "tension"),
        _row("confirmation bias", "anchoring", "clash"),
        _row("anchoring", "decoy effect", "clash"),
    ]
    graph = load_graph(load_library(), [_folder(tmp_path, rows)])
    patterns = ["confirmation bias", "anchoring", "helpful", "kind", "decoy effect"]
    two = _owner(assign(graph, patterns, 2).slots)
    assert two["confirmation bias"] == two["helpful"] == two["kind"] == 0 and two["anchoring"] == 1
    assert two["decoy effect"] == 0  # it clashes with character 1's pattern, not with the protagonist's
    three = _owner(assign(graph, patterns, 3).slots)
    assert three["anchoring"] == 1 and three["decoy effect"] == 2


@pytest.mark.parametrize("twin", TWINS)
def test_twins_never_share_a_character_but_can_share_a_bundle(graph: InteractionGraph, twin: tuple[str, str]) -> None:
    a, b = twin
    (violation,) = graph.violations([a, b])
    assert violation.type is RelationType.NOT_SAME_CHARACTER and violation.rule == "twin constructs"
    assert not graph.excluded(a, b) and graph.apart(a, b)
    assert not graph.internal_edges([a, b])  # their reinforces edge, one construct with itself, is gone
    sampler = BundleSampler(graph, seed=1, constraints=BundleConstraints(include=[a, b], max_size=4))
    for bundle in sampler.sample_many(20):
        assert a in bundle.patterns and b in bundle.patterns
        for characters in (2, 3):
            assignment = assign(graph, bundle.patterns, characters)
            owner = _owner(assignment.slots)
            assert owner[a] != owner[b]
            assert all(not graph.violations(slot) for slot in assignment.slots)


def test_a_tension_on_a_pair_that_cannot_share_a_character_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [_row("talkative", "quiet", "tension")])  # opposite poles of assertiveness
    with pytest.raises(PatternDataError, match=r"mine\.yaml:1: 'talkative' and 'quiet' have both a tension"):
        load_graph(load_library(), [folder])
    rows = [_row("decoy effect", "warm", "not_same_character"), _row("decoy effect", "warm", "tension")]
    folder = _folder(tmp_path, rows)
    result = CliRunner().invoke(register(), ["patterns", "validate", str(folder)])
    assert result.exit_code == 1 and "make it a clash" in result.output


def test_old_conflicts_files_load_as_clash_with_one_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [_row("confirmation bias", "helpful", "conflicts"), _row("anchoring", "talkative", "conflicts")]
    folder = _folder(tmp_path, rows)
    with caplog.at_level(logging.WARNING, logger="humanllm.patterns._relations"):
        graph = load_graph(load_library(), [folder])
        load_graph(load_library(), [folder])
    assert [e.type for e in graph.edges_between("confirmation bias", "helpful")] == [RelationType.CLASH]
    notes = [r.getMessage() for r in caplog.records if "old type 'conflicts'" in r.getMessage()]
    assert len(notes) == 1 and "2 relation(s)" in notes[0] and "'tension'" in notes[0]
    assert _owner(assign(graph, ["confirmation bias", "helpful"], 2).slots)["helpful"] == 1


def test_validate_warns_about_conflicts_and_strict_fails(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, [_row("confirmation bias", "helpful", "reinforces"), _row("anchoring", "kind", "conflicts")]
    )
    runner = CliRunner()
    lenient = runner.invoke(register(), ["patterns", "validate", str(folder)])
    assert lenient.exit_code == 0, lenient.output
    assert "mine.yaml:5: type 'conflicts' is read as 'clash'" in lenient.output and "1 warning(s)" in lenient.output
    strict = runner.invoke(register(), ["patterns", "validate", str(folder), "--strict"])
    assert strict.exit_code == 1 and "mine.yaml:5" in strict.output


def test_interaction_option_takes_the_new_types_and_refuses_conflicts(graph: InteractionGraph) -> None:
    runner = CliRunner()
    refused = runner.invoke(register(), ["graph", "sample", "--interaction", "conflicts"])
    assert refused.exit_code == 2 and "'tension'" in refused.output and "'clash'" in refused.output
    constraint = runner.invoke(register(), ["graph", "sample", "--interaction", "not_same_character"])
    assert constraint.exit_code == 2 and "constraint" in constraint.output
    for kind in ("tension", "clash"):
        ok = runner.invoke(register(), ["graph", "sample", "--n", "2", "--interaction", kind, "--json"])
        assert ok.exit_code == 0 and f"[{kind}]" in ok.output
    with pytest.raises(ValueError, match="now two types"):
        BundleConstraints(interaction="conflicts")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="constraint"):
        BundleConstraints(interaction=RelationType.EXCLUDES)
    bundles = BundleSampler(graph, seed=2, constraints=BundleConstraints(interaction=RelationType.CLASH)).sample_many(
        10
    )
    assert all(any("[clash]" in edge for edge in b.edges) for b in bundles)
