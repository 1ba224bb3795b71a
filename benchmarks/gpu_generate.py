"""Batch generation on a GPU: the bundled model through in-process vLLM, optionally a vLLM server too.

Run (a CUDA machine with the gpu extra: pip install -e '.[gpu]'):

    python benchmarks/gpu_generate.py [--episodes 64] [--concurrency 8 32] [--turns 4] [--json OUT]
        [--vllm-args '{"gpu_memory_utilization": 0.4}'] [--base-url http://HOST:8000/v1 [--served-model NAME]]

The bundled SmolLM2-135M is converted once to a transformers folder (humanllm.training's
`bundled_hf_model`); every role (writer and characters) runs as `vllm:<that folder>` on one shared
engine. For each concurrency it runs `--episodes` episodes and prints episodes per hour, prompt and
completion tokens per second, and the prefix-cache hit rate over that run (vLLM's
`vllm:prefix_cache_queries` / `vllm:prefix_cache_hits` counters: in this process for the in-process
engine, from the server's /metrics for `--base-url`). Engine start-up (load, compile, CUDA graphs) is
timed apart. Without CUDA or vLLM it exits 2 with one line saying what it needs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_VLLM_ARGS = {"dtype": "bfloat16", "gpu_memory_utilization": 0.4}


def missing_requirements() -> str | None:
    """What this machine lacks for the benchmark, or None."""
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed (pip install -e '.[gpu]')"
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU is visible"
    return None


def server_prefix_cache(base_url: str) -> dict[str, float] | None:
    """Prefix-cache counters from a vLLM server's Prometheus /metrics (next to its /v1)."""
    root = re.sub(r"/v1/?$", "", base_url.rstrip("/"))
    try:
        with urllib.request.urlopen(f"{root}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    totals = {"queries": 0.0, "hits": 0.0}
    for line in text.splitlines():
        match = re.match(r"vllm:prefix_cache_(queries|hits)_total(?:\{[^}]*\})?\s+([0-9.eE+-]+)", line)
        if match:
            totals[match.group(1)] += float(match.group(2))
    return totals


def delta(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, float] | None:
    if before is None or after is None:
        return None
    queries, hits = after["queries"] - before["queries"], after["hits"] - before["hits"]
    return {"queries": queries, "hits": hits, "hit_rate": hits / queries if queries else 0.0}


def run_one(label: str, spec: str, base_url: str | None, args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    from humanllm.agents.director import TurnRules
    from humanllm.llm import ModelSettings, vllm_prefix_cache_stats
    from humanllm.patterns import load_graph, load_library
    from humanllm.simulation import (
        EpisodeStore,
        RoleModels,
        RoleSpecs,
        RunOptions,
        SimulationConfig,
        plan_jobs,
        run_batch,
        sample_jobs,
    )

    graph = load_graph(load_library())
    config = SimulationConfig(
        models=RoleSpecs(writer=spec, character=spec),
        rules=TurnRules(min_turns=args.turns, max_turns=args.turns),
        settings=ModelSettings(base_url=base_url, max_tokens=args.max_tokens, timeout_s=300, max_retries=2),
    )
    planned = plan_jobs(config, sample_jobs(graph, args.episodes, ["duty"], args.seed + concurrency), graph)
    models = RoleModels.build(config)
    store = EpisodeStore(Path(tempfile.mkdtemp(prefix="gpu-generate-")))

    def cache() -> dict[str, float] | None:
        return server_prefix_cache(base_url) if base_url else vllm_prefix_cache_stats()

    finished = {"done": 0, "failed": 0}

    def on_event(event: str, _id: str, _usage: object) -> None:
        if event in finished:
            finished[event] += 1
            count = finished["done"] + finished["failed"]
            if count % max(1, len(planned) // 8) == 0:
                print(f"  {label} c={concurrency}: {count}/{len(planned)} episodes", flush=True)

    before = cache()
    wall0 = time.perf_counter()
    report = asyncio.run(run_batch(store, planned, graph, models, RunOptions(concurrency=concurrency), on_event))
    wall = time.perf_counter() - wall0
    usage = report.usage
    result = {
        "backend": label,
        "concurrency": concurrency,
        "episodes": report.done,
        "failed": report.failed,
        "calls": usage.calls,
        "wall_s": round(wall, 2),
        "episodes_per_hour": round(report.done / wall * 3600, 1),
        "prompt_tokens_per_s": round(usage.prompt_tokens / wall, 1),
        "completion_tokens_per_s": round(usage.completion_tokens / wall, 1),
        "prefix_cache": delta(before, cache()),
    }
    hit = result["prefix_cache"]["hit_rate"] if result["prefix_cache"] else None
    print(
        f"{label:>10} {concurrency:>5} {report.done:>5}/{len(planned):<5} {report.failed:>4} "
        f"{result['episodes_per_hour']:>10.0f} {result['prompt_tokens_per_s']:>10.0f} "
        f"{result['completion_tokens_per_s']:>10.0f} {'n/a' if hit is None else f'{hit:.3f}':>8}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=64, help="Episodes per concurrency level.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32], help="Episodes in flight (one or more).")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=256, help="Completion token limit per call.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vllm-args", default=json.dumps(DEFAULT_VLLM_ARGS), help="Engine arguments (JSON).")
    parser.add_argument("--base-url", help="Also run against this vLLM server (serving the same folder).")
    parser.add_argument("--served-model", help="The server's model name (default: the converted folder's path).")
    parser.add_argument("--skip-in-process", action="store_true", help="Only the --base-url server.")
    parser.add_argument("--json", type=Path, help="Write the figures here.")
    args = parser.parse_args()

    missing = None if args.skip_in_process else missing_requirements()
    if missing:
        print(f"gpu_generate needs a CUDA GPU and vLLM (the gpu extra): {missing}", file=sys.stderr)
        return 2
    os.environ.setdefault("HUMANLLM_VLLM_ARGS", args.vllm_args)
    os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")  # the engine starts from a thread

    from humanllm.llm import VLLMChatModel, shutdown_vllm_engines, vllm_engine_args_from_env
    from humanllm.training import bundled_hf_model

    t0 = time.perf_counter()
    folder = bundled_hf_model()
    print(f"bundled model as transformers folder: {folder} ({time.perf_counter() - t0:.1f} s)", flush=True)
    results: dict[str, Any] = {"model": str(folder), "turns": args.turns, "runs": []}
    header = f"{'backend':>10} {'conc':>5} {'episodes':>11} {'fail':>4} {'eps/hour':>10} {'prompt t/s':>10} "
    try:
        if not args.skip_in_process:
            engine_args = vllm_engine_args_from_env()
            t0 = time.perf_counter()
            engine = VLLMChatModel(model=str(folder), engine_args=engine_args).engine()
            startup = time.perf_counter() - t0
            results["engine"] = {"class": engine.engine_class, "args": engine.engine_args, "startup_s": round(startup)}
            print(f"engine {engine.engine_class} started in {startup:.0f} s with {engine.engine_args}", flush=True)
            print(header + f"{'compl t/s':>10} {'prefix hit':>8}", flush=True)
            for concurrency in args.concurrency:
                results["runs"].append(run_one("in-process", f"vllm:{folder}", None, args, concurrency))
        if args.base_url:
            served = args.served_model or str(folder)
            print(header + f"{'compl t/s':>10} {'prefix hit':>8}", flush=True)
            for concurrency in args.concurrency:
                results["runs"].append(run_one("server", f"openai:{served}", args.base_url, args, concurrency))
    finally:
        shutdown_vllm_engines()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
            print(f"figures written to {args.json}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
