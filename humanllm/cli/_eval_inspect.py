"""`humanllm eval export-inspect`: our results as inspect_ai logs (the optional `inspect` extra, imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from humanllm.cli._options import ForceOption
from humanllm.cli._output import console
from humanllm.core import check_output_file
from humanllm.errors import ConfigError

INSTALL_HINT = 'inspect_ai is not installed: pip install "humanllm[inspect]"'


def export_inspect(
    results_path: Annotated[
        Path, typer.Argument(help="results-<mode>.json of `eval run`, or scores-*.json of `eval score`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Log file to write: LOG.eval (inspect's format) or LOG.json.")],
    force: ForceOption = False,
) -> None:
    r"""Write the results as an inspect_ai log that `inspect view` opens: one sample per judged character and
    judge run (an epoch each) with every verdict, unscored and n/a kept as such; our mean, SD and bootstrap
    interval as the log's results. Several models or data sets: one log each, LOG-<label>.eval.

    Needs the `inspect` extra (pip install "humanllm\[inspect]"). An existing --out needs --force.
    """
    try:
        from humanllm.evaluation.inspect import export_inspect as export
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "inspect_ai":
            raise ConfigError(INSTALL_HINT) from exc
        raise
    check_output_file(out, force=force)
    for path in export(results_path, out):
        console.print(f"wrote {escape(str(path))}", soft_wrap=True)
    console.print(f"open it with: inspect view --log-dir {escape(str(out.parent))}", soft_wrap=True)
    if out.suffix == ".json":
        console.print(
            "note: inspect view lists a .json log only when its name starts with a timestamp "
            "(2026-01-01T00-00-00_...json); .eval logs are listed under any name",
            soft_wrap=True,
        )
