"""`humanllm patterns discriminate`: do a family's checklists tell its members apart on played transcripts?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humanllm.cli._async import run_interruptibly
from humanllm.cli._options import (
    JUDGE_MAX_TOKENS_DEFAULT,
    JUDGE_TEMPERATURE_DEFAULT,
    MAX_TOKENS,
    MODEL,
    TEMPERATURE,
    TIMEOUT_S,
    BaseUrlOption,
    ForceOption,
    JsonOption,
    JudgeBaseUrlOption,
    JudgeConcurrencyOption,
    JudgeMaxTokensOption,
    JudgeSpecOption,
    JudgeTemperatureOption,
    MaxTokensOption,
    ModelOption,
    PatternsDirOption,
    TemperatureOption,
    ThreadsOption,
    TimeoutOption,
    graph,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli._validate import parse_turns, turn_bounds
from humanllm.core import check_output_file, write_text_or_rescue

if TYPE_CHECKING:
    from humanllm.evaluation import DiscriminationReport


def discriminate_command(
    family: Annotated[
        str,
        typer.Argument(
            help="Two or more comma-separated patterns (e.g. 'quiet,shy,reserved'), or one pattern: it and "
            "the siblings its card names in contrast_with.",
            show_default=False,
        ),
    ],
    model: ModelOption = MODEL,
    base_url: BaseUrlOption = None,
    judge: JudgeSpecOption = MODEL,
    judge_base_url: JudgeBaseUrlOption = None,
    replicates: Annotated[int, typer.Option(min=1, help="Plays per member (seeds SEED, SEED+1, ...).")] = 3,
    turns: Annotated[str, typer.Option(callback=turn_bounds, metavar="MIN-MAX", help="Turn bounds MIN-MAX.")] = "6-8",
    guidance: Annotated[bool, typer.Option(help="Give the carrier private guidance from its card's markers.")] = True,
    seed: Annotated[int, typer.Option(help="First seed of the plays; the judge samples with it too.")] = 0,
    concurrency: JudgeConcurrencyOption = 4,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    judge_temperature: JudgeTemperatureOption = JUDGE_TEMPERATURE_DEFAULT,
    judge_max_tokens: JudgeMaxTokensOption = JUDGE_MAX_TOKENS_DEFAULT,
    timeout: TimeoutOption = TIMEOUT_S,
    threads: ThreadsOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write the report as JSON to this file.")] = None,
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Play each member of a near-synonym family, score every play on every member's checklist.

    Each member is played REPLICATES times in a short two-character episode where one character
    carries it alone; each play is judged on the checklists of all members. Printed: the confusion
    matrix (rows: the pattern played; columns: the checklist; cells: mean item score x 100, -100..100),
    which should peak on its diagonal, and the items that fail to discriminate (their own pattern's
    plays do not score them higher than some sibling's). With the bundled model the numbers only show
    the machinery works; use a real endpoint for a meaningful matrix.
    """
    from humanllm.agents.director import TurnRules
    from humanllm.evaluation import discriminate, family_of
    from humanllm.llm import ModelSettings, build_role_model
    from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig

    if out is not None:
        check_output_file(out, force=force)
    g = graph(patterns_dir)
    members = family_of(g.library, [name for name in family.split(",") if name.strip()])
    low, high = parse_turns(turns)
    settings = ModelSettings(
        temperature=temperature, max_tokens=max_tokens, base_url=base_url, timeout_s=timeout, threads=threads
    )
    specs = RoleSpecs(writer=model, character=model)
    players = RoleModels.build(SimulationConfig(models=specs, settings=settings))
    judge_model = build_role_model(
        "judge",
        judge,
        ModelSettings(
            temperature=judge_temperature,
            max_tokens=judge_max_tokens,
            base_url=judge_base_url,
            timeout_s=timeout,
            threads=threads,
        ),
    )
    total = len(members) * replicates
    with console.status(f"playing {total} episodes, then judging each on {len(members)} checklists...") as status:
        counts = {"played": 0, "judged": 0}

        def advance(kind: str) -> None:
            counts[kind] += 1
            status.update(f"played {counts['played']}/{total}, judged {counts['judged']}/{total}")

        report = run_interruptibly(
            discriminate(
                members,
                g,
                players=players,
                player_specs=specs,
                judge=judge_model,
                replicates=replicates,
                rules=TurnRules(min_turns=low, max_turns=high),
                seed=seed,
                concurrency=concurrency,
                guidance=guidance,
                on_episode=lambda _: advance("played"),
                on_judged=lambda: advance("judged"),
            )
        )
    if out is not None:
        write_text_or_rescue(out, report.model_dump_json(indent=2), rescue_id="discriminate", what="report")
        err_console.print(f"report written to {out}")
    if as_json:
        print_json(report)
        return
    _print_report(report)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f}"


def _print_report(report: DiscriminationReport) -> None:
    matrix = Table(title="played (rows) x checklist (columns): mean item score x 100")
    matrix.add_column("played")
    for name in report.members:
        matrix.add_column(name, justify="right")
    for played in report.members:
        row = report.matrix.get(played, {})
        cells = []
        for name in report.members:
            text = _cell(row.get(name))
            cells.append(f"[bold]{text}[/]" if name == played else text)
        matrix.add_row(played, *cells)
    console.print(matrix)
    console.print(
        f"{report.diagonal_wins}/{len(report.members)} members score highest on their own checklist; "
        f"{report.unscored} verdict(s) unscored and left out."
    )
    failing = report.failing_items()
    scored = [item for item in report.items if item.discriminates is not None]
    console.print(f"{len(scored) - len(failing)}/{len(scored)} scored items discriminate.")
    if failing:
        table = Table(title="items that do not tell their pattern apart")
        for column in ("pattern", "item", "own", "as well or better on"):
            table.add_column(column, overflow="fold")
        for item in failing:
            table.add_row(
                item.pattern,
                escape(item.question),
                f"{item.own:+.2f}" if item.own is not None else "—",
                ", ".join(item.shared_with),
            )
        console.print(table)
