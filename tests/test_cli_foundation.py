from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from humanllm import __version__
from humanllm.cli._app import register

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(register(), ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_models_json_lists_every_backend_and_the_default() -> None:
    result = runner.invoke(register(), ["models", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["default"] == "local"
    by_name = {b["backend"]: b for b in data["backends"]}
    assert set(by_name) == {"local", "openai", "langchain", "vllm", "hf", "fake"}
    assert by_name["local"]["available"] is True
    assert by_name["openai"]["available"] is False  # no key in tests


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["patterns", "show", "talkativ"], "did you mean 'talkative'")],
)
def test_errors_are_one_line_with_nonzero_exit(args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "humanllm", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 1
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_ctrl_c_whose_cancellation_is_swallowed_still_ends_as_interrupted() -> None:
    """Python 3.11's wait_for can swallow a cancellation; the command must still end interrupted (130)."""
    import asyncio
    import signal

    from humanllm.cli._async import run_interruptibly

    async def swallowing() -> str:
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the command runs
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "ran on"  # what a swallowed cancellation looks like to the caller
        return "never interrupted"

    with pytest.raises(KeyboardInterrupt):
        run_interruptibly(swallowing())
    assert asyncio.run(_plain()) == "done"  # the previous SIGINT handling is restored


async def _plain() -> str:
    return "done"
