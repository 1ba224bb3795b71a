"""`generate --ray` on a small local Ray cluster (2 CPUs, no dashboard, no usage stats, loopback only).

The store it writes equals the one-process run's on the same jobs against the loopback mock server;
a worker killed mid-shard is run again by Ray and the store is still complete, with no duplicate;
and the console script runs `generate --ray local` end to end. Skipped where Ray is not installed
(it is in the dev extra).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from humanllm.agents.director import TurnRules
from humanllm.errors import PermanentEndpointError
from humanllm.evaluation import verify_store
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    Endpoint,
    EpisodeStore,
    RayOptions,
    RoleModels,
    RoleSpecs,
    RunOptions,
    SimulationConfig,
    plan_jobs,
    run_batch,
    run_on_ray,
    sample_jobs,
)
from humanllm.testing import MockOpenAIServer, register_fakes, role_reply

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a Ray cluster takes ~10 s to start here

ROOT = Path(__file__).resolve().parents[1]
SITUATIONS = ["duty", "intellect"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """One local Ray for the file: 2 CPUs, bound to loopback, its files (and Ray's token) in a temp folder."""
    home = tempfile.mkdtemp(prefix="hl-ray-")  # short: Ray's socket paths live under it
    saved = {key: os.environ.get(key) for key in ("HOME", "RAY_USAGE_STATS_ENABLED", "PYTHONPATH")}
    os.environ.update(
        HOME=home,
        RAY_USAGE_STATS_ENABLED="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]])),
    )
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import this file
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=os.path.join(home, "r"),
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _records(store: Path) -> dict[str, dict[str, Any]]:
    """Every record by id, asserting each id is stored once."""
    rows = [
        json.loads(line) for path in sorted(store.glob("episodes-*.jsonl")) for line in path.read_text().splitlines()
    ]
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(rows), "an episode is stored twice"
    return by_id


def test_the_ray_store_equals_the_one_process_store(cluster: Any, graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer() as server:
        base = SimulationConfig(
            models=RoleSpecs(writer="openai:mock", character="openai:mock"),
            rules=TurnRules(min_turns=2, max_turns=3),
            settings=ModelSettings(base_url=server.base_url, timeout_s=10),
        )
        planned = plan_jobs(base, sample_jobs(graph, 4, SITUATIONS, 11), graph)
        options = RunOptions(concurrency=4)
        with EpisodeStore.open_for_writing(tmp_path / "one", shard="main") as store:
            alone = asyncio.run(run_batch(store, planned, graph, RoleModels.build(base), options))
        seen: list[int] = []
        run = run_on_ray(
            str(tmp_path / "ray"),
            planned,
            graph,
            base,
            options,
            RayOptions(tasks=4),
            manifest={"requested": len(planned)},
            on_progress=lambda snapshot, _already: seen.append(snapshot.done),
        )
    assert alone.done == run.report.done == len(planned) == 8 and run.report.failed == 0
    assert seen and seen[-1] == len(planned)  # progress came from the tasks
    one, on_ray = _records(tmp_path / "one"), _records(tmp_path / "ray")
    assert sorted(on_ray) == sorted(p.id for _, p in planned)
    assert on_ray == one  # the same records, usage included (the mock counts words)
    assert len(list((tmp_path / "ray").glob("episodes-ray-*of004.jsonl"))) == 4  # one shard per task
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["requested"] == 8 and manifest["last_run"]["done"] == 8
    assert manifest["ray"]["tasks"] == 4 and sum(s["done"] for s in manifest["ray"]["shards"]) == 8
    assert manifest["last_run"]["usage"] == alone.usage.model_dump()
    assert verify_store(tmp_path / "ray").ok


def test_two_replicas_share_the_episodes_and_their_figures_are_summed(
    cluster: Any, graph: InteractionGraph, tmp_path: Path
) -> None:
    with MockOpenAIServer() as first, MockOpenAIServer() as second:
        endpoints = [Endpoint(url=first.base_url), Endpoint(url=second.base_url)]
        base = SimulationConfig(
            models=RoleSpecs(writer="openai:mock", character="openai:mock"),
            rules=TurnRules(min_turns=2, max_turns=2),
            settings=ModelSettings(base_url=first.base_url, timeout_s=10),
        )
        planned = plan_jobs(base, sample_jobs(graph, 4, SITUATIONS, 2), graph)
        run = run_on_ray(
            str(tmp_path / "store"),
            planned,
            graph,
            base,
            RunOptions(),
            RayOptions(tasks=2),
            manifest={},
            endpoints=endpoints,
        )
        served = [first.counts["requests"], second.counts["requests"]]
    figures = run.report.endpoints
    assert run.report.done == 8 and len(figures) == 2
    assert sum(f.episodes for f in figures.values()) == 8 and all(served)  # both replicas got episodes
    assert sorted(f.calls for f in figures.values()) == sorted(served)  # summed over the tasks


def test_a_permanent_endpoint_error_stops_the_run_and_is_raised(
    cluster: Any, graph: InteractionGraph, tmp_path: Path
) -> None:
    with MockOpenAIServer(status=401) as server:
        base = SimulationConfig(
            models=RoleSpecs(writer="openai:mock", character="openai:mock"),
            rules=TurnRules(min_turns=2, max_turns=2),
            settings=ModelSettings(base_url=server.base_url, timeout_s=10),
        )
        planned = plan_jobs(base, sample_jobs(graph, 2, SITUATIONS, 1), graph)
        with pytest.raises(PermanentEndpointError, match="401"):
            run_on_ray(str(tmp_path / "store"), planned, graph, base, RunOptions(), RayOptions(tasks=2), manifest={})
    assert not EpisodeStore.open_for_reading(tmp_path / "store").done
    assert "last_run" not in json.loads((tmp_path / "store" / "manifest.json").read_text())


def _dies_once(marker: str, after_calls: int, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The fakes' reply, except that the first worker to reach its `after_calls`-th call dies (once per test)."""
    calls = _dies_once.__dict__.setdefault("calls", {})
    calls[marker] = calls.get(marker, 0) + 1
    if calls[marker] >= after_calls and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)  # a worker dying mid-shard: no exception, no cleanup
    return role_reply(messages, kwargs)


def _register_dying_fakes(marker: str, after_calls: int) -> None:
    register_fakes(functools.partial(_dies_once, marker, after_calls))


def test_a_killed_worker_is_retried_and_the_store_is_complete(
    cluster: Any, graph: InteractionGraph, tmp_path: Path
) -> None:
    base = SimulationConfig(
        models=RoleSpecs(writer="fake", character="fake"), rules=TurnRules(min_turns=2, max_turns=2)
    )
    planned = plan_jobs(base, sample_jobs(graph, 4, SITUATIONS, 5), graph)
    marker = tmp_path / "died"
    seen: list[int] = []
    run = run_on_ray(
        str(tmp_path / "store"),
        planned,
        graph,
        base,
        RunOptions(concurrency=1),  # one episode at a time: some are stored before the death
        RayOptions(tasks=2),
        manifest={},
        setup=functools.partial(_register_dying_fakes, str(marker), 9),  # 4 calls per episode: 2 done, then death
        on_progress=lambda snapshot, _already: seen.append(snapshot.done),
    )
    assert marker.exists(), "no worker died: the test did not test a retry"
    assert run.report.done == len(planned) == 8 and not run.failed_tasks
    assert sorted(t.starts for t in run.tasks) == [1, 2]  # Ray ran the killed task again
    assert seen[-1] == 8  # the progress counts what the dead attempt stored, once
    records = _records(tmp_path / "store")
    assert sorted(records) == sorted(p.id for _, p in planned)
    retried = next(t for t in run.tasks if t.starts == 2)
    assert retried.report is not None and retried.report.already_done >= 2  # the retry skipped what was stored
    status = EpisodeStore.open_for_reading(tmp_path / "store")
    assert status.duplicates == 0 and len(status.done) == 8
    assert verify_store(tmp_path / "store").ok


def test_an_object_store_url_gets_whole_shards_and_the_manifest(
    cluster: Any, graph: InteractionGraph, tmp_path: Path
) -> None:
    """`local://` is fsspec's local filesystem under a URL: the object-store path (staged shards uploaded
    whole, no locks), with the bytes on a disk every worker of this machine sees (`memory://` is per process)."""
    folder = tmp_path / "bucket" / "run"
    folder.mkdir(parents=True)  # an object store has no folders; the local filesystem wants one
    base = SimulationConfig(
        models=RoleSpecs(writer="fake", character="fake"), rules=TurnRules(min_turns=2, max_turns=2)
    )
    planned = plan_jobs(base, sample_jobs(graph, 2, SITUATIONS, 9), graph)
    url = f"local://{folder}"
    setup = register_fakes
    run = run_on_ray(url, planned, graph, base, RunOptions(), RayOptions(tasks=2), manifest={"x": 1}, setup=setup)
    assert run.report.done == len(planned) == 4
    assert sorted(p.name for p in folder.iterdir()) == [
        "episodes-ray-000of002.jsonl",
        "episodes-ray-001of002.jsonl",
        "manifest.json",
    ]  # no lock files, no card: the URL is written as an object store
    assert sorted(_records(folder)) == sorted(p.id for _, p in planned)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["x"] == 1 and manifest["ray"]["tasks"] == 2 and manifest["last_run"]["done"] == 4
    again = run_on_ray(url, planned, graph, base, RunOptions(), RayOptions(tasks=2), manifest={}, setup=setup)
    assert (again.report.done, again.report.already_done, again.tasks) == (0, 4, [])  # read back from the URL
    assert verify_store(folder).ok


def test_generate_ray_from_the_shell(tmp_path: Path) -> None:
    """The console script starts its own local Ray (2 CPUs), then `data verify` and `data status` read the store."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUMANLLM_", "RAY_ADDRESS"))},
        "HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
    }

    def humanllm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "humanllm", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    args = ["generate", "--out", "store", "--n", "2", "--situations", "duty,intellect", "--turns", "2-2"]
    done = humanllm(*args, "--model", "fake", "--ray", "local", "--ray-cpus", "2", "--ray-tasks", "2", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout[done.stdout.index("{") :])
    assert report["done"] == 4 and [t["shard"] for t in report["ray_tasks"]] == ["ray-000of002", "ray-001of002"]
    verified = humanllm("data", "verify", "store")
    assert verified.returncode == 0 and "4 ids verified" in verified.stdout, verified.stdout + verified.stderr
    status = json.loads(humanllm("data", "status", "store", "--json").stdout)
    assert status["done"] == 4 and status["remaining"] == 0 and status["duplicates"] == 0
    assert {e.id for e in EpisodeStore.open_for_reading(tmp_path / "store").iter_episodes()} == set(
        json.loads((tmp_path / "store" / "manifest.json").read_text())["requested_ids"]
    )
