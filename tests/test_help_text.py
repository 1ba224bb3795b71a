"""`--help` text wraps to the terminal: docstring line breaks inside a paragraph are not kept."""

from __future__ import annotations

import contextlib
import io

import pytest

from humanllm.cli import run
from humanllm.cli._help_text import reflow


def test_reflow_joins_the_lines_of_a_paragraph() -> None:
    text = "First line\nof the summary.\n\nA second paragraph\nwrapped at\nsome width."
    assert reflow(text) == "First line of the summary.\n\nA second paragraph wrapped at some width."


@pytest.mark.parametrize(
    "block",
    [
        "Steps:\n- one\n- two",
        "Examples:\n  humanllm view runs/store\n  humanllm view a b",
        "\b\nkept\nas is",
        "1. first\n2. second",
    ],
)
def test_reflow_keeps_blocks_as_written(block: str) -> None:
    assert reflow(f"Summary.\n\n{block}") == f"Summary.\n\n{block}"


def test_a_commands_help_is_reflowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["generate", "--help"]) == 0
    # the docstring breaks this sentence after "a"; a 200-column help prints it on one line
    assert "retries failed ones; a token budget stops the run cleanly" in out.getvalue()
