"""Situations that fit: `--situations triggered`, untriggered jobs counted, the writer told what a DIAMONDS type is."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from humanllm.agents import render
from humanllm.agents.scenario_writer import situation_description
from humanllm.cli._app import register
from humanllm.core import SituationType
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import parse_situations, sample_jobs, triggered_situations, untriggered


def test_triggered_gives_each_bundle_only_its_own_trigger_situations() -> None:
    graph = load_graph(load_library())
    jobs = sample_jobs(graph, 12, parse_situations("triggered"), seed=3)
    assert jobs
    by_bundle: dict[tuple[str, ...], set[str]] = {}
    for job in jobs:
        by_bundle.setdefault(tuple(job.patterns), set()).add(job.situation)
    for patterns, situations in by_bundle.items():
        named = {s.value for p in patterns for s in graph.library.get(p).triggers.situations}
        assert situations == named, patterns
        assert not any(untriggered(graph.library, patterns, s) for s in situations)
    everything = sample_jobs(graph, 12, parse_situations("all"), seed=3)
    assert len(everything) == 8 * 12 > len(jobs)
    assert any(untriggered(graph.library, j.patterns, j.situation) for j in everything)


def test_untriggered_ignores_free_text_and_cards_without_triggers() -> None:
    library = load_library()
    card = library.get("cold")  # triggers: sociality, positivity, duty
    assert untriggered(library, ["cold"], "mating")
    assert not untriggered(library, ["cold"], "duty")
    assert not untriggered(library, ["cold"], "a wedding on a rainy day")
    assert triggered_situations(library, ["cold"]) == [s.value for s in SituationType if s in card.triggers.situations]


def test_generate_counts_untriggered_jobs_in_the_manifest(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "store"
    args = ["generate", "--out", str(out), "--n", "2", "--seed", "1", "--model", "fake", "--turns", "4-5"]
    result = runner.invoke(register(), [*args, "--situations", "all"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    graph = load_graph(load_library())
    expected = sum(
        untriggered(graph.library, j.patterns, j.situation) for j in sample_jobs(graph, 2, parse_situations("all"), 1)
    )
    assert manifest["untriggered_jobs"] == expected > 0
    status = runner.invoke(register(), ["data", "status", str(out), "--json"])
    assert json.loads(status.output)["untriggered_jobs"] == expected
    fitted = tmp_path / "fitted"
    result = runner.invoke(register(), ["generate", "--out", str(fitted), *args[3:], "--situations", "triggered"])
    assert result.exit_code == 0, result.output
    assert json.loads((fitted / "manifest.json").read_text())["untriggered_jobs"] == 0


def test_the_writer_is_told_what_the_situation_type_means() -> None:
    assert situation_description("Deception") == SituationType.DECEPTION.description
    assert situation_description("a wedding") == ""
    library = load_library()
    prompt = render(
        "scenario_draft",
        cards=[library.get("cold")],
        situation="deception",
        situation_description=situation_description("deception"),
        cast=[],
        limits={"analysis": 10, "background": 10, "about_self": 10, "about_others": 10},
    )
    assert f"Situation: deception ({SituationType.DECEPTION.description})" in prompt
