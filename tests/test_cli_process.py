"""The CLI as a process: exit codes, one-line errors, usage errors and no tracebacks (see README "Exit codes").

Every case runs the console script in a subprocess (`python -m humanllm`), because only the process
shows what `main()` does with click's return codes and exceptions.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from humanllm.cli import _exit
from humanllm.testing import MockOpenAIServer, role_reply

DEAD_URL = "http://127.0.0.1:1/v1"  # nothing listens there: connection refused


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPENAI_") and k not in ("HUMANLLM_PATTERNS_DIR", "COLUMNS", "LINES")
    }
    env.update(
        HOME=str(home / "home"),
        XDG_CACHE_HOME=str(home / "cache"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        NO_COLOR="1",
    )
    return env


def cli(cwd: Path, *args: str, code: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `humanllm ARGS` in `cwd`; no output may hold a traceback unless --debug is given."""
    proc = subprocess.run(
        [sys.executable, "-m", "humanllm", *args],
        cwd=cwd,
        env=_env(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if "--debug" not in args:
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    if code is not None:
        assert proc.returncode == code, f"exit {proc.returncode}, wanted {code}\n{proc.stdout}\n{proc.stderr}"
    return proc


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


# --- 0 and 1 -----------------------------------------------------------------------------------


def test_version_exits_0(tmp_path: Path) -> None:
    assert "humanllm" in cli(tmp_path, "--version", code=_exit.OK).stdout


def test_graph_check_exits_1_on_an_excluded_pair_and_0_on_a_fine_one(tmp_path: Path) -> None:
    bad = cli(tmp_path, "graph", "check", "talkative, quiet", code=_exit.ERROR)
    assert "cannot be one character's patterns" in bad.stdout
    cli(tmp_path, "graph", "check", "talkative", code=_exit.OK)
    as_json = cli(tmp_path, "graph", "check", "talkative, quiet", "--json", code=_exit.ERROR)
    assert json.loads(as_json.stdout)["valid"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["patterns", "show", "nosuchpattern"], "unknown pattern 'nosuchpattern'"),
        (["simulate", "--model", "nosuch:x"], "unknown model spec 'nosuch:x'"),
        (["data", "status", "no-such-store"], "is not a store folder"),
        (["eval", "report", "missing.json"], "missing.json does not exist"),
    ],
)
def test_a_humanllm_error_is_one_line_and_exits_1(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = cli(tmp_path, *args, code=_exit.ERROR)
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr


def test_debug_shows_the_traceback_of_that_same_error(tmp_path: Path) -> None:
    proc = cli(tmp_path, "--debug", "patterns", "show", "nosuchpattern", code=_exit.ERROR)
    assert "Traceback" in proc.stderr and "UnknownPatternError" in proc.stderr


def test_a_file_that_cannot_be_written_is_one_line_not_a_bug(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")  # missing folders are created; a file is in the way
    proc = cli(tmp_path, "graph", "export", "--out", str(tmp_path / "notes.txt" / "dir" / "g.graphml"), code=1)
    lines = error_lines(proc)
    assert len(lines) == 1 and "is a file, not a folder" in lines[0] and "bug" not in lines[0]


def test_models_hints_keep_their_brackets(tmp_path: Path) -> None:
    proc = cli(tmp_path, "models", code=_exit.OK)
    table = {line.split("│")[1].strip(): line for line in proc.stdout.splitlines() if line.count("│") >= 3}
    vllm = table["vllm:<model>"]
    assert "[gpu]" in vllm or "installed" in vllm  # rich must not eat '.[gpu]' as markup
    assert "fake[:schema]" in table


# --- 2: usage errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nosuchcmd"], "No such command 'nosuchcmd'"),
        (["graph", "nosuchcmd"], "No such command 'nosuchcmd'"),
        (["--nosuch"], "No such option: --nosuch"),
        (["graph", "sample", "--nosuch"], "No such option: --nosuch"),
        (["patterns", "show"], "Missing argument"),
        (["graph", "export"], "Missing option '--out'"),
        (["eval", "score", "store"], "Missing option '--judge'"),
    ],
)
def test_usage_errors_print_usage_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = cli(tmp_path, *args, code=_exit.USAGE)
    assert "Usage: humanllm" in proc.stderr and needle in proc.stderr, proc.stderr


_GENERATE = ["generate", "--out", "store", "--n", "1", "--model", "fake"]

# the values found to end in tracebacks, each through the real process
PROCESS_CASES = [
    ([*_GENERATE, "--turns", "20-12"], "--turns"),
    ([*_GENERATE, "--turns", "0"], "--turns"),
    ([*_GENERATE, "--timeout", "0"], "--timeout"),
    ([*_GENERATE, "--rpm", "0"], "--rpm"),
    ([*_GENERATE, "--budget-tokens", "0"], "--budget-tokens"),
    ([*_GENERATE, "--characters", "99"], "--characters"),
    ([*_GENERATE, "--concurrency", "0"], "--concurrency"),
    (["eval", "score", "store", "--judge", "fake", "--timeout", "0"], "--timeout"),
]
# every other command's numeric and structured options, through the same `run()` in this process (faster)
IN_PROCESS_CASES = [
    (["simulate", "--model", "fake", "--turns", "20-12"], "--turns"),
    (["simulate", "--model", "fake", "--turns", "1-4"], "--turns"),
    (["simulate", "--model", "fake", "--turns", "twelve"], "--turns"),
    (["simulate", "--model", "fake", "--characters", "1"], "--characters"),
    (["simulate", "--model", "fake", "--mode", "nope"], "--mode"),
    (["simulate", "--model", "fake", "--interactive", "--mode", "author"], "--interactive"),
    (["simulate", "--model", "fake", "--temperature", "3"], "--temperature"),
    ([*_GENERATE, "--tpm", "0"], "--tpm"),
    ([*_GENERATE, "--episode-retries", "-1"], "--episode-retries"),
    ([*_GENERATE, "--shard", "3/2"], "--shard"),
    ([*_GENERATE, "--situations", ","], "--situations"),
    ([*_GENERATE, "--mode", "nope"], "--mode"),
    (["generate", "--out", "store", "--model", "fake"], "--bundles"),
    (["eval", "score", "store", "--judge", "fake", "--runs", "0"], "--runs"),
    (["eval", "score", "store", "--judge", "fake", "--concurrency", "0"], "--concurrency"),
    (["eval", "run", "--model", "fake", "--judge", "fake", "--data", "d", "--mode", "nope"], "--mode"),
    (["eval", "run", "--model", "fake", "--judge", "fake", "--data", "d", "--timeout", "0"], "--timeout"),
    (["eval", "run", "--model", "fake", "--judge", "fake", "--data", "d", "--limit", "0"], "--limit"),
    (["eval", "annotate-export", "store", "--out", "a.csv", "--samples", "0"], "--samples"),
    (["eval", "report", "r.json", "--transcripts", "-1"], "--transcripts"),
    (["patterns", "build", "x", "--from-knowledge", "--model", "fake", "--concurrency", "0"], "--concurrency"),
    (["patterns", "build", "x", "--from-knowledge", "--model", "fake", "--max-chars", "0"], "--max-chars"),
    (["graph", "sample", "--n", "0"], "--n"),
    (["graph", "sample", "--characters", "7"], "--characters"),
    (["graph", "sample", "--min-size", "0"], "--min-size"),
    (["graph", "sample", "--min-size", "5", "--max-size", "2"], "--min-size"),
    (["graph", "export", "--out", "g.x", "--format", "nope"], "--format"),
    (["graph", "annotate", "talkative", "--candidates", "0"], "--candidates"),
    (["data", "split", "store", "--eval-size", "0"], "--eval-size"),
    (["data", "export", "store", "--out", "x.jsonl", "--format", "nope"], "--format"),
    (["data", "export-sft", "store", "--out", "x.jsonl", "--format", "nope"], "--format"),
    (["data", "export-sft", "store", "--out", "x.jsonl", "--max-chars", "0"], "--max-chars"),
    (["data", "mix", "--source", "bad", "--out", "m.jsonl"], "--source"),
    (["data", "mix", "--source", "a=x.jsonl:0", "--out", "m.jsonl"], "--source"),
    (["data", "mix", "--source", "a=x.jsonl:1", "--out", "m.jsonl", "--total", "0"], "--total"),
    (["train", "--max-steps", "0"], "--max-steps"),
    (["train", "check-masks", "sft.jsonl", "--model", "m", "--limit", "0"], "--limit"),
    (["train", "check-masks", "sft.jsonl", "--model", "m", "--show", "-1"], "--show"),
]


@pytest.mark.parametrize(("args", "option"), PROCESS_CASES)
def test_bad_option_values_are_usage_errors_naming_the_option(tmp_path: Path, args: list[str], option: str) -> None:
    proc = cli(tmp_path, *args, code=_exit.USAGE)
    assert f"'{option}'" in proc.stderr, proc.stderr
    assert "Usage: humanllm" in proc.stderr
    assert not (tmp_path / "store").exists()  # rejected before any work


@pytest.mark.parametrize(("args", "option"), IN_PROCESS_CASES)
def test_every_commands_bad_values_are_usage_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    option: str,
) -> None:
    from humanllm.cli import run

    monkeypatch.chdir(tmp_path)
    assert run(args) == _exit.USAGE
    captured = capsys.readouterr()
    assert f"'{option}'" in captured.err and "Usage: humanllm" in captured.err, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert not (tmp_path / "store").exists()


# --- 3 and 4: batches ----------------------------------------------------------------------------


class _FailingEndpoint:
    """An OpenAI-compatible URL that answers every request with a status the client neither retries nor stops on."""

    def __init__(self, status: int = 418) -> None:
        status_code = status

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b'{"error": {"message": "the endpoint is broken"}}'
                self.send_response(status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> _FailingEndpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def failing_endpoint() -> Iterator[str]:
    with _FailingEndpoint() as endpoint:
        yield endpoint.base_url


@pytest.fixture(scope="module")
def fake_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four fake episodes and their splits (shared; tests that write into it copy it first)."""
    root = tmp_path_factory.mktemp("fake-store")
    cli(
        root,
        "generate",
        "--out",
        "store",
        "--model",
        "fake",
        "--n",
        "4",
        "--situations",
        "duty",
        "--turns",
        "2-2",
        code=0,
    )
    cli(root, "data", "split", "store", "--eval-size", "1", code=0)
    return root / "store"


def test_generate_that_finishes_exits_0_and_again_when_all_is_done(tmp_path: Path) -> None:
    args = ["generate", "--out", "store", "--model", "fake", "--n", "2", "--situations", "duty", "--turns", "2-2"]
    cli(tmp_path, *args, code=_exit.OK)
    again = cli(tmp_path, *args, "--json", code=_exit.OK)
    report = json.loads(again.stdout)
    assert report["already_done"] == 2 and report["failed"] == 0


def test_generate_against_a_dead_endpoint_exits_4_and_still_writes_the_store(tmp_path: Path) -> None:
    proc = cli(
        tmp_path,
        "generate",
        "--out",
        "store",
        "--model",
        "openai:x",
        "--base-url",
        DEAD_URL,
        "--n",
        "1",
        "--situations",
        "duty",
        "--turns",
        "4-5",
        "--episode-retries",
        "0",
        code=_exit.NOTHING_DONE,
    )
    assert "no episode finished" in proc.stderr and "run the same command again" in proc.stderr
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["last_run"]["failed"] == 1


def _fails_on_sunk_cost(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    if any("sunk cost" in m.text.lower() for m in messages):
        return "this is not JSON"
    return role_reply(messages, kwargs)


def test_generate_with_some_failed_episodes_exits_3(tmp_path: Path) -> None:
    bundles = tmp_path / "bundles.json"
    bundles.write_text(json.dumps([["sunk cost fallacy", "loss aversion"], ["optimism bias", "planning fallacy"]]))
    with MockOpenAIServer(reply=_fails_on_sunk_cost) as server:
        proc = cli(
            tmp_path,
            "generate",
            "--out",
            "store",
            "--bundles",
            str(bundles),
            "--situations",
            "duty",
            "--turns",
            "2-2",
            "--episode-retries",
            "0",
            "--model",
            "openai:mock",
            "--base-url",
            server.base_url,
            "--json",
            code=_exit.PARTIAL,
        )
    report = json.loads(proc.stdout)
    assert report["done"] == 1 and report["failed"] == 1
    assert "1 of 2 episodes did not finish" in proc.stderr


def test_eval_score_with_a_failing_judge_exits_4(fake_store: Path, tmp_path: Path, failing_endpoint: str) -> None:
    episodes = tmp_path / "episodes.jsonl"
    episodes.write_bytes((fake_store / "episodes-000of001.jsonl").read_bytes())
    judge = ["--judge", "openai:judge", "--judge-base-url", failing_endpoint, "--runs", "1"]
    proc = cli(tmp_path, "eval", "score", str(episodes), *judge)
    assert proc.returncode == _exit.NOTHING_DONE, proc.stderr
    assert "nothing finished" in proc.stderr and "judgements failed" in proc.stderr
    assert list(tmp_path.glob("scores-*openai_judge.json"))  # the (empty) scores are still written


def test_eval_score_with_some_failed_judgements_exits_3(tmp_path: Path) -> None:
    generate = ["generate", "--out", "store", "--model", "fake", "--situations", "duty", "--turns", "2-2"]
    cli(tmp_path, *generate, "--n", "1", code=0)
    with MockOpenAIServer() as server:  # judges the first episode
        judge = ["--judge", "openai:judge", "--runs", "1", "--no-holistic", "--judge-base-url", server.base_url]
        cli(tmp_path, "eval", "score", "store", *judge, code=_exit.OK)
        cli(tmp_path, *generate, "--n", "2", code=0)  # a second episode, not judged yet
        server.status = 418  # the same endpoint (judgements are keyed by it) now fails every call
        proc = cli(tmp_path, "eval", "score", "store", *judge, "--json")
    assert proc.returncode == _exit.PARTIAL, proc.stderr
    judging = json.loads(proc.stdout)["judging"]
    assert judging["already_done"] >= 1 and judging["failed"] >= 1 and judging["judged"] == 0


def test_eval_run_with_a_failing_judge_exits_4(fake_store: Path, tmp_path: Path, failing_endpoint: str) -> None:
    proc = cli(
        tmp_path,
        "eval",
        "run",
        "--model",
        "fake",
        "--judge",
        "openai:judge",
        "--judge-base-url",
        failing_endpoint,
        "--data",
        str(fake_store / "splits"),
        "--out",
        "bench",
        "--runs",
        "1",
        "--limit",
        "1",
    )
    assert proc.returncode == _exit.NOTHING_DONE, proc.stderr
    assert "judgement(s) missing" in proc.stderr
    assert (tmp_path / "bench" / "results-replay.json").exists()


# --- studies ----------------------------------------------------------------------------------------

STUDY_DESIGN = """
name: anx
scenario:
  write: {situation: a bakery after closing, fixed: [{pattern: sunk cost fallacy}]}
factors:
  - {name: anxiety, pattern: anxious}
  - {name: pushback, pattern: assertive, character: supporting}
replicates: 2
models: {character: fake, writer: fake, judge: fake}
turns: {min: 4, max: 4}
"""


def _design(tmp_path: Path, text: str = STUDY_DESIGN, **replace: str) -> str:
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "design.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("replace", "needle"),
    [
        ({"pattern: anxious": "pattern: anxiuos"}, "unknown pattern 'anxiuos'; did you mean 'anxious'"),
        (
            {
                "pattern: anxious": "pattern: assertive",
                "pattern: assertive, character: supporting": "pattern: unassertive",
            },
            "would give",
        ),
        ({"replicates: 2": "replicates: 2\nmax_cells: 2"}, "has 4 cells, above the limit of 2"),
    ],
)
def test_a_bad_study_design_is_one_line_and_writes_nothing(
    tmp_path: Path, replace: dict[str, str], needle: str
) -> None:
    path = _design(tmp_path, **replace)
    proc = cli(tmp_path, "study", "run", path, "--out", "study", code=_exit.ERROR)
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr
    assert not list((tmp_path / "study").glob("episodes-*.jsonl"))


def test_study_usage_errors_exit_2(tmp_path: Path) -> None:
    cli(tmp_path, "study", "run", code=_exit.USAGE)
    cli(tmp_path, "study", "run", _design(tmp_path), "--concurrency", "0", code=_exit.USAGE)


def test_study_dry_run_lists_the_cells_and_calls_no_model(tmp_path: Path) -> None:
    proc = cli(tmp_path, "study", "run", _design(tmp_path), "--dry-run", "--out", "study", code=_exit.OK)
    assert "factorial, 4 cells x 2 replicates" in proc.stdout and "anxiety=1 pushback=1" in proc.stdout
    assert not (tmp_path / "study").exists()


def test_study_run_then_report_as_processes(tmp_path: Path) -> None:
    design = _design(tmp_path, **{"replicates: 2": "replicates: 1"})
    run = cli(tmp_path, "study", "run", design, "--out", "study", code=_exit.OK)
    assert "4 cells x 1 replicates: 4 episodes new" in run.stdout and "next: humanllm study report study" in run.stdout
    again = cli(tmp_path, "study", "run", design, "--out", "study", "--json", code=_exit.OK)
    assert json.loads(again.stdout)["episodes"]["done"] == 0
    report = cli(tmp_path, "study", "report", "study", "--n-boot", "100", "--n-perm", "100", code=_exit.OK)
    assert "anx: 4 cells, 4 episodes" in report.stdout
    for name in ("report.html", "summary.md", "tidy.csv", "tidy.parquet", "effects.csv"):
        assert (tmp_path / "study" / "report" / name).exists(), name


def test_study_report_of_a_folder_that_is_no_study_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = cli(tmp_path, "study", "report", "empty", code=_exit.ERROR)
    assert "is not a study folder" in error_lines(proc)[0]


# --- 130 and bugs ----------------------------------------------------------------------------------


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    with MockOpenAIServer(latency_s=0.5) as server:
        args = ["generate", "--out", "store", "--n", "3", "--situations", "duty", "--turns", "2-2"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "humanllm", *args, "--model", "openai:mock", "--base-url", server.base_url],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 60
        while server.counts["requests"] == 0 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == _exit.INTERRUPTED, err
    assert "Traceback" not in out + err and "interrupted" in err


def test_a_bug_is_one_line_naming_the_exception(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from humanllm import cli as entry
    from humanllm.cli import graph as graph_cli

    def broken(_dirs: object) -> None:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(graph_cli, "graph", broken)
    assert entry.run(["graph", "stats"]) == _exit.ERROR
    err = capsys.readouterr().err
    assert "unexpected RuntimeError: something inside broke" in err and "--debug" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_interrupt_inside_a_command_returns_130(monkeypatch: pytest.MonkeyPatch) -> None:
    from humanllm import cli as entry
    from humanllm.cli import graph as graph_cli

    def interrupted(_dirs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(graph_cli, "graph", interrupted)
    assert entry.run(["graph", "stats"]) == _exit.INTERRUPTED


@pytest.mark.parametrize(
    ("failed", "finished", "code"),
    [(0, 0, _exit.OK), (0, 5, _exit.OK), (1, 4, _exit.PARTIAL), (3, 0, _exit.NOTHING_DONE)],
)
def test_batch_code(failed: int, finished: int, code: int) -> None:
    assert _exit.batch_code(failed=failed, finished=finished) == code


@pytest.mark.parametrize(("done", "code"), [(1, _exit.PARTIAL), (0, _exit.NOTHING_DONE)])
def test_a_circuit_breaker_stop_is_printed_and_counts_as_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], done: int, code: int
) -> None:
    from humanllm.cli.generate import _finish
    from humanllm.simulation._runner import RunReport
    from humanllm.simulation._store import EpisodeStore

    report = RunReport(requested=4, already_done=0, done=done, failed=0, stopped_reason="5 endpoint failures in a row")
    assert _finish(report, EpisodeStore(tmp_path), set(), tmp_path) == code
    err = capsys.readouterr().err
    assert "stopped: 5 endpoint failures in a row" in err and "run the same command again" in err
