"""Bundle recipes: the paper's way of drawing bundles next to our graph sampler (issue 15, item 5)."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.core import Episode, PatternKind, Pole
from humanllm.errors import InvalidBundleError
from humanllm.patterns import (
    Bundle,
    BundleConstraints,
    BundleRecipe,
    InteractionGraph,
    PaperRecipe,
    _paper,
    assign,
    bundle_source,
    load_graph,
    load_library,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


@pytest.fixture(scope="module")
def paper_bundles(graph: InteractionGraph) -> list[Bundle]:
    return bundle_source(BundleRecipe.PAPER, graph, seed=3).sample_many(3000)


def test_the_paper_recipe_gives_the_papers_bundle_mix(graph: InteractionGraph, paper_bundles: list[Bundle]) -> None:
    cards = {c.name: c for c in graph.library}
    traits = [[n for n in b.patterns if cards[n].kind is PatternKind.TRAIT] for b in paper_bundles]
    social = [len(b.patterns) - len(t) for b, t in zip(paper_bundles, traits, strict=True)]
    for held in traits:  # 3-4 markers, each from another Big-Five dimension
        assert len(held) in (3, 4) and len({cards[n].family for n in held}) == len(held)
    assert set(social) == {0, 1}
    assert statistics.mean(len(t) for t in traits) == pytest.approx(3.5, abs=0.05)
    assert statistics.mean(social) == pytest.approx(0.7, abs=0.03)
    assert statistics.mean(len(b.patterns) for b in paper_bundles) == pytest.approx(4.2, abs=0.06)
    positive = [cards[n].pole is Pole.POSITIVE for t in traits for n in t]
    assert statistics.mean(positive) == pytest.approx(0.6, abs=0.02)
    # the graph sampler (the default) stays as it was: mostly social-cognitive patterns
    graph_bundles = bundle_source(BundleRecipe.GRAPH, graph, seed=3).sample_many(500)
    graph_traits = [sum(cards[n].kind is PatternKind.TRAIT for n in b.patterns) for b in graph_bundles]
    assert statistics.mean(graph_traits) < 2


def test_each_pick_is_the_least_used_of_its_pole(graph: InteractionGraph, paper_bundles: list[Bundle]) -> None:
    cards = {c.name: c for c in graph.library}
    used = Counter(n for b in paper_bundles for n in b.patterns)
    by_pole: dict[tuple[object, object], list[int]] = {}
    for card in graph.library:
        by_pole.setdefault((card.family, card.pole), []).append(used[card.name])
    for counts in by_pole.values():  # least-used first keeps every pole (and the social ones) within one use
        assert max(counts) - min(counts) <= 1
    assert sum(1 for n in used if cards[n].kind is PatternKind.SOCIAL_COGNITIVE) == 144


def test_paper_bundles_are_seeded_and_assignable(graph: InteractionGraph, paper_bundles: list[Bundle]) -> None:
    again = bundle_source(BundleRecipe.PAPER, graph, seed=3).sample_many(50)
    assert [b.patterns for b in again] == [b.patterns for b in paper_bundles[:50]]
    other = PaperRecipe(graph, rng=random.Random(4)).sample_many(50)
    assert [b.patterns for b in other] != [b.patterns for b in again]
    # the authors had no exclusions: a bundle may hold an excluded pair, which the assigner spreads
    clashing = [b for b in paper_bundles if graph.violations(b.patterns)]
    assert clashing
    for bundle in clashing:
        for slot in assign(graph, bundle.patterns, 2).slots:
            assert not graph.violations(slot)


def test_an_unassignable_draw_is_drawn_again_and_its_picks_stay_counted(
    graph: InteractionGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[list[str]] = []

    def picky(g: InteractionGraph, names: list[str], characters: int) -> object:
        if not refused:
            refused.append(list(names))
            raise InvalidBundleError("cannot assign")
        return assign(g, names, characters)

    monkeypatch.setattr(_paper, "assign", picky)
    recipe = PaperRecipe(graph, rng=random.Random(0))
    bundle = recipe.sample()
    assert refused and bundle.patterns != refused[0]
    assert sum(recipe.usage.counts.values()) == len(refused[0]) + len(bundle.patterns)
    monkeypatch.setattr(_paper, "assign", lambda *_: (_ for _ in ()).throw(InvalidBundleError("never")))
    with pytest.raises(InvalidBundleError, match="add characters"):
        recipe.sample()


def test_the_paper_recipe_takes_no_constraints(graph: InteractionGraph) -> None:
    with pytest.raises(InvalidBundleError, match="--recipe graph"):
        bundle_source(BundleRecipe.PAPER, graph, constraints=BundleConstraints(min_size=3))
    result = runner.invoke(register(), ["graph", "sample", "--recipe", "paper", "--min-social", "1"])
    assert result.exit_code == 2 and "--recipe" in result.output


def test_graph_sample_cli_takes_the_recipe() -> None:
    result = runner.invoke(register(), ["graph", "sample", "--recipe", "paper", "--n", "20", "--seed", "5", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 20 and all(3 <= len(r["patterns"]) <= 5 for r in rows)
    assert all(sorted(n for slot in r["assignment"] for n in slot) == sorted(r["patterns"]) for r in rows)
    default = json.loads(runner.invoke(register(), ["graph", "sample", "--n", "20", "--seed", "5", "--json"]).output)
    assert [r["patterns"] for r in default] != [r["patterns"] for r in rows]


def test_generate_records_the_recipe_in_specs_and_manifest(tmp_path: Path) -> None:
    common = ["--model", "fake", "--n", "2", "--situations", "duty", "--turns", "2-2", "--seed", "1", "--json"]
    ids = {}
    for recipe in ("graph", "paper"):
        out = tmp_path / recipe
        result = runner.invoke(register(), ["generate", "--out", str(out), *common, "--recipe", recipe])
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["recipe"] == recipe and manifest["config"]["recipe"] == recipe
        episodes = [Episode.model_validate_json(line) for p in out.glob("episodes-*.jsonl") for line in p.open()]
        assert len(episodes) == 2
        # the default recipe is left out of the spec (ids from before recipes stay valid); others are in it
        assert all((e.spec or {}).get("recipe") == (None if recipe == "graph" else recipe) for e in episodes)
        ids[recipe] = {e.id for e in episodes}
    assert not ids["graph"] & ids["paper"]
    bundles = tmp_path / "bundles.json"
    bundles.write_text(json.dumps([["kind", "anxious"]]))
    given = runner.invoke(
        register(), ["generate", "--out", str(tmp_path / "b"), "--bundles", str(bundles), "--recipe", "paper"]
    )
    assert given.exit_code == 2 and "--bundles" in given.output


def test_the_default_recipe_leaves_episode_ids_as_they_were(graph: InteractionGraph) -> None:
    from humanllm.agents.director import TurnRules
    from humanllm.core import spec_id
    from humanllm.simulation import SimulationConfig, plan_episode

    config = SimulationConfig(patterns=["kind", "anxious"], situation="duty", rules=TurnRules(min_turns=2, max_turns=2))
    plain = plan_episode(config, graph)
    stored = plain.spec.model_dump(mode="json")
    assert "recipe" not in stored and spec_id(stored) == plain.id  # a spec stored before recipes: same id
    paper = plan_episode(config.model_copy(update={"recipe": BundleRecipe.PAPER}), graph)
    assert paper.spec.model_dump(mode="json")["recipe"] == "paper" and paper.id != plain.id
    drawn = plan_episode(SimulationConfig(recipe=BundleRecipe.PAPER, seed=2, situation="duty"), graph)
    assert len(drawn.patterns) >= 3 and drawn.spec.recipe == "paper"  # simulate without --patterns draws by recipe
