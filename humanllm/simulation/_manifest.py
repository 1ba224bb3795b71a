"""What a batch run writes to its store's manifest: how it was asked for, and how it ended."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from humanllm import __version__
from humanllm.llm import endpoint_methods
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._endpoints import Endpoint
from humanllm.simulation._run import Plan
from humanllm.simulation._runner import RunOptions, RunReport


def run_manifest(
    base: SimulationConfig,
    planned: Sequence[tuple[SimulationConfig, Plan]],
    options: RunOptions,
    *,
    seed: int,
    situations: Sequence[str],
    shard: tuple[int, int],
    recipe: str | None = None,
    untriggered: int | None = None,
    endpoints: Sequence[Endpoint] = (),
) -> dict[str, Any]:
    """The manifest entries of a run about to start (no secrets: the config's public form).

    `recipe` is the bundle recipe that drew the run's bundles (None when they came from a file);
    `untriggered` counts the jobs whose situation none of their patterns lists among its triggers;
    `endpoints` are the replicas (URLs redacted; figures per replica come in `last_run.endpoints`)."""
    index, total = shard
    return {
        "humanllm": __version__,
        "shard": f"{index}/{total}",
        "seed": seed,
        "recipe": recipe,
        "situations": list(situations),
        "requested": len(planned),
        "requested_ids": [p.id for _, p in planned],
        "untriggered_jobs": untriggered,
        "config": base.public_dict(),
        "options": options.model_dump(),
        "endpoints": [{"url": e.name, "weight": e.weight, "concurrency": e.concurrency} for e in endpoints],
        "started_at": time.time(),
    }


def finished_manifest(report: RunReport) -> dict[str, Any]:
    """The manifest entries of a run that ended: its report and how structured output was asked for."""
    return {"last_run": report.model_dump(), "structured_output": endpoint_methods(), "finished_at": time.time()}
