"""Batch-generation throughput against the local mock OpenAI server with a fixed per-call latency.

Run:  python benchmarks/throughput.py [--latency 0.2] [--concurrency 1 16 64 256] [--turns 4]

For each concurrency: episodes/s, the ideal (concurrency / (calls per episode x latency)) and the
ratio, framework CPU time per model call, and peak memory (RSS), after `--warmup` episodes that are
not counted (the first calls pay for lazy imports and the first schemas). The mock server is the shell
command users run, `python -m humanllm.testing.mock_server --port 0 --latency-ms MS`, started as a
child process (so its CPU is not counted as ours) and stopped with SIGTERM at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from humanllm.agents.director import TurnRules
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    EpisodeStore,
    RoleModels,
    RoleSpecs,
    RunOptions,
    RunReport,
    SimulationConfig,
    plan_jobs,
    run_batch,
    sample_jobs,
)
from humanllm.testing.mock_server import mock_server_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--episodes-per-slot", type=int, default=3, help="Episodes = this x concurrency (min 8).")
    parser.add_argument("--faults", default=None, help="The server's --faults, e.g. 429:0.01 (default none).")
    parser.add_argument(
        "--warmup", type=int, default=8, help="Episodes run first and not counted (lazy imports, first schemas)."
    )
    args = parser.parse_args()
    graph = load_graph(load_library())
    print(
        f"server: python -m humanllm.testing.mock_server --port 0 --latency-ms {args.latency * 1000:g}"
        + (f" --faults {args.faults}" if args.faults else "")
    )
    with mock_server_process(args.latency, args.faults) as base_url:
        # one event loop for every level (each loop gets its own HTTP client now: an asyncio.run per level
        # works too, see humanllm/llm/_loop_client.py)
        asyncio.run(_measure(args, graph, base_url))


async def _measure(args: argparse.Namespace, graph: InteractionGraph, base_url: str) -> None:
    calls_per_episode = 2 + args.turns  # scenario draft + checklist + one call per turn
    print(f"latency {args.latency * 1000:.0f} ms/call, {args.turns} turns -> {calls_per_episode} calls per episode")
    config = SimulationConfig(
        models=RoleSpecs(writer="openai:mock", character="openai:mock"),
        rules=TurnRules(min_turns=args.turns, max_turns=args.turns),
        settings=ModelSettings(base_url=base_url, timeout_s=60, max_retries=2),
    )
    if args.warmup:
        print(f"warm-up: {args.warmup} episodes first, not counted (lazy imports, the first schemas)")
        await _batch(config, graph, args.warmup, concurrency=args.warmup, seed=10_000)()
    print(f"{'conc':>5} {'episodes':>8} {'eps/s':>8} {'ideal':>8} {'ratio':>6} {'cpu ms/call':>11} {'peak RSS MB':>11}")
    for concurrency in args.concurrency:
        n = max(8, args.episodes_per_slot * concurrency)
        batch = _batch(config, graph, n, concurrency=concurrency, seed=concurrency)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = await batch()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        rate = report.done / wall
        ideal = concurrency / (calls_per_episode * args.latency)
        cpu_per_call = cpu / max(1, report.usage.calls) * 1000
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{concurrency:>5} {report.done:>8} {rate:>8.2f} {ideal:>8.2f} {rate / ideal:>6.2f} "
            f"{cpu_per_call:>11.2f} {peak:>11.0f}"
        )


def _batch(
    config: SimulationConfig, graph: InteractionGraph, n: int, *, concurrency: int, seed: int
) -> Callable[[], Awaitable[RunReport]]:
    """`n` episodes into a fresh store, `concurrency` at a time: jobs and models set up now, run when awaited."""
    planned = plan_jobs(config, sample_jobs(graph, n, ["duty"], seed), graph)
    store = EpisodeStore(Path(tempfile.mkdtemp()))
    models = RoleModels.build(config)
    return lambda: run_batch(store, planned, graph, models, RunOptions(concurrency=concurrency))


if __name__ == "__main__":
    main()
