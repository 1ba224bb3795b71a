"""`generate --dry-run`: calls, tokens and cost before the run, checked against real runs of the fakes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from humanllm.agents.director import TurnRules
from humanllm.cli._dry_run import standin_models
from humanllm.errors import ConfigError
from humanllm.llm import ModelSettings, load_prices
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    EpisodeStore,
    RoleModels,
    RoleSpecs,
    RunOptions,
    SimulationConfig,
    estimate_run,
    plan_jobs,
    run_batch,
    sample_jobs,
)

TOLERANCE = 0.15
"""Tokens: the estimate plays a sample of the episodes and scales it; prompts differ by bundle (the cards)."""


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _planned(graph: InteractionGraph, model: str, turns: tuple[int, int], n: int = 12, **config: object):  # type: ignore[no-untyped-def]
    base = SimulationConfig(
        models=RoleSpecs(writer=model, character=model),
        rules=TurnRules(min_turns=turns[0], max_turns=turns[1]),
        settings=ModelSettings(max_tokens=512),
        **config,  # type: ignore[arg-type]
    )
    return plan_jobs(base, sample_jobs(graph, n, ["duty"], 0), graph)


def _generate(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "humanllm", "generate", "--out", str(out), "--n", "6", "--situations", "duty"]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, check=False, env=env)


@pytest.mark.parametrize("variation", [False, True])
def test_the_estimated_calls_equal_a_fake_runs_calls(graph: InteractionGraph, tmp_path: Path, variation: bool) -> None:
    planned = _planned(graph, "fake", (3, 3), variation=variation)
    estimate = asyncio.run(estimate_run(planned, graph, standin_models, load_prices(), sample=4))
    real = asyncio.run(
        run_batch(EpisodeStore(tmp_path / "s"), planned, graph, RoleModels.build(planned[0][0]), RunOptions())
    )
    assert real.done == len(planned) == 12
    low, high, point = estimate.total("calls")
    assert low == high == point == real.usage.calls  # fixed turn bounds: exact
    writer = estimate.roles["writer"].calls[2]
    assert writer == 2 * 12 if not variation else writer > 2 * 12  # draft and checklists (then the variation)


def test_estimated_tokens_are_within_tolerance_of_a_real_run(graph: InteractionGraph, tmp_path: Path) -> None:
    """The same stand-in models, a sample of 4 scaled to 12 versus all 12 played for real."""
    planned = _planned(graph, "fake", (4, 4))
    estimate = asyncio.run(estimate_run(planned, graph, standin_models, load_prices(), sample=4))
    real = asyncio.run(
        run_batch(EpisodeStore(tmp_path / "s"), planned, graph, standin_models(planned[0][0]), RunOptions())
    )
    prompt, completion = estimate.total("prompt_tokens")[2], estimate.total("completion_tokens")[2]
    assert prompt == pytest.approx(real.usage.prompt_tokens, rel=TOLERANCE)
    assert completion == pytest.approx(real.usage.completion_tokens, rel=TOLERANCE)
    assert (
        estimate.total("completion_tokens")[2]
        < estimate.roles["writer"].completion_upper + estimate.roles["character"].completion_upper
    )


def test_the_fake_models_own_usage_is_matched_by_the_estimate_with_them(
    graph: InteractionGraph, tmp_path: Path
) -> None:
    """With the scripted fake as the stand-in, the estimate measures what a fake run reports."""
    planned = _planned(graph, "fake", (3, 3))
    estimate = asyncio.run(estimate_run(planned, graph, RoleModels.build, load_prices(), sample=6))
    real = asyncio.run(
        run_batch(EpisodeStore(tmp_path / "s"), planned, graph, RoleModels.build(planned[0][0]), RunOptions())
    )
    assert estimate.total("prompt_tokens")[2] == pytest.approx(real.usage.prompt_tokens, rel=TOLERANCE)
    assert estimate.total("completion_tokens")[2] == pytest.approx(real.usage.completion_tokens, rel=TOLERANCE)


def test_prefix_growth_makes_prompts_grow_faster_than_turns(graph: InteractionGraph) -> None:
    planned = _planned(graph, "fake", (4, 12), n=4)
    estimate = asyncio.run(estimate_run(planned, graph, standin_models, load_prices(), sample=2))
    character = estimate.roles["character"]
    low, high, point = character.prompt_tokens
    assert character.calls[:2] == (4 * 4, 12 * 4)  # one call per turn
    assert high / low > 12 / 4  # each call re-sends the conversation so far
    assert point == (low + high) / 2 and estimate.point == "midpoint of the turn bounds"
    calls = estimate.total("calls")
    assert calls[0] < calls[2] < calls[1]


def test_a_real_run_falls_in_the_estimated_range(graph: InteractionGraph, tmp_path: Path) -> None:
    planned = _planned(graph, "fake", (2, 5))
    estimate = asyncio.run(estimate_run(planned, graph, standin_models, load_prices(), sample=3))
    real = asyncio.run(
        run_batch(EpisodeStore(tmp_path / "s"), planned, graph, RoleModels.build(planned[0][0]), RunOptions())
    )
    low, high, _ = estimate.total("calls")
    assert low <= real.usage.calls <= high


def test_prices(tmp_path: Path) -> None:
    table = load_prices()
    assert table.written and table.price_of("openai:gpt-4o-mini") is not None
    assert table.cost("fake", 1e6, 1e6) == 0 and table.cost("local", 1e6, 1e6) == 0
    assert table.cost("openai:my-own-server-model", 10, 10) is None
    own = tmp_path / "prices.yaml"
    own.write_text("prices:\n  openai:my-own-server-model: {input: 1.0, output: 2.0}\n")
    assert load_prices(own).cost("openai:my-own-server-model", 1e6, 1e6) == pytest.approx(3.0)
    own.write_text("prices:\n  openai:x: {input: 1.0, output: 2.0, outptu: 2.0}\n")
    with pytest.raises(ConfigError, match="outptu"):
        load_prices(own)


def test_dry_run_on_the_command_line_calls_nothing_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "store"
    # an OpenAI model with no key and no server: a real run would fail; the dry run needs neither
    proc = _generate(out, "--model", "openai:gpt-4o-mini", "--turns", "4-4", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert not out.exists()
    data = json.loads(proc.stdout)
    assert data["jobs"] == 6 and data["roles"]["character"]["calls"] == [24.0, 24.0, 24.0]  # 6 x 4 turns
    assert data["cost_usd"] > 0 and data["cost_upper_usd"] >= data["cost_usd"]
    text = _generate(out, "--model", "openai:unknown-model", "--turns", "2-6", "--dry-run").stdout
    assert "unknown (add it to --prices)" in text and "midpoint of 2-6 turns" in text
    assert not out.exists()


def test_dry_run_counts_only_what_is_left_and_matches_the_real_count(tmp_path: Path) -> None:
    out = tmp_path / "store"
    before = json.loads(_generate(out, "--model", "fake", "--turns", "3-3", "--dry-run", "--json").stdout)
    real = _generate(out, "--model", "fake", "--turns", "3-3", "--json")
    assert real.returncode == 0, real.stderr
    assert (
        sum(before["roles"][role]["calls"][2] for role in ("writer", "character"))
        == json.loads(real.stdout)["usage"]["calls"]
    )
    after = json.loads(_generate(out, "--model", "fake", "--turns", "3-3", "--dry-run", "--json").stdout)
    assert after["already_done"] == 6 and after["jobs"] == 0


def test_prices_needs_dry_run(tmp_path: Path) -> None:
    proc = _generate(tmp_path / "s", "--model", "fake", "--prices", "p.yaml")
    assert proc.returncode == 2 and "--dry-run" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_an_empty_plan_is_refused(graph: InteractionGraph) -> None:
    with pytest.raises(ValueError, match="nothing planned"):
        asyncio.run(estimate_run([], graph, standin_models, load_prices()))
