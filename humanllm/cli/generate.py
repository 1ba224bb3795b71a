"""`humanllm generate`: many episodes, concurrently, into a crash-safe resumable store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from humanllm.cli._async import run_interruptibly
from humanllm.cli._config_file import RESOLVED_NAME, ConfigOption, save_resolved
from humanllm.cli._exit import NOTHING_DONE, OK, batch_code
from humanllm.cli._generate_ray import RayCpusOption, RayOption, RayTasksOption
from humanllm.cli._options import (
    MAX_TOKENS,
    MODEL,
    TEMPERATURE,
    TIMEOUT_S,
    BaseUrlsOption,
    CharacterModelOption,
    EndpointsOption,
    MaxTokensOption,
    ModelOption,
    PatternsDirOption,
    RpmOption,
    TemperatureOption,
    ThreadsOption,
    TimeoutOption,
    WriterModelOption,
    graph,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli._validate import checked, mode_choice, options_config, parse_mode, parse_turns, turn_bounds
from humanllm.core import TokenUsage
from humanllm.patterns import BundleRecipe

if TYPE_CHECKING:
    from humanllm.simulation import Endpoint, EpisodeStore, RunReport


def _situations(text: str) -> object:
    """Check of --situations (the simulation package is imported when a value is checked, not with the CLI)."""
    from humanllm.simulation import parse_situations

    return parse_situations(text)


def _shard(text: str) -> object:
    """Check of --shard."""
    from humanllm.simulation import parse_shard

    return parse_shard(text)


def generate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Store folder (created; re-running resumes it).")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Bundles to sample from the graph.")] = None,
    bundles: Annotated[
        Path | None, typer.Option(help="File of bundles (JSON list, or JSONL with 'patterns') instead of --n.")
    ] = None,
    ood_topup: Annotated[
        int | None,
        typer.Option(
            "--ood-topup",
            min=1,
            help="Instead of --n: N scenarios drawn only among the OOD patterns of --out's split plan (fills "
            "ood_eval; run `data split` again after).",
        ),
    ] = None,
    ood_patterns: Annotated[
        str | None,
        typer.Option(help="With --ood-topup: the OOD patterns, comma-separated (default: the split plan's)."),
    ] = None,
    situations: Annotated[
        str,
        typer.Option(
            callback=checked(_situations),
            help="'all' (the 8 DIAMONDS types), 'triggered' (each bundle only with the types its patterns' "
            "triggers name) or a comma-separated list.",
        ),
    ] = "all",
    concurrency: Annotated[
        int, typer.Option(min=1, envvar="HUMANLLM_CONCURRENCY", help="Episodes in flight at once.")
    ] = 8,
    rpm: RpmOption = None,
    tpm: Annotated[int | None, typer.Option(min=1, help="Tokens per minute, across episodes.")] = None,
    budget_tokens: Annotated[int | None, typer.Option(min=1, help="Stop cleanly after about this many tokens.")] = None,
    episode_retries: Annotated[int, typer.Option(min=0, help="Extra tries for a failing episode.")] = 3,
    max_consecutive_failures: Annotated[
        int,
        typer.Option(min=1, help="Circuit breaker: stop starting episodes after this many endpoint failures in a row."),
    ] = 5,
    shard: Annotated[
        str | None, typer.Option(callback=checked(_shard), help="i/N: run only this machine's share of the jobs.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for bundles and per-episode seeds.")] = 0,
    recipe: Annotated[
        BundleRecipe,
        typer.Option(
            help="How --n bundles are drawn: 'graph' (interacting patterns, no excluded pair) or 'paper' (the "
            "authors' recipe: 3-4 Big-Five markers, with p=0.7 one social-cognitive pattern)."
        ),
    ] = BundleRecipe.GRAPH,
    characters: Annotated[int, typer.Option(min=2, max=6, help="Characters per episode.")] = 2,
    turns: Annotated[str, typer.Option(callback=turn_bounds, metavar="MIN-MAX", help="Turn bounds MIN-MAX.")] = "12-20",
    mode: Annotated[str, typer.Option(callback=mode_choice, help="agents or author.")] = "agents",
    model: ModelOption = MODEL,
    writer_model: WriterModelOption = None,
    character_model: CharacterModelOption = None,
    base_url: BaseUrlsOption = None,
    endpoints_file: EndpointsOption = None,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    variation: Annotated[bool, typer.Option("--variation", help="Also write scenario variations.")] = False,
    patterns_dir: PatternsDirOption = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another command is writing --out, wait for it instead of failing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final report as JSON.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the jobs, estimated calls, tokens and cost, and stop: no model is called, nothing is written.",
        ),
    ] = False,
    prices: Annotated[
        Path | None,
        typer.Option(help="With --dry-run: a YAML price table (USD per 1M tokens per model) over the bundled one."),
    ] = None,
    ray: RayOption = None,
    ray_tasks: RayTasksOption = None,
    ray_cpus: RayCpusOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Generate episodes at scale: bundles x situations, run concurrently, stored as JSONL.

    Re-running the same command skips finished episodes and retries failed ones; a token budget
    stops the run cleanly; --shard i/N splits the jobs between machines writing disjoint shards.
    --ood-topup N adds N scenarios drawn only among the split's OOD patterns (situations in turn),
    so that ood_eval can reach its size at the next `data split`. Several --base-url (or --endpoints
    FILE) spread the episodes over replicas of one model, each episode's calls on one replica.
    --ray ADDRESS runs the jobs as Ray tasks across a cluster (or 'local'), into one store.
    """
    from humanllm.agents.director import TurnRules
    from humanllm.llm import ModelSettings
    from humanllm.simulation import (
        EndpointRouter,
        EpisodeStore,
        RoleSpecs,
        RunOptions,
        SimulationConfig,
        finished_manifest,
        in_shard,
        jobs_from_bundles,
        ood_jobs,
        parse_shard,
        parse_situations,
        plan_jobs,
        read_bundles,
        run_batch,
        run_manifest,
        sample_jobs,
        store_ood,
        untriggered,
    )

    if sum(given is not None for given in (n, bundles, ood_topup)) != 1:
        raise typer.BadParameter(
            "give exactly one: --n N samples bundles, --bundles FILE reads them, --ood-topup N draws OOD-only ones",
            param_hint="'--n' / '--bundles' / '--ood-topup'",
        )
    if (bundles is not None or ood_topup is not None) and recipe is not BundleRecipe.GRAPH:
        raise typer.BadParameter(
            "--recipe draws the bundles of --n; --bundles FILE and --ood-topup N bring their own: drop one",
            param_hint="'--recipe'",
        )
    if ood_patterns is not None and ood_topup is None:
        raise typer.BadParameter("goes with --ood-topup N", param_hint="'--ood-patterns'")
    if ray is None and (ray_tasks is not None or ray_cpus is not None):
        raise typer.BadParameter("goes with --ray ADDRESS", param_hint="'--ray-tasks' / '--ray-cpus'")
    low, high = parse_turns(turns)
    index, total = parse_shard(shard)
    endpoints = _endpoints(base_url, endpoints_file)
    g = graph(patterns_dir)
    situation_list = parse_situations(situations)
    if bundles is not None:
        jobs = jobs_from_bundles(read_bundles(bundles), situation_list, seed, g.library)
    elif ood_topup is not None:
        ood = [p.strip() for p in ood_patterns.split(",") if p.strip()] if ood_patterns else store_ood(out)
        jobs = ood_jobs(g, ood_topup, situation_list, seed, ood)
    else:
        jobs = sample_jobs(g, n or 1, situation_list, seed, recipe=recipe, characters=characters)
    with options_config():
        base = SimulationConfig(
            recipe=recipe,
            characters=characters,
            rules=TurnRules(min_turns=low, max_turns=high),
            mode=parse_mode(mode),
            variation=variation,
            models=RoleSpecs(writer=writer_model or model, character=character_model or model),
            settings=ModelSettings(
                temperature=temperature,
                max_tokens=max_tokens,
                threads=threads,
                # the first replica names the deployment in the episode specs: see `_endpoints`
                base_url=endpoints[0].url if endpoints else None,
                timeout_s=timeout,
                requests_per_minute=rpm,
            ),
        )
        options = RunOptions(
            concurrency=concurrency,
            episode_retries=episode_retries,
            budget_tokens=budget_tokens,
            tokens_per_minute=tpm,
            max_consecutive_failures=max_consecutive_failures,
        )
    planned = [(c, p) for c, p in plan_jobs(base, jobs, g) if in_shard(p.id, index, total)]
    if dry_run:
        from humanllm.cli._dry_run import dry_run as estimate

        estimate(planned, g, out, prices, as_json=as_json)
        return
    if prices is not None:
        raise typer.BadParameter("goes with --dry-run", param_hint="'--prices'")
    untriggered_jobs = sum(untriggered(g.library, p.patterns, p.situation) for _, p in planned)
    manifest = run_manifest(
        base,
        planned,
        options,
        seed=seed,
        situations=situation_list,
        shard=(index, total),
        recipe=None if bundles is not None or ood_topup is not None else recipe.value,
        untriggered=untriggered_jobs,
        endpoints=endpoints,
    )
    if ray is not None:  # the same jobs as Ray tasks, each writing its own shard of --out
        from humanllm.cli._generate_ray import generate_on_ray

        code = generate_on_ray(
            ctx,
            out,
            planned,
            g,
            base,
            options,
            endpoints=endpoints,
            address=ray,
            tasks=ray_tasks,
            cpus=ray_cpus,
            seed=seed,
            wait=wait,
            as_json=as_json,
            manifest=manifest,
        )
        if code:
            raise typer.Exit(code)
        return
    # one writer per store: a second run on this folder fails here, at once, or with --wait waits its turn
    with EpisodeStore.open_for_writing(out, shard=f"{index:03d}of{total:03d}", wait=wait) as store:
        store.update_manifest(manifest)
        if untriggered_jobs and not as_json:
            err_console.print(
                f"[dim]{untriggered_jobs} of {len(planned)} jobs are set in a situation that none of their "
                "patterns lists among its triggers (--situations triggered gives each bundle its own)[/]"
            )
        save_resolved(ctx, out / RESOLVED_NAME)
        models = EndpointRouter.build(base, endpoints)
        already = sum(1 for _, p in planned if p.id in store.done)
        with _progress(as_json) as progress:
            task = progress.add_task("episodes", total=len(planned), completed=already, tokens=0, failed=0)
            spent = {"tokens": 0, "failed": 0}

            def on_event(kind: str, _episode_id: str, usage: TokenUsage | None) -> None:
                if kind == "done" and usage is not None:
                    spent["tokens"] += usage.total_tokens
                    progress.update(task, advance=1, tokens=spent["tokens"])
                elif kind == "failed":
                    spent["failed"] += 1
                    progress.update(task, advance=1, failed=spent["failed"])

            report = run_interruptibly(run_batch(store, planned, g, models, options, on_event, seed=seed))
        store.update_manifest(finished_manifest(report))
        if as_json:
            print_json(report)
        else:
            note = " (stopped: token budget reached)" if report.stopped_by_budget and not report.stopped_reason else ""
            console.print(
                f"{report.done} new, {report.already_done} already done, {report.failed} failed of {report.requested} "
                f"in {report.elapsed_s:.1f}s; {report.usage.total_tokens} tokens{note}\nstore: {out}"
            )
        code = _finish(report, store, {p.id for _, p in planned}, out)
    if code:
        raise typer.Exit(code)


def _endpoints(urls: list[str] | None, path: Path | None) -> list[Endpoint]:
    """The replicas of the run, checked (a bad --base-url is a usage error).

    The episode spec holds the base URL of a remote model (a different server may serve a
    different model under the same name), so an id names its deployment. With several replicas the
    spec holds the first one's: which replica served an episode is not part of it, the ids of a
    one-endpoint run on that URL stay the same, and adding or removing other replicas changes none.
    """
    from humanllm.errors import ConfigError
    from humanllm.simulation import endpoints_from

    try:
        return endpoints_from(urls, path)
    except ConfigError as exc:
        if path is None:
            raise typer.BadParameter(str(exc).removeprefix("--base-url: "), param_hint="'--base-url'") from exc
        raise


def _finish(report: RunReport, store: EpisodeStore, planned: set[str], out: Path) -> int:
    """Print what failed and what to do (stderr), and return the exit code of the batch."""
    finished = report.done + report.already_done
    # a circuit breaker leaves episodes neither done nor failed: they count as not finished
    unfinished = report.requested - finished if report.stopped_reason else report.failed
    code = batch_code(failed=unfinished, finished=finished)
    if report.stopped_reason:
        err_console.print(f"[yellow]stopped:[/] {escape(report.stopped_reason)}", soft_wrap=True)
    if code == OK:
        return code
    last: dict[str, str] = {f.id: f.reason for f in store.failures() if f.id in planned}
    reasons = Counter(reason for eid, reason in last.items() if eid not in store.done).most_common(1)
    why = f"; most common reason ({reasons[0][1]}x): {_clip(reasons[0][0])}" if reasons else ""
    what = (
        "no episode finished" if code == NOTHING_DONE else f"{unfinished} of {report.requested} episodes did not finish"
    )
    err_console.print(
        f"[bold red]error:[/] {what}{escape(why)}\nfix the cause and run the same command again: finished episodes "
        f"are kept and the others are retried (`humanllm data status {out}` lists the reasons)",
        soft_wrap=True,
    )
    return code


def _clip(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[tokens]} tokens, {task.fields[failed]} failed"),
        console=console,
        disable=quiet,
        transient=False,
    )
