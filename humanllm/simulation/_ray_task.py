"""One Ray task of `generate --ray`: an async batch (`run_batch`) writing one shard of the store.

This module never imports Ray: `humanllm.simulation._ray` wraps `run_shard` in `ray.remote` and
`ProgressTally` in a Ray actor. The task builds its role models itself, from the run's config
(model specs and `ModelSettings` with no API key: keys come from the worker's environment, e.g.
`OPENAI_API_KEY` exported before `ray start`) and routes each episode to one of the run's replicas
by its id, as a one-process run does (`EndpointRouter`; health checks and per-replica caps are the
task's own), runs the `setup` hook first (the CLI's registers the
`fake` backend in the worker), and reports each finished or failed episode to the tally.

Idempotent, so Ray may run it again after a worker died: a local store is re-opened as the shard's
own view (`EpisodeStore.open_shard`: the shard's lock, its torn tail mended, its finished ids
skipped); an object store's shard is downloaded into a staging folder first and uploaded whole at
the end (see `humanllm.simulation._store_url`), so a retry after a death redoes that shard's
episodes that had not been uploaded, and a reader never sees a torn or duplicated record.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humanllm.core import TokenUsage
from humanllm.patterns import InteractionGraph
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._endpoints import Endpoint
from humanllm.simulation._router import EndpointRouter
from humanllm.simulation._run import Plan
from humanllm.simulation._runner import RunOptions, RunReport, run_batch
from humanllm.simulation._store import EpisodeStore
from humanllm.simulation._store_url import download_shard, store_location, upload_shard

logger = logging.getLogger(__name__)

SHARD_LOCK_WAIT_S = 120.0
"""How long a retried task waits for the shard's lock (a dead worker's lock can outlive it on NFS)."""


@dataclass(frozen=True)
class ShardTask:
    """What one task runs: its shard's jobs, into `store` (a folder or an fsspec URL)."""

    shard: str
    store: str
    base: SimulationConfig
    planned: list[tuple[SimulationConfig, Plan]]
    options: RunOptions
    seed: int = 0
    setup: Callable[[], object] | None = None
    endpoints: tuple[Endpoint, ...] = ()
    """The replicas (none: the config's own endpoint); each task routes by episode id as one process does."""


def _call(tally: Any, method: str, *args: object, wait: bool = False) -> None:
    """Tell the tally (a Ray actor handle: fire and forget unless `wait`; a plain `ProgressTally`: a call)."""
    if tally is None:
        return
    bound = getattr(tally, method)
    remote = getattr(bound, "remote", None)
    if remote is None:
        bound(*args)
        return
    sent = remote(*args)
    if wait:  # only inside a Ray worker, where Ray is imported already
        import ray

        ray.get(sent)


@functools.cache
def worker_loop() -> asyncio.AbstractEventLoop:
    """One event loop per worker process, kept for every task Ray runs in it.

    LangChain's OpenAI client pools its HTTP connections per base URL for the whole process, on the
    loop that opened them: a second task on a fresh `asyncio.run` loop would reuse connections of a
    closed loop ("Event loop is closed"). Tasks run one at a time in a worker, so one loop serves all."""
    return asyncio.new_event_loop()


def run_shard(task: ShardTask, graph: InteractionGraph, tally: Any = None) -> RunReport:
    """Run the task's jobs into its shard; safe to run again (what the shard holds is skipped)."""
    if task.setup is not None:
        task.setup()
    _call(tally, "started", task.shard, wait=True)  # counted even if this worker dies soon after
    location = store_location(task.store)
    if location.local is not None:
        return _run_into(location.local, task, graph, tally)
    staging = Path(tempfile.mkdtemp(prefix=f"humanllm-{task.shard}-"))
    try:
        download_shard(location, task.shard, staging)
        return _run_into(staging, task, graph, tally)
    finally:
        upload_shard(staging, task.shard, location)  # after a failure too: what finished is kept
        shutil.rmtree(staging, ignore_errors=True)


def _run_into(folder: Path, task: ShardTask, graph: InteractionGraph, tally: Any) -> RunReport:
    def on_event(kind: str, episode_id: str, usage: TokenUsage | None) -> None:
        if kind in ("done", "failed"):
            _call(tally, "event", kind, episode_id, usage.total_tokens if usage is not None else 0)

    with EpisodeStore.open_shard(folder, task.shard, wait=SHARD_LOCK_WAIT_S) as store:
        found = [plan.id for _, plan in task.planned if plan.id in store.done]
        if found:
            _call(tally, "found", found)
        models = EndpointRouter.build(task.base, task.endpoints)
        batch = run_batch(store, task.planned, graph, models, task.options, on_event, seed=task.seed)
        report = worker_loop().run_until_complete(batch)
    _call(tally, "flush", wait=True)  # an actor runs one caller's calls in order: every event is counted now
    logger.info(
        "shard %s: %d done, %d found done, %d failed", task.shard, report.done, report.already_done, report.failed
    )
    return report
