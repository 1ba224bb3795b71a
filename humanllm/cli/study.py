"""`humanllm study ...`: studies over a frozen scenario.

STAND-IN from the FORK branch (i17-fork), only so that `humanllm study fork` can be tested there: the
lead's `cli/study.py` (with `study run` and `study report`) replaces this file; it registers the fork
command the same way, `app.command("fork")(fork)`.
"""

from __future__ import annotations

import typer

from humanllm.cli.study_fork import fork

app = typer.Typer(help="Studies: patterns given or withheld over one frozen scenario; forks of an episode.")
app.command("fork")(fork)
