"""The mock OpenAI server from a shell: `python -m humanllm.testing.mock_server`, run as a process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from humanllm.testing import MockOpenAIServer
from humanllm.testing.mock_server import mock_server_process, parse_faults

MODULE = "humanllm.testing.mock_server"


def _env() -> dict[str, str]:
    # the child imports this checkout's humanllm (PYTHONPATH as the test run has it)
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}


@contextlib.contextmanager
def served(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The server as a child process and the base URL it printed; killed if the test did not stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()  # printed and flushed before serving
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


def test_it_prints_its_url_serves_chat_and_health_and_stops_cleanly_on_sigterm() -> None:
    with served("--port", "0", "--latency-ms", "5") as (proc, url):
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1"), url
        port = int(url.split(":")[2].split("/")[0])
        assert port > 0  # port 0 asked for a free one: the real one is printed
        client = openai.OpenAI(base_url=url, api_key="not-needed", max_retries=0)
        reply = client.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hello"}], seed=7)
        assert reply.choices[0].message.content
        assert reply.usage is not None and reply.usage.prompt_tokens >= 1
        assert [m.id for m in client.models.list()] == ["mock"]
        assert httpx.get(url.removesuffix("/v1") + "/health", timeout=5).status_code == 200
        assert httpx.get(url.removesuffix("/v1") + "/nothing", timeout=5).status_code == 404
        assert _stop(proc) == 0
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_sigint_also_exits_zero() -> None:
    with served() as (proc, url):
        assert url.endswith("/v1")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_faults_from_the_command_line_reach_the_client() -> None:
    with served("--faults", "500:1.0") as (proc, url):
        answer = httpx.post(url + "/chat/completions", json={"model": "m", "messages": []}, timeout=5)
        assert answer.status_code == 500
        assert _stop(proc) == 0


def test_structured_kind_from_the_command_line() -> None:
    with served("--structured", "json_object") as (proc, url):
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}},
        }
        assert httpx.post(url + "/chat/completions", json=body, timeout=5).status_code == 422  # as llama.cpp's server
        assert _stop(proc) == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "x"], "is not a port number"),
        (["--port", "70000"], "is not a port number"),
        (["--latency-ms", "-3"], "cannot be negative"),
        (["--faults", "boom:0.1"], "KIND:RATE"),
        (["--faults", "429:0.7,500:0.6"], "more than 1"),
        (["--structured", "xml"], "invalid choice"),
        (["--what"], "unrecognized arguments"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, *args], capture_output=True, text=True, env=_env(), timeout=60, check=False
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", MODULE, "--port", str(port)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "pick another --port" in proc.stderr, proc.stderr


def test_parse_faults() -> None:
    assert parse_faults("429:0.05, timeout:0.01") == {"429": 0.05, "timeout": 0.01}
    assert parse_faults("") == {}


def test_per_kind_fault_rates_are_drawn_in_their_proportions() -> None:
    server = MockOpenAIServer(fault_rates={"429": 0.25, "500": 0.25}, seed=3)
    picks = [server._pick_fault() for _ in range(4000)]
    share = {kind: picks.count(kind) / len(picks) for kind in ("429", "500", None)}  # type: ignore[arg-type]
    assert share["429"] == pytest.approx(0.25, abs=0.03)
    assert share["500"] == pytest.approx(0.25, abs=0.03)
    assert share[None] == pytest.approx(0.5, abs=0.03)
    server._server.server_close()  # never started: nothing to shut down


def test_status_answers_health_checks_too_and_requests_are_recorded() -> None:
    with MockOpenAIServer(status=500) as broken:
        assert httpx.get(broken.base_url + "/models", timeout=5).status_code == 500
    with MockOpenAIServer() as server:
        body = {
            "model": "m",
            "seed": 11,
            "messages": [{"role": "system", "content": "you"}, {"role": "user", "content": "x"}],
        }
        assert httpx.post(server.base_url + "/chat/completions", json=body, timeout=5).status_code == 200
        (seen,) = server.requests
        assert seen.seed == 11 and len(seen.system) == 12


def test_mock_server_process_serves_in_a_child_and_stops_on_leaving() -> None:
    with mock_server_process(latency_s=0.01, faults="500:1") as url:
        assert httpx.get(f"{url.removesuffix('/v1')}/health", timeout=10).status_code == 200
        chat = httpx.post(f"{url}/chat/completions", json={"model": "m", "messages": []}, timeout=10)
        assert chat.status_code == 500  # the faults reached the child
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url.removesuffix('/v1')}/health", timeout=2)
