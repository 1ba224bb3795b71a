"""CPU seconds per step and tokens/s of the `smollm2-cpu` LoRA recipe on exported fake episodes.

Run:  python benchmarks/train_cpu.py [--steps 20] [--batch 4] [--max-length 256]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from humanllm.agents.director import TurnRules
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
from humanllm.testing import register_fakes
from humanllm.training import apply_overrides, export_sft, load_recipe, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()
    register_fakes()  # `fake` specs build from the test kit
    work = Path(tempfile.mkdtemp())
    graph = load_graph(load_library())
    config = SimulationConfig(
        models=RoleSpecs(writer="fake", character="fake"), rules=TurnRules(min_turns=8, max_turns=12)
    )
    store = EpisodeStore(work / "store")
    planned = plan_jobs(config, sample_jobs(graph, 20, ["duty", "sociality"], 0), graph)
    asyncio.run(run_batch(store, planned, graph, RoleModels.build(config), RunOptions(concurrency=8)))
    data = work / "sft.jsonl"
    export_sft(store.iter_episodes(), data)
    recipe = apply_overrides(
        load_recipe("smollm2-cpu"),
        [f"per_device_train_batch_size={args.batch}", f"max_length={args.max_length}", "logging_steps=5"],
    )
    report = train(recipe, data, work / "out", max_steps=args.steps)
    print(f"steps: {report.steps}, batch {args.batch} x max {args.max_length} tokens")
    print(f"seconds per step: {report.seconds_per_step:.2f}")
    print(f"tokens per second: {report.tokens_per_second or 0:.0f}")
    print(f"loss: {report.first_loss:.3f} -> {report.last_loss:.3f}")


if __name__ == "__main__":
    main()
