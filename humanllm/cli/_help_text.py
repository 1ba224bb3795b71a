"""Help text that wraps to the terminal: single line breaks inside a paragraph become spaces.

typer's rich help keeps every line break of a docstring after its first paragraph, so text wrapped
at 100 columns in the source comes out ragged in an 80-column terminal. A paragraph is reflowed
unless it is a block on purpose: one that starts with `\\b` (click's "keep as is"), or holds a list
item or an indented line (examples, option tables).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typer._click import Command

_BLOCK_LINE = re.compile(r"^(\s|[-*•]\s|\d+[.)]\s|\$ |\x08)")
"""A line that makes its paragraph a block: indented, a list item, a shell line, or click's `\\b` mark."""


def reflow(text: str) -> str:
    """`text` with each ordinary paragraph's lines joined by spaces; blocks kept as written."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if len(lines) > 1 and not any(_BLOCK_LINE.match(line) for line in lines if line):
            paragraph = " ".join(line.strip() for line in lines)
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def reflow_command(command: Command) -> Command:
    """`command` and every command below it, their help reflowed (in place); returns `command`."""
    import inspect

    if command.help:
        command.help = reflow(inspect.cleandoc(command.help))
    for child in getattr(command, "commands", {}).values():
        reflow_command(child)
    return command
