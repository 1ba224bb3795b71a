"""`generate --ray` on a local Ray against one process, on the same jobs, against the loopback mock server.

Run:  python benchmarks/ray_generate.py [--episodes 96] [--latency 0.2] [--concurrency 16] [--cpus 2] [--turns 4]

Both runs keep the same number of episodes in flight: one process with `--concurrency`, and Ray with
`--cpus` tasks running at once, each with concurrency / cpus. Printed: the wall time and episodes/s
of each, the Ray cluster's start-up time (not in its run time) and whether the two stores hold the
same records. The mock server runs in a child process so its CPU is not counted as ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from humanllm.agents.director import TurnRules
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
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
from humanllm.testing.mock_server import mock_server_process


def _records(store: Path) -> dict[str, str]:
    return {
        json.loads(line)["id"]: line
        for path in store.glob("episodes-*.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=96)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=None, help="Shard tasks (default: generate's, 4 per CPU).")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    graph = load_graph(load_library())
    with mock_server_process(args.latency) as base_url:
        compare(args, graph, base_url, ray)


def compare(args: argparse.Namespace, graph: InteractionGraph, base_url: str, ray: Any) -> None:
    """The same planned jobs in one process, then as Ray tasks, against `base_url`; prints both."""
    base = SimulationConfig(
        models=RoleSpecs(writer="openai:mock", character="openai:mock"),
        rules=TurnRules(min_turns=args.turns, max_turns=args.turns),
        settings=ModelSettings(base_url=base_url, timeout_s=60),
    )
    situations = ["duty", "intellect", "adversity", "mating", "positivity", "negativity", "deception", "sociality"]
    planned = plan_jobs(base, sample_jobs(graph, max(1, args.episodes // len(situations)), situations, 7), graph)
    ms = args.latency * 1000
    print(f"{len(planned)} episodes, {args.turns} turns, {ms:.0f} ms/call, {args.concurrency} in flight")
    with tempfile.TemporaryDirectory() as tmp:
        one, on_ray = Path(tmp) / "one", Path(tmp) / "ray"
        start = time.perf_counter()
        with EpisodeStore.open_for_writing(one) as store:
            options = RunOptions(concurrency=args.concurrency)
            asyncio.run(run_batch(store, planned, graph, RoleModels.build(base), options))
        alone = time.perf_counter() - start
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - start
        per_task = RunOptions(concurrency=max(1, args.concurrency // args.cpus))
        start = time.perf_counter()
        run = run_on_ray(str(on_ray), planned, graph, base, per_task, RayOptions(tasks=args.tasks), manifest={})
        distributed = time.perf_counter() - start
        ray.shutdown()
        same = _records(one) == _records(on_ray)
        n = len(planned)
        print(f"{'run':>22} {'wall s':>8} {'eps/s':>8}")
        print(f"{'one process':>22} {alone:8.1f} {n / alone:8.2f}")
        label = f"ray {args.cpus} CPUs, {len(run.tasks)} tasks"
        print(f"{label:>22} {distributed:8.1f} {n / distributed:8.2f}")
        print(f"ray start-up (not counted above): {startup:.1f} s; same records: {same}")
        report = run.report
        print(f"ray: {report.done} done, {report.failed} failed, stopped: {report.stopped_reason}")


if __name__ == "__main__":
    main()
