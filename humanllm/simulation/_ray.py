"""`generate --ray ADDRESS`: the planned jobs as Ray tasks, each an async batch writing its own shard.

Design (one store, many writers, still crash-safe):

- The driver holds the store folder's lock for the whole run (so no other command writes it), mends
  every torn tail, reads which episodes are done and hands only the others to the tasks, dealt out
  in turn to `tasks` shards named `ray-<k>of<n>` (so an id is in exactly one task, and a resumed run
  never redoes a stored id, whatever `--ray-tasks` is then). It alone writes `manifest.json` and the
  dataset card: the run's entries at the start, the summed report and a `ray` section at the end.
- Each task (`humanllm.simulation._ray_task.run_shard`, scheduled by Ray with one CPU) appends to
  `episodes-<shard>.jsonl` / `attempts-<shard>.jsonl` under that shard's own lock, never the
  manifest. Ray runs a task again when its worker dies (`max_retries`); the retry re-opens the
  shard, moves a torn last line aside and skips the ids the shard holds, so no record is torn or
  stored twice. A task that raises (an application error) is not retried: a permanent endpoint
  error (401, 404) stops the others (their workers are killed) and is raised; any other counts its
  episodes as unfinished, and the same command resumes them.
- Progress: every task reports each finished or failed episode to one `ProgressTally` actor; the
  driver polls it for the progress bar, counting each id once across retries.
- Paths: a plain path or `file://` is a folder written in place (on a real cluster, one that every
  node mounts at the same path, e.g. NFS; its `flock` must work there). An fsspec URL (`s3://`,
  `gs://`, ...) has no lock: each task stages its shard locally and uploads it whole at the end,
  and the driver writes the manifest there (see `humanllm.simulation._store_url`).

Options per task: `--concurrency` episodes in flight in each running task; a token budget is split
evenly between the tasks, and a tokens- or requests-per-minute limit between the tasks that run at
once. Ray is imported only here, inside `run_on_ray` (the optional `ray` extra).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field

from humanllm.errors import ConfigError, PermanentEndpointError, cause_of_kind
from humanllm.patterns import InteractionGraph
from humanllm.redaction import redact_url
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._endpoints import Endpoint
from humanllm.simulation._ray_tally import ProgressTally, TallySnapshot
from humanllm.simulation._ray_task import ShardTask, run_shard
from humanllm.simulation._ray_totals import RayRun, TaskResult, merge_reports
from humanllm.simulation._run import Plan
from humanllm.simulation._runner import RunOptions
from humanllm.simulation._store import EpisodeStore
from humanllm.simulation._store_url import StoreLocation, remote_done_ids, store_location, update_remote_manifest

logger = logging.getLogger(__name__)

LOCAL = "local"
POLL_S = 0.5
CANCEL_WAIT_S = 30.0


class RayOptions(BaseModel):
    """Where and how the shard tasks run."""

    address: str = Field(default=LOCAL, description="'local' (start a Ray here), 'auto' or ray://HOST:PORT.")
    tasks: int | None = Field(default=None, ge=1, description="Shard tasks (default: `default_tasks`).")
    num_cpus: int | None = Field(default=None, ge=1, description="CPUs of a local Ray (default: this machine's).")
    max_retries: int = Field(default=3, ge=0, description="Times Ray runs a task again after its worker died.")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'humanllm[ray]'") from None
    return ray


@contextmanager
def ray_cluster(options: RayOptions) -> Iterator[Any]:
    """Ray, connected: a running session is used as is; else a local one is started, or `address` joined."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    if options.address == LOCAL:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
        ray.init(num_cpus=options.num_cpus, include_dashboard=False)
    else:
        ray.init(address=options.address)
    try:
        yield ray
    finally:
        ray.shutdown()


def default_tasks(jobs: int, cpus: int, concurrency: int) -> int:
    """As many tasks as give each one at least 4 rounds of `concurrency` episodes, between one and four per CPU.

    One per CPU at least, so every CPU works; four at most, so a retry redoes little and the CPUs
    finishing first take more; and no more than the rounds allow, since each task pays its start
    (imports, models) and its tail (fewer episodes left than its concurrency): on a loaded 2-CPU machine
    (benchmarks/ray_generate.py, 96 episodes) 2 tasks took 16-26 s, 3 took 20-22 s, 8 took 23-32 s."""
    by_rounds = jobs // (4 * concurrency)
    return max(1, min(jobs, max(cpus, min(4 * cpus, by_rounds))))


def shard_names(count: int) -> list[str]:
    return [f"ray-{k:03d}of{count:03d}" for k in range(count)]


def shard_tasks(
    out: str,
    base: SimulationConfig,
    todo: list[tuple[SimulationConfig, Plan]],
    options: RunOptions,
    *,
    tasks: int,
    slots: int,
    seed: int,
    setup: Callable[[], object] | None,
    endpoints: Sequence[Endpoint] = (),
) -> list[ShardTask]:
    """The todo jobs dealt out in turn to `tasks` shards; limits split as the module docstring says."""
    count = max(1, min(tasks, len(todo)))
    running = max(1, min(count, slots))
    settings = base.settings.model_copy(update={"api_key": None})  # keys come from the workers' environment
    if settings.requests_per_minute is not None:
        settings = settings.model_copy(update={"requests_per_minute": settings.requests_per_minute / running})
    keyless = base.model_copy(update={"settings": settings})
    each = options.model_copy(
        update={
            "budget_tokens": None if options.budget_tokens is None else math.ceil(options.budget_tokens / count),
            "tokens_per_minute": None
            if options.tokens_per_minute is None
            else max(1, options.tokens_per_minute // running),
        }
    )
    planned = [(config.model_copy(update={"settings": settings}), plan) for config, plan in todo]
    return [
        ShardTask(
            shard=name,
            store=out,
            base=keyless,
            planned=planned[k::count],
            options=each,
            seed=seed,
            setup=setup,
            endpoints=tuple(endpoints),
        )
        for k, name in enumerate(shard_names(count))
    ]


def run_on_ray(
    out: str,
    planned: list[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    base: SimulationConfig,
    options: RunOptions,
    ray_options: RayOptions,
    *,
    manifest: dict[str, Any],
    seed: int = 0,
    wait: bool | float = False,
    setup: Callable[[], object] | None = None,
    on_progress: Callable[[TallySnapshot, int], None] | None = None,
    endpoints: Sequence[Endpoint] = (),
) -> RayRun:
    """Run `planned` on Ray into the store at `out`; `on_progress(snapshot, already_done)` as tasks report."""
    location = store_location(out)
    args = (planned, graph, base, options, ray_options, manifest, seed, setup, on_progress, endpoints)
    with ray_cluster(ray_options) as ray:
        if location.local is None:
            run = _drive(ray, location, None, *args)
        else:  # the folder's lock for the whole run: the tasks take their shards' locks only
            with EpisodeStore.open_for_writing(location.local, shard="driver", wait=wait) as store:
                run = _drive(ray, location, store, *args)
    return run


def _drive(
    ray: Any,
    location: StoreLocation,
    store: EpisodeStore | None,
    planned: list[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    base: SimulationConfig,
    options: RunOptions,
    ray_options: RayOptions,
    manifest: dict[str, Any],
    seed: int,
    setup: Callable[[], object] | None,
    on_progress: Callable[[TallySnapshot, int], None] | None,
    endpoints: Sequence[Endpoint],
) -> RayRun:
    start = time.monotonic()
    done = store.done if store is not None else remote_done_ids(location)
    write = store.update_manifest if store is not None else (lambda entries: update_remote_manifest(location, entries))
    write(manifest)
    todo = [(config, plan) for config, plan in planned if plan.id not in done]
    already = len(planned) - len(todo)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    tasks = (
        shard_tasks(
            location.url if store is None else str(location.local),
            base,
            todo,
            options,
            tasks=ray_options.tasks or default_tasks(len(todo), cpus, options.concurrency),
            slots=cpus,
            seed=seed,
            setup=setup,
            endpoints=endpoints,
        )
        if todo
        else []
    )
    results = _run_tasks(ray, tasks, graph, ray_options, already, on_progress) if tasks else []
    run = merge_reports(results, requested=len(planned), already_done=already, elapsed_s=time.monotonic() - start)
    address = ray_options.address if ray_options.address in (LOCAL, "auto") else redact_url(ray_options.address)
    write(run.manifest_entries(address=address, cluster_cpus=cpus))
    return run


def _run_tasks(
    ray: Any,
    tasks: list[ShardTask],
    graph: InteractionGraph,
    ray_options: RayOptions,
    already: int,
    on_progress: Callable[[TallySnapshot, int], None] | None,
) -> list[TaskResult]:
    tally = ray.remote(num_cpus=0)(ProgressTally).remote()
    remote = ray.remote(num_cpus=1, max_retries=ray_options.max_retries)(run_shard)
    graph_ref = ray.put(graph)
    refs = {remote.remote(task, graph_ref, tally): task for task in tasks}
    results: dict[str, TaskResult] = {}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
            for ref in ready:
                results[refs[ref].shard] = _result(ray, ref, refs[ref], pending)
            if on_progress is not None:
                on_progress(ray.get(tally.snapshot.remote()), already)
        starts = ray.get(tally.snapshot.remote()).starts
    finally:
        if pending:  # Ctrl-C or a permanent error: stop what still runs, and let it end before the lock goes
            for ref in pending:
                # force: the worker is killed (a torn tail is mended by the next writer); a gentle cancel's
                # KeyboardInterrupt can arrive after the worker has moved on to another task of this process
                ray.cancel(ref, force=True)
            ray.wait(pending, num_returns=len(pending), timeout=CANCEL_WAIT_S)
    return [results[t.shard].model_copy(update={"starts": starts.get(t.shard, 0)}) for t in tasks]


def _result(ray: Any, ref: Any, task: ShardTask, pending: list[Any]) -> TaskResult:
    try:
        return TaskResult(shard=task.shard, jobs=len(task.planned), report=ray.get(ref))
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        if cause_of_kind(cause, PermanentEndpointError) is not None:
            raise cause from None  # the caller's `finally` cancels the others
        logger.error("Ray task %s failed: %s", task.shard, cause)
        return TaskResult(shard=task.shard, jobs=len(task.planned), error=f"{type(cause).__name__}: {cause}")
    except ray.exceptions.RayError as exc:  # the worker died more often than max_retries allows
        logger.error("Ray task %s was lost: %s", task.shard, exc)
        return TaskResult(shard=task.shard, jobs=len(task.planned), error=f"{type(exc).__name__}: {exc}")
