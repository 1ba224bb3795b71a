"""`generate --ray ADDRESS`: the options, and the branch of the command that hands the jobs to Ray.

The command parses and plans as always; this branch calls `humanllm.simulation.run_on_ray`, shows
the tasks' aggregated progress with generate's progress bar and prints the same summary. Ray is
imported only when the branch runs (the optional `ray` extra), never for `--help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from humanllm.cli._config_file import RESOLVED_NAME, save_resolved
from humanllm.cli._exit import batch_code
from humanllm.cli._output import console, err_console, print_json

if TYPE_CHECKING:
    from humanllm.patterns import InteractionGraph
    from humanllm.simulation import Endpoint, Plan, RunOptions, SimulationConfig, TallySnapshot

RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        envvar="HUMANLLM_RAY",
        help="Run the jobs as Ray tasks, each writing its own shard of --out: 'local' starts a Ray here, 'auto' "
        "or ray://HOST:PORT joins a cluster (needs `pip install 'humanllm\\[ray]'`). --out may then be an fsspec "
        "URL (s3://...).",
    ),
]
RayTasksOption = Annotated[
    int | None,
    typer.Option(
        "--ray-tasks",
        min=1,
        help="With --ray: shard tasks (default: 1-4 per cluster CPU, each with 4+ rounds of --concurrency "
        "episodes). --concurrency is per running task.",
    ),
]
RayCpusOption = Annotated[
    int | None, typer.Option("--ray-cpus", min=1, help="With --ray local: CPUs of the local Ray (default: all).")
]


def worker_setup() -> None:
    """Run in each Ray worker before its task: the CLI's `fake` backend, as in this process."""
    from humanllm.cli._app import register

    register()


def generate_on_ray(
    ctx: typer.Context,
    out: Path,
    planned: list[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    base: SimulationConfig,
    options: RunOptions,
    *,
    endpoints: list[Endpoint],
    address: str,
    tasks: int | None,
    cpus: int | None,
    seed: int,
    wait: bool,
    as_json: bool,
    manifest: dict[str, Any],
) -> int:
    """Run the planned jobs on Ray; prints the report and returns the exit code."""
    from humanllm.cli.generate import _finish, _progress
    from humanllm.simulation import EpisodeStore, RayOptions, run_on_ray, store_location

    location = store_location(out)
    ray_options = RayOptions(address=address, tasks=tasks, num_cpus=cpus)
    with _progress(as_json) as progress:
        bar = progress.add_task("episodes", total=len(planned), completed=0, tokens=0, failed=0)

        def on_progress(snapshot: TallySnapshot, already: int) -> None:
            completed = already + snapshot.done + snapshot.failed
            progress.update(bar, completed=completed, tokens=snapshot.tokens, failed=snapshot.failed)

        run = run_on_ray(
            location.url,
            planned,
            graph,
            base,
            options,
            ray_options,
            manifest=manifest,
            seed=seed,
            wait=wait,
            setup=worker_setup,
            on_progress=on_progress,
            endpoints=endpoints,
        )
    report = run.report
    if location.local is not None:
        save_resolved(ctx, location.local / RESOLVED_NAME)
    if as_json:
        print_json({**report.model_dump(), "ray_tasks": [t.model_dump(exclude={"report"}) for t in run.tasks]})
    else:
        retried = sum(t.starts > 1 for t in run.tasks)
        console.print(
            f"{report.done} new, {report.already_done} already done, {report.failed} failed of {report.requested} "
            f"in {report.elapsed_s:.1f}s on Ray ({len(run.tasks)} tasks, {retried} retried); "
            f"{report.usage.total_tokens} tokens\nstore: {location.url}"
        )
    if location.local is not None:
        return _finish(report, EpisodeStore.open_for_reading(location.local), {p.id for _, p in planned}, out)
    finished = report.done + report.already_done
    if report.stopped_reason:
        err_console.print(f"[yellow]stopped:[/] {escape(report.stopped_reason)}", soft_wrap=True)
    return batch_code(failed=report.requested - finished, finished=finished)
