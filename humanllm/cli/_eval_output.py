"""Printing `humanllm eval` results: tables, split warnings, the summary of a batch that did not finish."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from humanllm.cli._exit import NOTHING_DONE
from humanllm.cli._output import console, err_console

if TYPE_CHECKING:
    from humanllm.evaluation import EvalResults, Table


def print_table(table: Table) -> None:
    """A result table on the terminal: its text columns left, its numbers right."""
    shown = RichTable(title=table.title, caption=table.note or None)
    for index, header in enumerate(table.headers):
        shown.add_column(header, justify="left" if index < table.left else "right", overflow="fold")
    for row in table.rows:
        shown.add_row(*row)
    console.print(shown)


def print_split_warnings(results: EvalResults) -> None:
    """A split with no scored sample, on stderr (with --json the JSON names it in each report's `empty_splits`)."""
    from humanllm.evaluation import split_warnings

    for warning in split_warnings(results):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def fail_batch(code: int, what: str, reason: str, todo: str) -> None:
    """One summary of a batch that did not fully finish (stderr), then exit with `code`."""
    head = "nothing finished: " if code == NOTHING_DONE else ""
    why = f"; first reason: {_clip(reason)}" if reason else ""
    err_console.print(f"[bold red]error:[/] {escape(head + what + why)}\n{escape(todo)}", soft_wrap=True)
    raise typer.Exit(code)


def _clip(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
