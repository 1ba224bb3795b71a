"""The parts of `generate --ray` that need no Ray: shard views and their locks, a shard task run twice,
an object-store shard (fsspec's in-memory filesystem), dealing jobs to tasks, summing their reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import fsspec
import pytest

from humanllm.agents.director import TurnRules
from humanllm.core import TokenUsage
from humanllm.errors import ConfigError, DataError
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    EndpointReport,
    EpisodeStore,
    ProgressTally,
    RoleSpecs,
    RunOptions,
    RunReport,
    ShardTask,
    SimulationConfig,
    TaskResult,
    default_tasks,
    import_ray,
    merge_endpoints,
    merge_reports,
    plan_jobs,
    remote_done_ids,
    run_shard,
    sample_jobs,
    shard_tasks,
    store_location,
    update_remote_manifest,
)
from humanllm.testing import MockOpenAIServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _base() -> SimulationConfig:
    return SimulationConfig(
        models=RoleSpecs(writer="fake", character="fake"), rules=TurnRules(min_turns=2, max_turns=2)
    )


def _planned(graph: InteractionGraph, n: int = 2):  # type: ignore[no-untyped-def]
    return plan_jobs(_base(), sample_jobs(graph, n, ["duty", "intellect"], 3), graph)


def _lines(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def test_store_locations_keep_urls_and_paths_apart() -> None:
    assert store_location("s3://bucket/run").local is None
    assert store_location(Path("s3://bucket/run")).url == "s3://bucket/run"  # what pathlib makes of a URL
    assert store_location("gs://b/k/").url == "gs://b/k/"
    assert store_location("file:///data/store").local == Path("/data/store")
    assert store_location(Path("file:///data/store")).local == Path("/data/store")
    assert store_location("runs/a").local == Path("runs/a")


_OPEN_SHARD = """
import sys
from humanllm.errors import StoreLockedError
from humanllm.simulation import EpisodeStore
try:
    EpisodeStore.open_shard(sys.argv[1], sys.argv[2]).close()
    print("opened")
except StoreLockedError as exc:
    print("locked:", exc)
"""


def _open_shard_elsewhere(store: Path, shard: str) -> str:
    """Open a shard for writing in another process (the lock is re-entrant within one)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _OPEN_SHARD, str(store), shard], env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def test_a_shard_view_mends_only_its_shard_under_its_own_lock(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with EpisodeStore.open_for_writing(store, shard="driver") as driver:  # the run holds the folder
        (store / "episodes-ray-001of002.jsonl").write_bytes(b'{"id": "b"}\n{"id": "torn')  # another task, mid-write
        (store / "episodes-ray-000of002.jsonl").write_bytes(b'{"id": "a"}\n{"id": "to')  # a task that died
        with EpisodeStore.open_shard(driver.root, "ray-000of002") as shard:
            assert shard.done == frozenset({"a"})  # its own ids only
            assert (store / "episodes-ray-000of002.jsonl.torn").read_bytes() == b'{"id": "to\n'
            assert (store / "episodes-ray-001of002.jsonl").read_bytes().endswith(b'"torn')  # untouched
            assert _open_shard_elsewhere(store, "ray-000of002").startswith("locked:")  # a second writer of it
            assert _open_shard_elsewhere(store, "ray-001of002") == "opened"  # another shard: its own lock
            with pytest.raises(DataError, match="never writes the manifest"):
                shard.write_manifest({})
        with EpisodeStore.open_shard(store, "ray-000of002"):
            pass  # released


def test_a_shard_task_run_again_after_a_torn_write_stores_each_episode_once(
    graph: InteractionGraph, tmp_path: Path
) -> None:
    planned = _planned(graph)
    store = tmp_path / "store"
    task = ShardTask(shard="ray-000of001", store=str(store), base=_base(), planned=planned, options=RunOptions())
    tally = ProgressTally()
    first = run_shard(task, graph, tally)
    assert first.done == len(planned) == tally.snapshot().done and tally.snapshot().starts == {"ray-000of001": 1}
    shard = store / "episodes-ray-000of001.jsonl"
    with shard.open("ab") as handle:  # a worker that died mid-write
        handle.write(b'{"id": "' + planned[0][1].id.encode() + b'", "scen')
    again = run_shard(task, graph, tally)  # what Ray does after a worker died
    assert (again.done, again.already_done) == (0, len(planned))
    assert sorted(_lines(shard)) == sorted(p.id for _, p in planned)  # no torn line, no duplicate
    assert (store / "episodes-ray-000of001.jsonl.torn").exists()
    assert tally.snapshot().done == len(planned) and tally.snapshot().starts == {"ray-000of001": 2}


def test_two_tasks_in_one_worker_share_the_http_client(graph: InteractionGraph, tmp_path: Path) -> None:
    """Ray runs many tasks in one worker process: the second must not reuse connections of a closed loop."""
    with MockOpenAIServer() as server:
        base = _base().model_copy(
            update={
                "models": RoleSpecs(writer="openai:mock", character="openai:mock"),
                "settings": ModelSettings(base_url=server.base_url, timeout_s=10),
            }
        )
        planned = plan_jobs(base, sample_jobs(graph, 2, ["duty", "intellect"], 1), graph)
        options = RunOptions(concurrency=4, episode_retries=0)
        reports = [
            run_shard(
                ShardTask(shard=f"ray-00{k}of002", store=str(tmp_path), base=base, planned=part, options=options), graph
            )
            for k, part in enumerate([planned[0::2], planned[1::2]])
        ]
    assert [(r.done, r.failed, r.stopped_reason) for r in reports] == [(2, 0, None), (2, 0, None)]


def test_an_object_store_shard_is_uploaded_whole_and_resumed(graph: InteractionGraph) -> None:
    url = f"memory://humanllm-{uuid.uuid4().hex}/store"
    planned = _planned(graph)
    task = ShardTask(shard="ray-000of001", store=url, base=_base(), planned=planned, options=RunOptions())
    assert run_shard(task, graph).done == len(planned)
    assert remote_done_ids(store_location(url)) == {p.id for _, p in planned}
    again = run_shard(task, graph)  # downloads the shard first: nothing is redone
    assert (again.done, again.already_done) == (0, len(planned))
    with fsspec.open(f"{url}/episodes-ray-000of001.jsonl", "rb") as handle:
        assert len(handle.read().splitlines()) == len(planned)
    update_remote_manifest(store_location(url), {"a": 1})
    update_remote_manifest(store_location(url), {"b": 2})
    with fsspec.open(f"{url}/manifest.json", "rb") as handle:
        assert json.loads(handle.read()) == {"a": 1, "b": 2}


def test_jobs_are_dealt_to_tasks_without_keys_and_limits_are_split(graph: InteractionGraph) -> None:
    from pydantic import SecretStr

    base = _base().model_copy(
        update={"settings": ModelSettings(api_key=SecretStr("sk-secret"), requests_per_minute=60)}
    )
    todo = _planned(graph, 5)
    options = RunOptions(budget_tokens=1000, tokens_per_minute=900)
    tasks = shard_tasks("out", base, todo, options, tasks=4, slots=3, seed=0, setup=None)
    assert [t.shard for t in tasks] == ["ray-000of004", "ray-001of004", "ray-002of004", "ray-003of004"]
    dealt = sorted(p.id for t in tasks for _, p in t.planned)
    assert dealt == sorted(p.id for _, p in todo)  # every job once
    for task in tasks:
        assert task.base.settings.api_key is None
        assert all(config.settings.api_key is None for config, _ in task.planned)
        assert task.options.budget_tokens == 250 and task.options.tokens_per_minute == 300
        assert task.base.settings.requests_per_minute == 20
    assert len(shard_tasks("out", base, todo[:2], options, tasks=8, slots=2, seed=0, setup=None)) == 2


def test_the_default_task_count_keeps_every_cpu_busy_and_tasks_long() -> None:
    assert default_tasks(96, 2, 8) == 3  # 4 rounds of 8 each
    assert default_tasks(10, 2, 8) == 2  # one per CPU at least
    assert default_tasks(100_000, 2, 8) == 8  # four per CPU at most
    assert default_tasks(100_000, 64, 16) == 256
    assert default_tasks(1, 8, 8) == 1  # never more than the jobs


def test_lost_tasks_leave_their_episodes_unfinished_with_a_reason() -> None:
    part = RunReport(requested=3, already_done=1, done=2, usage=TokenUsage(calls=2, prompt_tokens=5))
    results = [
        TaskResult(shard="ray-000of002", jobs=3, report=part, starts=2),
        TaskResult(shard="ray-001of002", jobs=4, error="WorkerCrashedError: gone"),
    ]
    run = merge_reports(results, requested=9, already_done=2, elapsed_s=1.0)
    assert (run.report.done, run.report.already_done) == (3, 2)  # found in its shard = done by its first attempt
    assert run.report.usage.prompt_tokens == 5
    assert (
        run.report.stopped_reason
        and "1 Ray task(s)" in run.report.stopped_reason
        and "4 episodes" in (run.report.stopped_reason)
    )
    entries = run.manifest_entries(address="local", cluster_cpus=2)["ray"]
    assert entries["retried_tasks"] == 1 and entries["shards"][1]["error"] == "WorkerCrashedError: gone"


def test_replica_figures_are_summed_over_the_tasks() -> None:
    one = EndpointReport(calls=10, errors=1, prompt_tokens=100, episodes=2, latency_mean_s=0.2, latency_p95_s=0.3)
    two = EndpointReport(calls=30, prompt_tokens=300, episodes=5, latency_mean_s=0.4, latency_p95_s=0.5, healthy=False)
    merged = merge_endpoints([{"a": one}, {"a": two, "b": one}])
    assert (merged["a"].calls, merged["a"].errors, merged["a"].prompt_tokens, merged["a"].episodes) == (40, 1, 400, 7)
    assert merged["a"].latency_mean_s == 0.35 and merged["a"].latency_p95_s == 0.5 and not merged["a"].healthy
    assert merged["b"] == one


def test_without_ray_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 'humanllm\[ray\]'"):
        import_ray()
