"""A key planted in the base URL and in the environment never reaches an output, a file or a log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from humanllm.testing import MockOpenAIServer

KEY = "sk-PLANTEDsecret0123456789"
ENV_KEY = "sk-PLANTEDenv0123456789"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "humanllm", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-2000:]
    return output


def _every_written_file(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and not path.is_symlink()]


@pytest.mark.parametrize("status", [None, 401])
def test_a_planted_key_is_never_printed_saved_or_logged(tmp_path: Path, status: int | None) -> None:
    with MockOpenAIServer(status=status) as server:
        leaky = server.base_url.replace("http://", f"http://user:{KEY}@") + f"?api_key={KEY}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update({"OPENAI_API_KEY": ENV_KEY, "OPENAI_BASE_URL": leaky, "HOME": str(tmp_path / "home")})
        work = tmp_path / "work"
        work.mkdir()
        model = ["--base-url", leaky]
        outputs = [
            _run(["models"], work, env),
            _run(["-v", "simulate", "--model", "openai:mock", *model, "--turns", "2-3", "--out", "ep.json"], work, env),
            _run(
                [
                    *("-v", "generate", "--model", "openai:mock", *model, "--n", "1", "--situations", "duty"),
                    *("--turns", "2-3", "--out", "store", "--episode-retries", "0"),
                ],
                work,
                env,
            ),
            _run(
                ["eval", "score", "store", "--judge", "openai:mock", "--judge-base-url", leaky, "--runs", "1"],
                work,
                env,
            ),
            _run(
                [
                    *("patterns", "build", "escalation of commitment", "--from-knowledge"),
                    *("--model", "openai:mock", *model, "--out", "built"),
                ],
                work,
                env,
            ),
            _run(["graph", "annotate", "anchoring", "--model", "openai:mock", *model, "--out", "review"], work, env),
        ]
    for output in outputs:
        assert "PLANTED" not in output, output[-2000:]
    written = _every_written_file(work)
    assert written  # the commands did write their outputs (manifest, attempts, provenance, ...)
    for path in written:
        assert b"PLANTED" not in path.read_bytes(), path
