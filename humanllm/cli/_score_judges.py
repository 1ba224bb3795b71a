"""`eval score` with one or more judges: the options, each judge's pass, what is printed, the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from humanllm.cli._eval_output import fail_batch, print_split_warnings, print_table
from humanllm.cli._exit import batch_code
from humanllm.cli._output import console, print_json

if TYPE_CHECKING:
    from humanllm.evaluation import AgreementReport, EvalResults, JudgeRunReport
    from humanllm.llm import RoleModel

JudgesOption = Annotated[
    list[str],
    typer.Option(
        "--judge",
        envvar="HUMANLLM_JUDGE",
        help="Judge model spec, e.g. openai:gpt-5-mini (see `humanllm models`). Repeat it to have several judges "
        "judge the same episodes and report their agreement.",
    ),
]

JudgeBaseUrlsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--judge-base-url",
        envvar="HUMANLLM_JUDGE_BASE_URL",
        help="OpenAI-compatible endpoint of the judge (e.g. a vLLM server). With several --judge: once for all, "
        "or once per --judge in the same order ('' for a judge's default endpoint).",
    ),
]


@dataclass
class Scored:
    """One judge's pass of `eval score`: what it judged now, its scores and where they are saved."""

    judge: str
    judging: JudgeRunReport
    results: EvalResults
    path: Path


def base_urls(judges: list[str], urls: list[str] | None) -> list[str | None]:
    """The endpoint of each judge: none given, one for all, or one per judge in order ('' = the default)."""
    given = [url or None for url in urls or []]
    if len(given) <= 1:
        return [given[0] if given else None] * len(judges)
    if len(given) != len(judges):
        raise typer.BadParameter(
            f"{len(given)} endpoints for {len(judges)} judges: give it once for all judges or once per --judge",
            param_hint="'--judge-base-url'",
        )
    return given


def distinct_judges(models: list[RoleModel]) -> None:
    """A usage error (exit 2) when one judge is given twice: its judgements and scores file would be shared."""
    specs = [str(m.spec) for m in models]
    twice = sorted({spec for spec in specs if specs.count(spec) > 1})
    if twice:
        raise typer.BadParameter(f"{', '.join(twice)} given twice: give each judge once", param_hint="'--judge'")


def print_scored(one: Scored, as_json: bool) -> None:
    """One judge's output (exactly what `eval score` with one --judge prints)."""
    from humanllm.evaluation import results_tables

    if as_json:
        print_json({"judging": one.judging.model_dump(mode="json"), "results": one.results.model_dump(mode="json")})
        return
    for table in results_tables(one.results, breakdowns=False):
        print_table(table)
    _print_judged(one)
    print_split_warnings(one.results)


def _print_judged(one: Scored) -> None:
    report = one.judging
    console.print(
        f"judged {report.judged} now ({report.already_done} already stored, {report.failed} failed) "
        f"in {report.elapsed_s:.1f}s, {report.usage.calls} calls, {report.usage.total_tokens} tokens\n"
        f"scores: {one.path}  (full breakdowns: `humanllm eval report {one.path} --out report.html`)",
        soft_wrap=True,
    )


def print_panel(scored: list[Scored], agreement: AgreementReport, as_json: bool) -> None:
    """Several judges: each one's scores as for one judge, then their agreement."""
    from humanllm.evaluation import agreement_tables, results_tables

    if as_json:
        judges = [
            {
                "judge": one.judge,
                "judging": one.judging.model_dump(mode="json"),
                "results": one.results.model_dump(mode="json", exclude={"agreement"}),
                "scores": str(one.path),
            }
            for one in scored
        ]
        print_json({"judges": judges, "agreement": agreement.model_dump(mode="json")})
        return
    for one in scored:
        console.rule(f"judge {escape(one.judge)}")
        for table in results_tables(one.results, breakdowns=False):
            print_table(table)
        _print_judged(one)
        print_split_warnings(one.results)
    console.rule("agreement of the judges")
    for table in agreement_tables(agreement, {one.judge: next(iter(one.results.reports.values())) for one in scored}):
        print_table(table)
    console.print("agreement: in each judge's scores file (`agreement`)", soft_wrap=True)


def score_exit(reports: list[JudgeRunReport]) -> None:
    """Exit 3 or 4 (with one summary) when judgements failed, over every judge; return when all finished."""
    failed = sum(r.failed for r in reports)
    finished = sum(r.judged + r.already_done for r in reports)
    code = batch_code(failed=failed, finished=finished)
    if code:
        reason = next((reason for r in reports for reason in r.failures), "")
        fail_batch(
            code,
            f"{failed} of {sum(r.requested for r in reports)} judgements failed",
            reason,
            "failed judgements are not stored: fix the cause (see the reason) and run the same command again to "
            "judge only what is missing",
        )
