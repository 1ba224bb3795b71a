"""`humanllm study`: controlled experiments over patterns in one fixed scenario (run, report, fork)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from humanllm.cli._async import run_interruptibly
from humanllm.cli._config_file import RESOLVED_NAME, ConfigOption, save_resolved
from humanllm.cli._exit import OK, batch_code
from humanllm.cli._options import (
    TIMEOUT_S,
    BaseUrlOption,
    JsonOption,
    JudgeBaseUrlOption,
    PatternsDirOption,
    ThreadsOption,
    TimeoutOption,
    graph,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli.study_fork import fork
from humanllm.core import TokenUsage

if TYPE_CHECKING:
    from humanllm.patterns import InteractionGraph
    from humanllm.study import StudyDesign

app = typer.Typer(
    help=(
        "Controlled experiments: give or withhold patterns from characters in one fixed scenario, play every "
        "cell several times, judge every pattern in every cell, and estimate main effects and interactions.\n\n"
        "A study is a design file (YAML; see examples/anxiety_sunk_cost.yaml) and a folder that is an ordinary "
        "episode store: a run resumes, and never pays twice for an episode or a judgement."
    ),
    no_args_is_help=True,
)

DesignArgument = Annotated[Path, typer.Argument(help="The design file (YAML).", show_default=False)]
StudyDirArgument = Annotated[
    Path, typer.Argument(help="The study folder (`study run --out`).", show_default=False, file_okay=False)
]


@app.command("run")
def run(
    ctx: typer.Context,
    design_file: DesignArgument,
    out: Annotated[
        Path | None, typer.Option(help="The study folder (default runs/study/<name>); a second run resumes.")
    ] = None,
    replicates: Annotated[
        int | None, typer.Option(min=1, help="Episodes per cell instead of the design's (more only add episodes).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, envvar="HUMANLLM_CONCURRENCY", help="Episodes in flight at once.")
    ] = 4,
    retries: Annotated[int, typer.Option(min=0, help="Extra tries for an episode that fails.")] = 3,
    base_url: BaseUrlOption = None,
    judge_base_url: JudgeBaseUrlOption = None,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the design and list its cells; no model call, nothing written.")
    ] = False,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """Play and judge every cell x replicate of a design (scenario frozen in the folder on the first run).

    Exit codes: 0 done, 1 error (one line), 2 usage error, 3 some episodes failed (run again to retry them),
    4 none finished.
    """
    from humanllm.evaluation import RichTracker
    from humanllm.llm import ModelSettings
    from humanllm.simulation import RunOptions
    from humanllm.study import Study, read_design

    design = read_design(design_file)
    if replicates is not None:
        design = design.model_copy(update={"replicates": replicates})
    g = graph(patterns_dir)
    if dry_run:
        _print_cells(design, g, as_json)
        return
    settings = ModelSettings(base_url=base_url, timeout_s=timeout, threads=threads)
    judge_settings = ModelSettings(base_url=judge_base_url or base_url, timeout_s=timeout, threads=threads)
    study = Study(design, out, graph=g, settings=settings, judge_settings=judge_settings)
    options = RunOptions(concurrency=concurrency, episode_retries=retries)
    with RichTracker(err_console, disable=as_json) as tracker:
        phase = "playing cells"
        started = {"done": False}

        def on_event(kind: str, _episode_id: str, _usage: TokenUsage | None) -> None:
            if not started["done"]:
                tracker.start(phase, total=len(design.cells()) * design.replicates)
                started["done"] = True
            if kind in ("done", "failed"):
                tracker.advance(phase)

        report = run_interruptibly(study.arun(options=options, on_event=on_event, tracker=tracker))
    save_resolved(ctx, study.folder / RESOLVED_NAME)
    played = report.episodes
    if as_json:
        print_json(report)
    else:
        judged = "; ".join(f"{name} on {', '.join(held)}" for name, held in report.measured.items())
        console.print(f"scenario: {escape(report.scenario)}\njudged: {escape(judged)}")
        console.print(
            f"{report.cells} cells x {report.replicates} replicates: {played.done} episodes new, "
            f"{played.already_done} already done, {played.failed} failed; {report.judged} judgements new, "
            f"{report.judge_failed} failed; {played.usage.total_tokens + report.judge_usage.total_tokens} tokens "
            f"in {report.elapsed_s:.1f}s\nstudy: {study.folder}\nnext: humanllm study report {study.folder}"
        )
    finished = played.done + played.already_done
    code = batch_code(failed=played.requested - finished + report.judge_failed, finished=finished)
    if code != OK:
        err_console.print(
            "[bold red]error:[/] some episodes or judgements did not finish: run the same command again (finished "
            f"ones are kept; `humanllm data status {escape(str(study.folder))}` lists the reasons)",
            soft_wrap=True,
        )
        raise typer.Exit(code)


def _print_cells(design: StudyDesign, g: InteractionGraph, as_json: bool) -> None:
    design.check_size()
    design.check_patterns(g.library)
    cells = design.cells()
    if as_json:
        print_json({"cells": [c.levels for c in cells], "replicates": design.replicates})
        return
    console.print(f"{design.name}: {design.design.value}, {len(cells)} cells x {design.replicates} replicates")
    for cell in cells:
        console.print(f"  {escape(cell.label)}")


@app.command("report")
def report(
    folder: StudyDirArgument,
    out: Annotated[Path | None, typer.Option(help="Where the report goes (default DIR/report).")] = None,
    n_boot: Annotated[int, typer.Option(min=100, help="Bootstrap resamples for the confidence intervals.")] = 2000,
    n_perm: Annotated[int, typer.Option(min=100, help="Permutations for the p-values.")] = 2000,
    as_json: JsonOption = False,
) -> None:
    """Expression per pattern and cell, main effects and pairwise interactions (bootstrap CIs, permutation
    p-values); writes tidy.csv / tidy.parquet, effects, plots, report.html and summary.md."""
    from humanllm.study import Study, notable_lines

    study = Study.open(folder)
    analysis = study.analyse(n_boot=n_boot, n_perm=n_perm)
    files = study.report(out, analysis=analysis)
    if as_json:
        print_json({"files": files, "analysis": analysis})
        return
    counts = analysis.counts
    console.print(
        f"{analysis.study}: {len(analysis.cells)} cells, {counts.episodes} episodes, "
        f"{len(analysis.outcomes)} outcomes; {counts.scored} items scored, {counts.not_applicable} n/a, "
        f"{counts.unscored} unscored"
    )
    for line in notable_lines(analysis):
        console.print(f"  {escape(line)}")
    console.print(f"report: {files.report_html}\nsummary: {files.summary_md}\ntable: {files.tidy_csv}")


app.command("fork")(fork)
