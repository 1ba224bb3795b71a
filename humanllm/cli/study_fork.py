"""`humanllm study fork`: keep the start of a stored episode, change one thing, play the rest N times, compare.

Exit codes: 0 every continuation and judgement is done (now or before); 2 a usage error (an option value the
episode or the library cannot take: unknown episode id, turn out of range, unknown pattern or character, an
excluded pair, both --give and --withhold, nothing changed, an --out holding another fork, ...); 1 any other
error, in one line; 3 some
continuations or judgements failed (run the same command again to do only what is missing); 4 every one
failed; 130 interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from humanllm.cli._async import run_interruptibly
from humanllm.cli._config_file import RESOLVED_NAME, ConfigOption, save_resolved
from humanllm.cli._eval_output import fail_batch
from humanllm.cli._exit import batch_code
from humanllm.cli._options import (
    BATCH_SIZE,
    JUDGE_CONCURRENCY,
    JUDGE_MAX_TOKENS_DEFAULT,
    JUDGE_TEMPERATURE_DEFAULT,
    MAX_TOKENS,
    MODEL,
    RETRIES,
    TEMPERATURE,
    TIMEOUT_S,
    BaseUrlOption,
    BatchSizeOption,
    HolisticOption,
    JsonOption,
    JudgeBaseUrlOption,
    JudgeConcurrencyOption,
    JudgeMaxTokensOption,
    JudgeTemperatureOption,
    MaxTokensOption,
    ModelOption,
    NaAsZeroOption,
    NoHolisticOption,
    PatternsDirOption,
    RetriesOption,
    RpmOption,
    RunsOption,
    TemperatureOption,
    ThreadsOption,
    TimeoutOption,
    graph,
    holistic_choice,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli._validate import options_config, usage_error
from humanllm.core import check_output_dir

if TYPE_CHECKING:
    from humanllm.study import ForkResult


def fork(
    ctx: typer.Context,
    episode: Annotated[
        str,
        typer.Argument(
            help="The episode's id (or a unique start of it) in --data, or a file holding one episode (the JSON "
            "`humanllm simulate` writes)."
        ),
    ],
    at_turn: Annotated[
        int, typer.Option("--at-turn", min=1, help="K: keep turns 1..K-1; turn K is the first that differs.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder of the fork (created; re-running resumes it).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Store folder, split folder or JSONL file holding the episode."),
    ] = None,
    edit: Annotated[
        str | None,
        typer.Option(
            "--edit", help="Replace turn K with this line, '\\[thought] (action) speech', and go on from there."
        ),
    ] = None,
    give: Annotated[str | None, typer.Option("--give", help="Give this pattern to one character (--to).")] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Who gets --give: a name, protagonist, supporting or supporting:N (default: protagonist)."
        ),
    ] = None,
    withhold: Annotated[
        str | None, typer.Option("--withhold", help="Take this pattern away from the character carrying it.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Who loses --withhold, when several characters carry it.")
    ] = None,
    replicates: Annotated[int, typer.Option("--replicates", min=1, help="Continuations to play.")] = 3,
    judge_every: Annotated[
        int,
        typer.Option("--judge-every", min=1, help="Judge the transcript at turns K, K+N, ... (and always at the end)."),
    ] = 1,
    model: ModelOption = MODEL,
    base_url: BaseUrlOption = None,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    judge: Annotated[
        str, typer.Option("--judge", help="Judge model spec, e.g. openai:gpt-5-mini (see `humanllm models`).")
    ] = MODEL,
    judge_base_url: JudgeBaseUrlOption = None,
    judge_temperature: JudgeTemperatureOption = JUDGE_TEMPERATURE_DEFAULT,
    judge_max_tokens: JudgeMaxTokensOption = JUDGE_MAX_TOKENS_DEFAULT,
    runs: RunsOption = 1,
    batch_size: BatchSizeOption = BATCH_SIZE,
    retries: RetriesOption = RETRIES,
    holistic: HolisticOption = "off",
    no_holistic: NoHolisticOption = False,
    na_as_zero: NaAsZeroOption = False,
    concurrency: JudgeConcurrencyOption = JUDGE_CONCURRENCY,
    episode_retries: Annotated[int, typer.Option(min=0, help="Extra tries for a failing continuation.")] = 3,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    rpm: RpmOption = None,
    seed: Annotated[int, typer.Option(help="Judge run r samples with seed SEED + r.")] = 0,
    patterns_dir: PatternsDirOption = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another command writes --out, wait for it instead of failing.")
    ] = False,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """Fork a stored episode: keep turns 1..K-1, change one thing, play the rest --replicates times, compare.

    The change is one of: --edit (turn K rewritten), --give PATTERN --to NAME, or --withhold PATTERN
    [--from NAME]. Each continuation is an ordinary episode in OUT (episodes-fork.jsonl); it and the
    original are judged on the same items (each character's patterns plus the given one) on the
    transcript up to each turn from K to the end, and OUT/fork.md and fork.csv compare them turn by turn:
    the original's score, the continuations' mean, min, max and agreement, and the items that end away
    from the original. Re-running resumes: what is stored is never played or judged again.

    Exit codes: 0 all done; 2 a request the episode cannot take (one line naming the option); 1 another
    error; 3 some continuations or judgements failed (run it again); 4 all of them failed.
    """
    from humanllm.evaluation import JudgeOptions, RichTracker
    from humanllm.llm import ModelSettings, build_role_model, canonical_spec, parse_spec
    from humanllm.simulation import RunOptions
    from humanllm.study import ForkInputError, ForkRequest, check_fork_folder, find_episode, fork_episode, plan_fork

    check_output_dir(out)  # resumes: files already there are expected
    g = graph(patterns_dir)
    with options_config():
        settings = ModelSettings(
            temperature=temperature,
            max_tokens=max_tokens,
            base_url=base_url,
            timeout_s=timeout,
            threads=threads,
            requests_per_minute=rpm,
        )
        judge_settings = ModelSettings(
            temperature=judge_temperature,
            max_tokens=judge_max_tokens,
            base_url=judge_base_url,
            timeout_s=timeout,
            threads=threads,
            requests_per_minute=rpm,
        )
        options = JudgeOptions(
            runs=runs,
            batch_size=batch_size,
            retries=retries,
            holistic=holistic_choice(holistic, no_holistic),
            concurrency=concurrency,
            seed=seed,
            na_as_zero=na_as_zero,
        )
        run_options = RunOptions(concurrency=concurrency, episode_retries=episode_retries)
    request = ForkRequest(
        at_turn=at_turn, edit=edit, give=give, to=to, withhold=withhold, from_=from_, replicates=replicates
    )
    with usage_error():
        spec = canonical_spec(model)  # an unknown backend is a bad --model value
        generation = settings.generation(remote=parse_spec(spec).backend == "openai")
    try:
        source = find_episode(episode, data)
        specs = plan_fork(source, request, g, model=spec, generation=generation)
        check_fork_folder(out, specs[0])
    except ForkInputError as exc:
        hint = " / ".join(f"'{option}'" for option in exc.option.split(" / "))
        raise typer.BadParameter(str(exc), param_hint=hint) from exc
    character = build_role_model("character", spec, settings)
    judge_model = build_role_model("judge", judge, judge_settings)
    save_resolved(ctx, out / RESOLVED_NAME)
    with RichTracker(err_console, disable=as_json) as tracker:
        result = run_interruptibly(
            fork_episode(
                source,
                specs,
                out=out,
                character=character,
                judge=judge_model,
                graph=g,
                judge_options=options,
                run_options=run_options,
                judge_every=judge_every,
                data=data if data is not None else Path(episode),
                tracker=tracker,
            )
        )
    if as_json:
        print_json(result)
    else:
        _print(result)
    _exit(result, requested=len(specs))


def _print(result: ForkResult) -> None:
    run, judging = result.run, result.judging
    console.print(
        f"forked episode {result.source} at turn {result.at_turn}: {escape(result.change)}\n"
        f"continuations: {run.done} new, {run.already_done} already done, {run.failed} failed of {run.requested}; "
        f"judged at turns {_turns(result.turns)}: {judging.judged} new, {judging.already_done} already done, "
        f"{judging.failed} failed of {judging.requested}",
        soft_wrap=True,
    )
    if result.diverging:
        table = RichTable(title="items that diverge from the original by the end")
        for header in ("character", "item", "original", "continuations", "range", "agreement"):
            table.add_column(header, justify="left" if header in ("character", "item") else "right")
        for row in result.diverging:
            table.add_row(
                escape(row.character),
                escape(row.item_id),
                _signed(row.original),
                _signed(row.mean),
                f"{_signed(row.min)}..{_signed(row.max)}",
                "–" if row.agreement is None else f"{100 * row.agreement:.0f}%",
            )
        console.print(table)
    else:
        console.print("no item diverges from the original by the end")
    console.print(
        f"report: {' and '.join(str(path) for path in result.files)}; episodes and judgements in {result.out}",
        soft_wrap=True,
    )


def _turns(turns: list[int]) -> str:
    if not turns:
        return "none"
    return str(turns[0]) if len(turns) == 1 else f"{turns[0]}-{turns[-1]}"


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return "0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def _exit(result: ForkResult, *, requested: int) -> None:
    """Exit 3 or 4 (with one summary on stderr) when continuations or judgements failed."""
    unfinished = requested - len(result.continuations)
    failed = unfinished + result.judging.failed
    code = batch_code(failed=failed, finished=len(result.continuations))
    if code:
        reason = result.run.stopped_reason or next(iter(result.judging.failures), "")
        fail_batch(
            code,
            f"{unfinished} of {requested} continuations and {result.judging.failed} judgements did not finish",
            reason,
            f"fix the cause and run the same command again: what is stored in {result.out} is kept "
            f"(`humanllm data status {result.out}` lists the reasons)",
        )
