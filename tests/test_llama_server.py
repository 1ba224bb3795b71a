"""llama-cpp-python's own OpenAI-compatible server on loopback, serving the bundled model.

The real thing, not our mock: it refuses `response_format: json_schema` with a 422 and takes
`json_object` with a schema (grammar-constrained), so `simulate` and `eval score` only pass if
the structured-output chain finds that out and remembers it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from humanllm.llm import local_gguf_path
from tests._workers import CORES_PER_WORKER

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python's server extra is not installed")
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(local_gguf_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            str(CORES_PER_WORKER),
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as reply:
                    json.load(reply)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start; see {log.name}")
                time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # busy in native code: it does not need to end cleanly
            process.kill()
            process.wait(timeout=30)
        log.close()


def _humanllm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "humanllm", *args], capture_output=True, text=True, timeout=900, env=env, cwd=cwd
    )


def test_simulate_and_eval_score_against_llama_cpp_server(llama_server: str, tmp_path: Path) -> None:
    episode_file = tmp_path / "episode.json"
    simulated = _humanllm(
        "simulate",
        "--model",
        "openai:smollm2",
        "--base-url",
        llama_server,
        # one pattern and a short scene: every kind of call is made (draft, checklist, turns, judge
        # batches) with as few of them as the boundary needs (the test is one of CI's longest)
        "--patterns",
        "sunk cost fallacy",
        "--turns",
        "3-4",
        "--seed",
        "3",
        "--timeout",
        "600",
        "--out",
        str(episode_file),
        cwd=tmp_path,
    )
    output = simulated.stdout + simulated.stderr
    assert simulated.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "rejects json_schema" in output  # the 422 was met, recognised and remembered
    episode = json.loads(episode_file.read_text(encoding="utf-8"))
    assert 3 <= len(episode["conversation"]["turns"]) <= 4

    store = tmp_path / "episodes.jsonl"
    store.write_text(json.dumps(episode) + "\n", encoding="utf-8")
    scored = _humanllm(
        "eval",
        "score",
        str(store),
        "--judge",
        "openai:smollm2",
        "--judge-base-url",
        llama_server,
        "--runs",
        "1",
        "--no-holistic",
        # the server has one slot: concurrent calls only queue, and a queued call can outlast a timeout
        "--concurrency",
        "1",
        "--timeout",
        "600",
        "--json",
        cwd=tmp_path,
    )
    output = scored.stdout + scored.stderr
    assert scored.returncode == 0, output[-3000:]
    assert "Traceback" not in output
