"""`humanllm eval ...`: judge stored episodes, benchmark models, check the judge against people, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from humanllm.cli._async import run_interruptibly
from humanllm.cli._config_file import ConfigOption, beside, save_resolved
from humanllm.cli._eval_inspect import export_inspect
from humanllm.cli._eval_output import fail_batch, print_split_warnings, print_table
from humanllm.cli._exit import batch_code
from humanllm.cli._options import (
    BATCH_SIZE,
    BOOTSTRAP,
    HOLISTIC,
    JUDGE_CONCURRENCY,
    JUDGE_MAX_TOKENS_DEFAULT,
    JUDGE_TEMPERATURE_DEFAULT,
    MAX_TOKENS,
    MODEL,
    RETRIES,
    RUNS,
    TEMPERATURE,
    TIMEOUT_S,
    BaseUrlOption,
    BatchSizeOption,
    BootstrapOption,
    ForceOption,
    HolisticOption,
    JsonOption,
    JudgeBaseUrlOption,
    JudgeConcurrencyOption,
    JudgeMaxTokensOption,
    JudgeSpecOption,
    JudgeTemperatureOption,
    MaxTokensOption,
    NaAsZeroOption,
    NoHolisticOption,
    PatternsDirOption,
    RetriesOption,
    RunsOption,
    TemperatureOption,
    ThreadsOption,
    TimeoutOption,
    graph,
    holistic_choice,
    library,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli._score_judges import (
    JudgeBaseUrlsOption,
    JudgesOption,
    Scored,
    base_urls,
    distinct_judges,
    print_panel,
    print_scored,
    score_exit,
)
from humanllm.cli._validate import one_of, options_config
from humanllm.core import check_output_dir, check_output_file, write_text_atomic
from humanllm.errors import ConfigError

if TYPE_CHECKING:
    from humanllm.agents.holistic import HolisticChoice
    from humanllm.evaluation import BenchmarkConfig, EvalResults, JudgeOptions
    from humanllm.llm import ModelSettings, RoleModel

app = typer.Typer(
    help="Judge and benchmark: IPE/MPD checklists, the holistic baseline, human alignment and reports.",
    no_args_is_help=True,
)

Seed = Annotated[int, typer.Option(help="Judge run r samples with seed SEED + r; also seeds the models under test.")]
Wait = Annotated[bool, typer.Option("--wait", help="If another command writes the folder, wait instead of failing.")]


def _judge_model(
    spec: str, base_url: str | None, temperature: float, max_tokens: int, timeout: float, threads: int | None
) -> RoleModel:
    from humanllm.llm import ModelSettings, build_role_model

    settings = ModelSettings(
        temperature=temperature, max_tokens=max_tokens, base_url=base_url, timeout_s=timeout, threads=threads
    )
    return build_role_model("judge", spec, settings)


@app.command("score")
def score(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="Store folder, split folder, or one JSONL file of episodes.")],
    judge: JudgesOption,
    runs: RunsOption = RUNS,
    batch_size: BatchSizeOption = BATCH_SIZE,
    retries: RetriesOption = RETRIES,
    holistic: HolisticOption = HOLISTIC,
    no_holistic: NoHolisticOption = False,
    na_as_zero: NaAsZeroOption = False,
    bootstrap: BootstrapOption = BOOTSTRAP,
    concurrency: JudgeConcurrencyOption = JUDGE_CONCURRENCY,
    judge_base_url: JudgeBaseUrlsOption = None,
    judge_temperature: JudgeTemperatureOption = JUDGE_TEMPERATURE_DEFAULT,
    judge_max_tokens: JudgeMaxTokensOption = JUDGE_MAX_TOKENS_DEFAULT,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    seed: Seed = 0,
    patterns_dir: PatternsDirOption = None,
    wait: Wait = False,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """Judge stored episodes (without regenerating them) and print IPE, MPD and holistic scores.

    Judgements are appended next to the episodes (judgements-*.jsonl), keyed by episode, character,
    judge, run, prompt version and batch size: re-running adds only what is missing. The scores go
    to scores-*.json beside them (input of `eval report` and `eval alignment`). With several --judge,
    each judges in turn into the same judgement files and gets its own scores-*.json; then their
    agreement (Krippendorff's alpha across judges and across runs, the judges' per-item aggregate, the
    items they disagree on most, and the social-desirability probe) is printed and written into each.
    """
    from humanllm.evaluation import (
        JudgeOptions,
        JudgeRunReport,
        RichTracker,
        agreement_source,
        find_source,
        judge_source,
        score_results,
        scores_path,
    )
    from humanllm.simulation import StoreLock

    g = graph(patterns_dir)
    source = find_source(data)
    # one writer per judgement folder: a second run fails here at once (or, with --wait, waits its turn)
    with StoreLock(source.judgements, wait=wait):
        with options_config():
            options = JudgeOptions(
                runs=runs,
                batch_size=batch_size,
                retries=retries,
                holistic=holistic_choice(holistic, no_holistic),
                concurrency=concurrency,
                seed=seed,
                na_as_zero=na_as_zero,
                bootstrap=bootstrap,
            )
            models = [
                _judge_model(spec, url, judge_temperature, judge_max_tokens, timeout, threads)
                for spec, url in zip(judge, base_urls(judge, judge_base_url), strict=True)
            ]
        distinct_judges(models)

        async def judge_all() -> list[JudgeRunReport]:
            # one event loop for every judge: judges on one endpoint share its HTTP client, which a second
            # loop could not use
            reports = []
            for model in models:
                with RichTracker(err_console, disable=as_json) as tracker:
                    reports.append(await judge_source(source, model=model, graph=g, options=options, tracker=tracker))
            return reports

        scored = [
            Scored(
                str(model.spec),
                run_report,
                score_results(
                    data, source, judge=str(model.spec), options=options, graph=g, generation=model.generation()
                ),
                scores_path(data, source, str(model.spec)),
            )
            for model, run_report in zip(models, run_interruptibly(judge_all()), strict=True)
        ]
        agreement = None
        if len(models) > 1:
            agreement = agreement_source(
                source, judges=[(str(m.spec), m.generation()) for m in models], options=options, graph=g
            )
            for one in scored:
                one.results.agreement = agreement
        for one in scored:
            one.results.save(one.path)
            save_resolved(ctx, beside(one.path))
    if agreement is None:
        print_scored(scored[0], as_json)
    else:
        print_panel(scored, agreement, as_json)
    score_exit([one.judging for one in scored])


@app.command("run")
def run(
    ctx: typer.Context,
    model: Annotated[list[str], typer.Option("--model", help="Model under test (repeatable).")],
    judge: JudgeSpecOption,
    data: Annotated[Path, typer.Option("--data", help="Split folder (from `humanllm data split`) or a JSONL file.")],
    mode: Annotated[
        str,
        typer.Option(callback=one_of("replay", "live"), help="replay (teacher-forced) or live (with a partner model)."),
    ] = "replay",
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            callback=one_of("json", "sharegpt"),
            help="How the model under test is prompted: json (the character prompt, a JSON turn) or sharegpt "
            "(exactly the system prompt and history of `data export-sft`, a plain [thought] (action) speech turn: "
            "for models trained on that data).",
        ),
    ] = "json",
    partner_model: Annotated[
        str, typer.Option(help="live mode: the fixed model that plays the other characters.")
    ] = MODEL,
    out: Annotated[Path, typer.Option(help="Folder for played episodes, judgements and results.")] = Path("runs/eval"),
    runs: RunsOption = RUNS,
    batch_size: BatchSizeOption = BATCH_SIZE,
    retries: RetriesOption = RETRIES,
    holistic: HolisticOption = HOLISTIC,
    no_holistic: NoHolisticOption = False,
    na_as_zero: NaAsZeroOption = False,
    bootstrap: BootstrapOption = BOOTSTRAP,
    guidance: Annotated[
        bool, typer.Option(help="Give the model under test the private pattern guidance used in simulation.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many episodes per split.")] = None,
    concurrency: JudgeConcurrencyOption = JUDGE_CONCURRENCY,
    base_url: BaseUrlOption = None,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    judge_base_url: JudgeBaseUrlOption = None,
    judge_temperature: JudgeTemperatureOption = JUDGE_TEMPERATURE_DEFAULT,
    judge_max_tokens: JudgeMaxTokensOption = JUDGE_MAX_TOKENS_DEFAULT,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    seed: Seed = 0,
    patterns_dir: PatternsDirOption = None,
    wait: Wait = False,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """Benchmark models: each plays every judged character of the eval splits, then is judged.

    Writes OUT/results-<run>.json, .md and .png (models x IPE / MPD / holistic, mean ± SD per
    split), where <run> is the mode (`replay-sharegpt` etc. with --format sharegpt). Played episodes
    and judgements are kept under OUT/<model>/<run>/, so re-running resumes. An --out that cannot
    be written fails before any model call.
    """
    from humanllm.evaluation import RichTracker, results_markdown, results_png, results_tables, run_benchmark
    from humanllm.simulation import StoreLock

    check_output_dir(out)  # resumes: files already there are expected
    g = graph(patterns_dir)
    config, options, settings, judge_model = _benchmark_inputs(
        models=model,
        judge=judge,
        data=data,
        out=out,
        mode=mode,
        partner_model=partner_model,
        guidance=guidance,
        limit=limit,
        runs=runs,
        batch_size=batch_size,
        retries=retries,
        holistic=holistic_choice(holistic, no_holistic),
        na_as_zero=na_as_zero,
        concurrency=concurrency,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        judge_base_url=judge_base_url,
        judge_temperature=judge_temperature,
        judge_max_tokens=judge_max_tokens,
        timeout=timeout,
        threads=threads,
        seed=seed,
        format_=format_,
        bootstrap=bootstrap,
    )
    with StoreLock(out, wait=wait):  # one benchmark per output folder; the stores inside lock themselves
        with RichTracker(err_console, disable=as_json) as tracker:
            results = run_interruptibly(
                run_benchmark(config, judge=judge_model, graph=g, options=options, settings=settings, tracker=tracker)
            )
        stem = out / f"results-{config.run_name}"
        stem.with_suffix(".md").write_text(results_markdown(results), encoding="utf-8")
        stem.with_suffix(".png").write_bytes(results_png(results))
        save_resolved(ctx, beside(stem))
    if as_json:
        print_json(results)
    else:
        for table in results_tables(results, breakdowns=False):
            print_table(table)
        for note in results.notes:
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
        console.print(f"results: {stem}.json, .md and .png (HTML: `humanllm eval report {stem}.json`)", soft_wrap=True)
        print_split_warnings(results)
    _benchmark_exit(results, options)


@app.command("paper")
def paper(
    ctx: typer.Context,
    model: Annotated[list[str], typer.Option("--model", help="Model under test (repeatable): one row each.")],
    judge: JudgeSpecOption,
    data: Annotated[
        Path, typer.Option("--data", help="Split folder from `humanllm data split` (id_eval / ood_eval / mixed_eval).")
    ],
    out: Annotated[Path, typer.Option(help="Folder for played episodes, judgements and the table.")] = Path(
        "runs/paper"
    ),
    runs: RunsOption = RUNS,
    mode: Annotated[
        str,
        typer.Option(callback=one_of("replay", "live"), help="replay (teacher-forced) or live (with a partner model)."),
    ] = "replay",
    partner_model: Annotated[
        str, typer.Option(help="live mode: the fixed model that plays the other characters.")
    ] = MODEL,
    batch_size: BatchSizeOption = BATCH_SIZE,
    retries: RetriesOption = RETRIES,
    holistic: HolisticOption = HOLISTIC,
    no_holistic: NoHolisticOption = False,
    na_as_zero: NaAsZeroOption = False,
    guidance: Annotated[
        bool, typer.Option(help="Give the model under test the private pattern guidance used in simulation.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many episodes per split.")] = None,
    concurrency: JudgeConcurrencyOption = JUDGE_CONCURRENCY,
    base_url: BaseUrlOption = None,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    judge_base_url: JudgeBaseUrlOption = None,
    judge_temperature: JudgeTemperatureOption = JUDGE_TEMPERATURE_DEFAULT,
    judge_max_tokens: JudgeMaxTokensOption = JUDGE_MAX_TOKENS_DEFAULT,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    seed: Seed = 0,
    patterns_dir: PatternsDirOption = None,
    wait: Wait = False,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """The paper's main table: each model plays the ID, OOD and Mixed eval splits, is judged --runs times,
    and gets IPE / MPD mean ± SD per split and averaged over the three (one row per model).

    Writes OUT/paper.md, .png and .json (plus `eval run`'s OUT/results-<mode>.json with every breakdown).
    An empty split is named and flagged, never averaged in silently. Played episodes and judgements are
    kept under OUT/<model>/<mode>/: running the same command again pays only for what is missing.
    """
    from humanllm.evaluation import (
        RichTracker,
        paper_png,
        paper_table,
        paper_tables,
        run_benchmark,
        split_episodes,
        write_paper,
    )
    from humanllm.simulation import StoreLock

    check_output_dir(out)  # resumes: files already there are expected
    episodes = split_episodes(data, limit)  # not a split folder: fails before any model call
    g = graph(patterns_dir)
    config, options, settings, judge_model = _benchmark_inputs(
        models=model,
        judge=judge,
        data=data,
        out=out,
        mode=mode,
        partner_model=partner_model,
        guidance=guidance,
        limit=limit,
        runs=runs,
        batch_size=batch_size,
        retries=retries,
        holistic=holistic_choice(holistic, no_holistic),
        na_as_zero=na_as_zero,
        concurrency=concurrency,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        judge_base_url=judge_base_url,
        judge_temperature=judge_temperature,
        judge_max_tokens=judge_max_tokens,
        timeout=timeout,
        threads=threads,
        seed=seed,
    )
    with StoreLock(out, wait=wait):  # one benchmark per output folder; the stores inside lock themselves
        with RichTracker(err_console, disable=as_json) as tracker:
            results = run_interruptibly(
                run_benchmark(config, judge=judge_model, graph=g, options=options, settings=settings, tracker=tracker)
            )
        table = paper_table(results, episodes, out / f"results-{config.mode}.json")
        paths = write_paper(table, out, paper_png(table))
        save_resolved(ctx, out / "paper.config.yaml")
    if as_json:
        print_json(table)
    else:
        for shown in paper_tables(table):
            print_table(shown)
        for note in [*table.notes, *results.notes]:
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
        console.print(f"table: {', '.join(str(p) for p in paths)}", soft_wrap=True)
    _benchmark_exit(results, options)


def _benchmark_inputs(
    *,
    models: list[str],
    judge: str,
    data: Path,
    out: Path,
    mode: str,
    partner_model: str,
    guidance: bool,
    limit: int | None,
    runs: int,
    batch_size: int,
    retries: int,
    holistic: HolisticChoice,
    na_as_zero: bool,
    concurrency: int,
    base_url: str | None,
    temperature: float,
    max_tokens: int,
    judge_base_url: str | None,
    judge_temperature: float,
    judge_max_tokens: int,
    timeout: float,
    threads: int | None,
    seed: int,
    format_: str = "json",
    bootstrap: int = BOOTSTRAP,
) -> tuple[BenchmarkConfig, JudgeOptions, ModelSettings, RoleModel]:
    """What `eval run` and `eval paper` benchmark, and how: the config, judge options, model settings, judge."""
    from humanllm.evaluation import BenchmarkConfig, JudgeOptions
    from humanllm.llm import ModelSettings

    with options_config():
        config = BenchmarkConfig(
            models=models,
            data=data,
            out=out,
            mode="live" if mode == "live" else "replay",
            format="sharegpt" if format_ == "sharegpt" else "json",
            partner=partner_model,
            guidance=guidance,
            limit=limit,
            concurrency=concurrency,
            seed=seed,
        )
        options = JudgeOptions(
            runs=runs,
            batch_size=batch_size,
            retries=retries,
            holistic=holistic,
            concurrency=concurrency,
            seed=seed,
            na_as_zero=na_as_zero,
            bootstrap=bootstrap,
        )
        settings = ModelSettings(
            temperature=temperature,
            max_tokens=max_tokens,
            base_url=base_url,
            timeout_s=timeout,
            threads=threads,
            seed=seed,
        )
        judge_model = _judge_model(judge, judge_base_url, judge_temperature, judge_max_tokens, timeout, threads)
    return config, options, settings, judge_model


def _benchmark_exit(results: EvalResults, options: JudgeOptions) -> None:
    """Exit 3 or 4 (with one summary) when plays failed or judgements are missing; return when all finished."""
    plays_failed = len(results.notes)  # run_benchmark notes each character a model could not play
    judgements_missing, judged = _judgement_counts(results, options)
    failed = plays_failed + judgements_missing
    code = batch_code(failed=failed, finished=judged)
    if code:
        parts = [f"{plays_failed} play(s) failed"] if plays_failed else []
        parts += [f"{judgements_missing} judgement(s) missing"] if judgements_missing else []
        fail_batch(
            code,
            " and ".join(parts),
            results.notes[0] if results.notes else "",
            "see the warnings above; fix the cause and run the same command again: played episodes and stored "
            "judgements are kept, only what is missing runs",
        )


def _judgement_counts(results: EvalResults, options: JudgeOptions) -> tuple[int, int]:
    """(missing, stored) judgements over every model's played episodes: each judged character x run."""
    from humanllm.agents.judge import judged_characters
    from humanllm.evaluation import find_source

    missing = stored = 0
    for label, report in results.reports.items():
        source = results.sources.get(label)
        if source is None:
            continue
        episodes = find_source(Path(source.data)).episodes()
        expected = sum(len(judged_characters(episode)) for episode, _split in episodes) * options.runs
        stored += report.coverage.judgements
        missing += max(0, expected - report.coverage.judgements)
    return missing, stored


@app.command("annotate-export")
def annotate_export(
    data: Annotated[Path, typer.Argument(help="Store folder, split folder, or one JSONL file of episodes.")],
    out: Annotated[Path, typer.Option("--out", help="File for the raters: .csv or .jsonl.")],
    samples: Annotated[
        int | None, typer.Option(min=1, help="Export a seeded sample of this many characters (default: all).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
) -> None:
    """Write the judge's items for human raters, one row per item with the transcript; fill human_score.

    Checklist items take -1 (the opposite shows), 0 (not shown) or +1 (shown); the holistic rows take 0-100.
    An existing --out (perhaps already rated) needs --force.
    """
    from humanllm.evaluation import annotation_items, find_source, write_annotations

    check_output_file(out, force=force)
    rows = annotation_items(find_source(data).episodes(), library(patterns_dir), samples=samples, seed=seed)
    write_annotations(rows, out)
    characters = len({(r.episode_id, r.character) for r in rows})
    console.print(
        f"wrote {len(rows)} items of {characters} characters to {out}; fill the human_score column", soft_wrap=True
    )


@app.command("alignment")
def alignment(
    human: Annotated[Path, typer.Option("--human", help="The filled-in file from `eval annotate-export`.")],
    judge: Annotated[
        Path, typer.Option("--judge", help="Judge results: a scores/results JSON, a judgement folder or JSONL file.")
    ],
    judge_spec: Annotated[
        str | None, typer.Option(help="Use only this judge's judgements (when the folder holds several).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement of the judge with people, per metric: Pearson and Spearman r, Cohen's kappa on ternary items."""
    from humanllm.evaluation import align, judge_ratings, load_judgements, read_ratings

    people = read_ratings(human)
    if not people:
        raise ConfigError(f"{human} has no filled-in human_score: rate some items first")
    judged = judge_ratings(load_judgements(judge, judge=judge_spec))
    if not judged:
        raise ConfigError(f"{judge} has no judge scores: run `humanllm eval score` on the same episodes first")
    report = align(people, judged)
    if as_json:
        print_json(report)
        return

    def num(value: float | None, digits: int = 2) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    table = RichTable(title="Judge vs people", caption=f"{report.unmatched} human-rated items have no judge score")
    for header in ("metric", "items", "Pearson r", "Spearman r", "kappa", "samples", "sample r", "human", "judge"):
        table.add_column(header, justify="left" if header == "metric" else "right")
    for metric, m in report.metrics.items():
        table.add_row(
            metric,
            str(m.items),
            num(m.pearson),
            num(m.spearman),
            num(m.kappa),
            str(m.samples),
            num(m.sample_pearson),
            num(m.human, 1),
            num(m.judge, 1),
        )
    console.print(table)


@app.command("report")
def report(
    results_path: Annotated[
        Path, typer.Argument(help="results-<mode>.json of `eval run`, or scores-*.json of `eval score`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    transcripts: Annotated[int, typer.Option(min=0, help="Judged transcripts shown per model or data set.")] = 5,
    force: ForceOption = False,
) -> None:
    """One self-contained HTML page: tables, plots (embedded) and judged transcripts with their verdicts.

    An existing --out needs --force.
    """
    from humanllm.evaluation import EvalResults, collect_transcripts, render_report

    check_output_file(out, force=force)
    results = EvalResults.load(results_path)
    page = render_report(results, collect_transcripts(results, per_label=transcripts))
    write_text_atomic(out, page)
    console.print(f"wrote {out} ({len(page) // 1024} KB)", soft_wrap=True)
    print_split_warnings(results)


app.command("export-inspect")(export_inspect)
