"""`humanllm models`: which backends exist, which work here, and the default."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humanllm.cli._output import console, print_json


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List model backends, whether each is available on this machine, and the default."""
    from humanllm.llm import DEFAULT_SPEC, backend_statuses

    statuses = backend_statuses()
    if as_json:
        print_json(
            {
                "default": DEFAULT_SPEC,
                "backends": [s.__dict__ for s in statuses],
            }
        )
        return
    table = Table(title=f"model backends (default: {DEFAULT_SPEC})")
    for column in ("spec", "available", "detail"):
        table.add_column(column)
    for status in statuses:
        mark = "[green]yes[/]" if status.available else "[yellow]no[/]"
        table.add_row(escape(status.form), mark, escape(status.detail))  # '.[gpu]' is not markup
    console.print(table)
