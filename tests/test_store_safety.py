"""Store safety: one writer per store, readers that never write, torn lines moved aside, few fsyncs."""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.errors import DataError, StoreLockedError
from humanllm.evaluation import JudgementStore
from humanllm.simulation import EpisodeStore, Failure, StoreLock, read_holder, reason_cause
from humanllm.simulation._lock import HOLDER_FILE, LOCK_FILE
from humanllm.testing import MockOpenAIServer

runner = CliRunner()
HUMANLLM = [sys.executable, "-m", "humanllm"]
SMALL = ["--model", "fake", "--n", "3", "--situations", "duty,sociality", "--turns", "2-2"]
"""6 episodes in well under a second."""
BIG = ["--model", "fake", "--n", "10", "--situations", "all", "--turns", "4-5", "--concurrency", "4"]
"""The red team's command: 80 episodes, several seconds."""
SHARD = "000of001"


def _cli(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`humanllm ARGS` in a subprocess (the real exit code and stderr); never a traceback."""
    proc = subprocess.run([*(prefix or []), *HUMANLLM, *args], capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def _ids(store: Path) -> list[str]:
    """The id of every line of every episode shard, duplicates included."""
    return [
        json.loads(line)["id"]
        for path in sorted(store.glob("episodes-*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def _one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "store"
    result = runner.invoke(register(), ["generate", "--out", str(folder), *SMALL])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def store(small_store: Path, tmp_path: Path) -> Path:
    """A fresh copy of a 6-episode store."""
    copy = tmp_path / "store"
    shutil.copytree(small_store, copy)
    return copy


def _shard(store: Path) -> Path:
    return store / f"episodes-{SHARD}.jsonl"


def _extra(store: Path, episode_id: str) -> Episode:
    template = next(EpisodeStore.open_for_reading(store).iter_episodes())
    return template.model_copy(update={"id": episode_id, "spec": None})  # a clone is not its spec's episode


# --- one writer per store -------------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[MockOpenAIServer]:
    """A mock endpoint that takes 50 ms a call: a run against it surely lasts some seconds."""
    with MockOpenAIServer(latency_s=0.05) as server:
        yield server


def test_a_second_writer_fails_at_once_naming_the_holder_and_with_wait_it_waits(
    tmp_path: Path, slow_server: MockOpenAIServer
) -> None:
    out = tmp_path / "conc"
    # the first writer is slow on purpose, so it still runs while the others start (with the instant fake
    # model it could finish first on a fast machine)
    slow = ["--model", "openai:mock", "--base-url", slow_server.base_url, *BIG[2:]]
    holder = subprocess.Popen(
        [*HUMANLLM, "generate", *slow, "--out", str(out), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    waiter: subprocess.Popen[str] | None = None
    try:
        deadline = time.time() + 120
        while not (out / HOLDER_FILE).exists():
            assert holder.poll() is None, holder.communicate()
            assert time.time() < deadline, "the first writer never took the lock"
            time.sleep(0.02)
        assert read_holder(out)["pid"] == holder.pid
        # another run (another seed) queued behind the first, and the red team's second identical run
        waiter = subprocess.Popen(
            [*HUMANLLM, "generate", *SMALL, "--seed", "7", "--out", str(out), "--wait", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        second = _cli("generate", *BIG, "--out", str(out))
        assert holder.poll() is None  # it failed while the first still ran: at once
        assert second.returncode == 1
        line = _one_line(second.stderr)
        assert f"pid {holder.pid}" in line and "generate" in line and "--wait" in line, line
        # readers are never blocked by a writer
        status = runner.invoke(register(), ["data", "status", str(out), "--json"])
        assert status.exit_code == 0, status.output
        first_out, first_err = holder.communicate(timeout=300)
        wait_out, wait_err = waiter.communicate(timeout=300)
    finally:
        for proc in (holder, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert holder.returncode == 0 and waiter.returncode == 0, first_err + wait_err
    assert "Traceback" not in first_err + wait_err
    assert "waiting" in wait_err and f"pid {holder.pid}" in wait_err
    first, queued = json.loads(first_out), json.loads(wait_out)
    ids = _ids(out)
    assert len(ids) == len(set(ids)) == first["done"] + queued["done"]
    assert first["done"] == 80 and queued["done"] == 6
    assert not (out / HOLDER_FILE).exists()  # released


def test_the_lock_is_reentrant_in_a_process_and_released_with_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with StoreLock(folder) as outer:
        holder = read_holder(folder)
        assert holder["pid"] == os.getpid() and outer.held
        with EpisodeStore.open_for_writing(folder) as inner:
            assert inner.writable
        assert (folder / HOLDER_FILE).exists()  # the outer hold is still there
    assert not (folder / HOLDER_FILE).exists() and (folder / LOCK_FILE).exists()
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from humanllm.simulation import StoreLock\n"
            "from humanllm.errors import StoreLockedError\n"
            "try:\n    StoreLock(sys.argv[1]).acquire()\nexcept StoreLockedError as e:\n    print(e); sys.exit(1)",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stdout  # free again for another process
    store = EpisodeStore.open_for_writing(folder)
    store.close()
    with pytest.raises(DataError, match="closed"):
        store.add_episode(_extra_episode(tmp_path))


def _extra_episode(tmp_path: Path) -> Episode:
    folder = tmp_path / "one"
    assert runner.invoke(register(), ["generate", "--out", str(folder), *SMALL]).exit_code == 0
    return _extra(folder, "extra")


def test_a_locked_store_names_the_holder(store: Path) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from humanllm.simulation import StoreLock\n"
            "lock = StoreLock(sys.argv[1]).acquire(); print('locked', flush=True); sys.stdin.read()",
            str(store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=f"pid {child.pid}"):
            EpisodeStore.open_for_writing(store)
        with pytest.raises(StoreLockedError, match=f"pid {child.pid}"):
            JudgementStore(store)
        with pytest.raises(StoreLockedError, match="waited"):
            StoreLock(store, wait=0.2).acquire()
        assert len(EpisodeStore.open_for_reading(store).done) == 6  # reading needs no lock
    finally:
        child.communicate("", timeout=60)
    with EpisodeStore.open_for_writing(store) as writer:
        assert len(writer.done) == 6


# --- repair only what is torn, only when writing --------------------------------------------------


def test_a_last_record_without_its_newline_survives_status_and_is_counted(store: Path) -> None:
    shard = _shard(store)
    before = _ids(store)
    with shard.open("rb+") as handle:  # `truncate -s -1`: only the final newline is missing
        handle.truncate(shard.stat().st_size - 1)
    cut = shard.read_bytes()
    status = _cli("data", "status", str(store), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["done"] == len(before) == 6
    assert shard.read_bytes() == cut and not list(store.glob("*.torn"))
    with EpisodeStore.open_for_writing(store, shard=SHARD) as writer:
        assert len(writer.done) == 6
        assert writer.add_episode(_extra(store, "extra"))
    assert shard.read_bytes().startswith(cut + b"\n")  # the writer added the newline before appending
    assert _ids(store) == [*before, "extra"]


def test_a_torn_line_is_moved_aside_by_a_writer_and_never_by_a_reader(
    store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shard = _shard(store)
    whole = shard.read_bytes()
    with shard.open("ab") as handle:  # what a kill during a write leaves behind
        handle.write(b'{"id": "torn-half-written-rec')
    torn = shard.read_bytes()
    with caplog.at_level(logging.WARNING):
        status = runner.invoke(register(), ["data", "status", str(store), "--json"])
        assert status.exit_code == 0, status.output
        assert json.loads(status.stdout)["done"] == 6
        assert len(list(EpisodeStore.open_for_reading(store).iter_episodes())) == 6
    assert "torn last line" in caplog.text
    assert shard.read_bytes() == torn and not list(store.glob("*.torn"))  # the reader changed nothing
    with EpisodeStore.open_for_writing(store, shard=SHARD) as writer:
        assert len(writer.done) == 6
    assert shard.read_bytes() == whole
    aside = store / f"episodes-{SHARD}.jsonl.torn"
    assert aside.read_bytes() == b'{"id": "torn-half-written-rec\n'


def test_a_torn_judgement_is_skipped_by_readers_and_moved_aside_by_a_writer(tmp_path: Path) -> None:
    folder = tmp_path / "judged"
    folder.mkdir()
    path = folder / "judgements-main.jsonl"
    path.write_text('{"episode_id": "torn')
    assert list(JudgementStore.open_for_reading(folder)) == []
    assert path.read_text() == '{"episode_id": "torn' and not (folder / "judgements-main.jsonl.torn").exists()
    with pytest.raises(DataError, match="opened for reading"):
        JudgementStore.open_for_reading(folder).add(None)  # type: ignore[arg-type]
    with JudgementStore(folder) as writer:
        assert list(writer) == []
    assert path.read_text() == "" and (folder / "judgements-main.jsonl.torn").read_text() == '{"episode_id": "torn\n'


def test_a_symlinked_shard_is_refused_and_left_alone(store: Path, tmp_path: Path) -> None:
    target = _shard(store)
    original = target.read_bytes()
    with target.open("ab") as handle:
        handle.write(b'{"id": "torn')  # a writer would cut this from the link's target
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / f"episodes-{SHARD}.jsonl").symlink_to(target)
    status = _cli("data", "status", str(linked))
    assert status.returncode == 1 and "symbolic link" in _one_line(status.stderr)
    with pytest.raises(DataError, match="symbolic link"):
        EpisodeStore.open_for_writing(linked, shard=SHARD)
    assert target.read_bytes() == original + b'{"id": "torn'


# --- a store the user may only read ---------------------------------------------------------------


def _unprivileged(probe: Path) -> list[str]:
    """A command prefix under which file permissions hold (root without CAP_DAC_OVERRIDE), or skip."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root bypasses file permissions and setpriv is not here to drop that")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    touched = subprocess.run([*prefix, "touch", str(probe / "probe")], capture_output=True, check=False)
    if touched.returncode == 0:
        (probe / "probe").unlink()
        pytest.skip("cannot drop root's permission override here")
    return prefix


def test_a_read_only_store_is_readable_and_writing_it_is_one_line(store: Path, tmp_path: Path) -> None:
    scored = _cli("eval", "score", str(store), "--judge", "fake", "--runs", "1", "--json")
    assert scored.returncode == 0, scored.stderr
    scores = store / "scores-fake.json"
    assert scores.exists()
    before = sorted(p.name for p in store.iterdir())
    modes = {p: p.stat().st_mode for p in [store, *store.iterdir()]}
    for path in modes:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        prefix = _unprivileged(store)
        status = _cli("data", "status", str(store), "--json", prefix=prefix)
        assert status.returncode == 0 and json.loads(status.stdout)["done"] == 6, status.stderr
        split = _cli("data", "split", str(store), "--out", str(tmp_path / "splits"), "--eval-size", "1", prefix=prefix)
        assert split.returncode == 0, split.stderr
        sft = _cli("data", "export-sft", str(store), "--out", str(tmp_path / "sft.jsonl"), prefix=prefix)
        assert sft.returncode == 0 and (tmp_path / "sft.jsonl").stat().st_size > 0, sft.stderr
        report = _cli("eval", "report", str(scores), "--out", str(tmp_path / "report.html"), prefix=prefix)
        assert report.returncode == 0 and (tmp_path / "report.html").exists(), report.stderr
        for args in (
            ["generate", *SMALL, "--seed", "9", "--out", str(store)],
            ["data", "merge", str(tmp_path / "splits"), "--out", str(store)],
            ["data", "split", str(store), "--eval-size", "1"],
            ["eval", "score", str(store), "--judge", "fake", "--runs", "2"],
        ):
            denied = _cli(*args, prefix=prefix)
            line = _one_line(denied.stderr)
            assert denied.returncode == 1 and "permission denied" in line and str(store) in line, (args, line)
        assert sorted(p.name for p in store.iterdir()) == before
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


_WRITES = ("w", "a", "x", "+")


@contextmanager
def _watch_writes(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record (and refuse) every attempt to open for writing, create, rename or remove a path in `folder`."""
    seen: list[str] = []
    inside = str(folder.resolve())

    def under(path: Any) -> bool:
        try:
            where = os.path.abspath(os.fspath(path))
        except TypeError:
            return False
        return where == inside or where.startswith(inside + os.sep)

    def refuse(what: str, path: Any) -> None:
        seen.append(f"{what} {path}")
        raise PermissionError(13, "Permission denied", os.fspath(path))

    real_open = io.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if under(file) and any(flag in mode for flag in _WRITES):
            refuse(f"open({mode!r})", file)
        return real_open(file, mode, *args, **kwargs)

    real_os_open = os.open

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC):
            refuse("os.open", path)
        return real_os_open(path, flags, *args, **kwargs)

    def guard(name: str) -> Callable[..., Any]:
        real = getattr(os, name)

        def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
            if under(path) or any(under(a) for a in args if isinstance(a, str | os.PathLike)):
                refuse(f"os.{name}", path)
            return real(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in ("mkdir", "makedirs", "replace", "rename", "remove", "unlink", "truncate", "rmdir"):
        monkeypatch.setattr(os, name, guard(name))
    yield seen


def test_readers_only_ever_open_the_store_for_reading(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _shard(store).open("ab") as handle:  # a torn tail tempts a reader to repair
        handle.write(b'{"id": "torn')
    with _watch_writes(store, monkeypatch) as writes:
        for args in (
            ["data", "status", str(store), "--json"],
            ["data", "split", str(store), "--out", str(tmp_path / "splits"), "--eval-size", "1"],
            ["data", "export-sft", str(store), "--out", str(tmp_path / "sft.jsonl")],
            ["data", "export", str(store), "--out", str(tmp_path / "released.jsonl")],
            ["data", "merge", str(store), "--out", str(tmp_path / "merged")],
        ):
            result = runner.invoke(register(), args)
            assert result.exit_code == 0, (args, result.output, result.exception)
        assert list(JudgementStore.open_for_reading(store)) == []
        assert len(EpisodeStore.open_for_reading(tmp_path / "missing").done) == 0
    assert writes == []
    assert not (tmp_path / "missing").exists()
    assert len(_ids(tmp_path / "merged")) == 6


# --- judgements, merge, status --------------------------------------------------------------------


def test_two_concurrent_eval_scores_give_the_scores_of_one(tmp_path: Path) -> None:
    base = tmp_path / "base"
    result = runner.invoke(register(), ["generate", "--out", str(base), *SMALL, "--n", "4", "--situations", "all"])
    assert result.exit_code == 0, result.output
    once, twice = tmp_path / "once", tmp_path / "twice"
    shutil.copytree(base, once)
    shutil.copytree(base, twice)
    score = ["eval", "score", "--judge", "fake", "--runs", "2", "--json"]
    single = _cli(*score, str(once))
    assert single.returncode == 0, single.stderr
    runs = [
        subprocess.Popen(
            [*HUMANLLM, *score, str(twice), "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in runs]
    for proc, (_out, err) in zip(runs, outputs, strict=True):
        assert proc.returncode == 0 and "Traceback" not in err, err
    reports = [json.loads(out)["results"]["reports"]["twice"] for out, _err in outputs]
    expected = json.loads(single.stdout)["results"]["reports"]["once"]
    assert reports[0] == reports[1] == expected
    judged = [json.loads(out)["judging"]["judged"] for out, _err in outputs]
    assert sum(judged) == json.loads(single.stdout)["judging"]["judged"]  # nothing judged twice
    lines = (twice / "judgements-main.jsonl").read_text().splitlines()
    keys = [tuple(json.loads(line)[k] for k in ("episode_id", "character", "run")) for line in lines]
    assert len(keys) == len(set(keys)) == len((once / "judgements-main.jsonl").read_text().splitlines())


def test_merge_fsyncs_once_per_output_shard_and_keeps_each_id_once(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big"
    template = _extra(store, "x")
    with EpisodeStore.open_for_writing(source, shard="a") as writer:
        assert (
            writer.add_episodes(template.model_copy(update={"id": f"ep-{i:05d}", "spec": None}) for i in range(2000))
            == 2000
        )
    calls: list[int] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    merged = tmp_path / "merged"
    result = runner.invoke(register(), ["data", "merge", str(source), str(source), "--out", str(merged)])
    assert result.exit_code == 0, result.output
    assert "4000 episodes" in result.output and "2000 new, 2000 duplicates" in result.output
    assert len(calls) <= 2, len(calls)
    ids = _ids(merged)
    assert len(ids) == len(set(ids)) == 2000


def test_duplicate_lines_are_read_once_and_reported(store: Path, tmp_path: Path) -> None:
    shard = _shard(store)
    lines = shard.read_text().splitlines(keepends=True)
    shard.write_text("".join(lines + lines[:4]))  # what two unlocked writers left behind
    status = runner.invoke(register(), ["data", "status", str(store), "--json"])
    data = json.loads(status.stdout)
    assert data["done"] == 6 and data["duplicates"] == 4
    assert len(list(EpisodeStore.open_for_reading(store).iter_episodes())) == 6
    sft = runner.invoke(register(), ["data", "export-sft", str(store), "--out", str(tmp_path / "sft.jsonl"), "--json"])
    assert sft.exit_code == 0 and json.loads(sft.stdout)["episodes"] == 6, sft.output


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("EndpointError: the writer model openai:x answered 401 (the API key was rejected): check it", "401"),
        ("BackendError: Error code: 404 - {'error': 'no such model'}", "404"),
        ("EndpointError: the character model openai:x did not answer in time: raise --timeout", "timeout"),
        ("EndpointError: cannot reach the writer model openai:x: check the server runs", "connection"),
        ("StructuredOutputError: character model fake kept returning invalid Turn after 3 tries", "invalid output"),
        ("EndpointError: the judge answered 429: slow down", "rate limited"),
        ("ValueError: something else: entirely", "ValueError"),
    ],
)
def test_a_reason_is_reduced_to_its_root_cause(reason: str, cause: str) -> None:
    assert reason_cause(reason) == cause


def test_status_groups_open_failures_by_root_cause(store: Path) -> None:
    failures = [
        Failure(id="a", attempt=1, reason="EndpointError: the writer model answered 401 (key rejected)"),
        Failure(id="b", attempt=1, reason="EndpointError: x did not answer in time", cause="timeout"),
        Failure(id="c", attempt=1, reason="anything at all", cause="timeout"),
        Failure(id="d", attempt=1, reason="RuntimeError: first"),
        Failure(id="d", attempt=2, reason="StructuredOutputError: model kept returning invalid Scenario"),
    ]
    with EpisodeStore.open_for_writing(store, shard=SHARD) as writer:
        for failure in failures:
            writer.add_failure(failure)
    status = runner.invoke(register(), ["data", "status", str(store), "--json"])
    data = json.loads(status.stdout)
    assert data["failed"] == 4
    assert data["failed_by_reason"] == {"timeout": 2, "401": 1, "invalid output": 1}
    table = runner.invoke(register(), ["data", "status", str(store)])
    assert "invalid output" in table.output and "401" in table.output


def test_a_reader_cannot_write(store: Path) -> None:
    reader = EpisodeStore.open_for_reading(store)
    with pytest.raises(DataError, match="opened for reading"):
        reader.add_episode(_extra(store, "new"))
    with pytest.raises(DataError, match="opened for reading"):
        reader.write_manifest({})


def test_the_record_store_is_generic_over_record_type_and_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import BaseModel

    from humanllm.simulation import RecordStore

    class Note(BaseModel):
        text: str

    class NoteStore(RecordStore):
        PREFIXES = ("notes",)

    folder = tmp_path / "notes"
    reader = NoteStore(folder, write=False)
    assert (
        list(reader.records("notes", Note, "{where}: {msg}")) == [] and not folder.exists()
    )  # a reader writes nothing
    with pytest.raises(DataError, match="opened for reading"):
        reader.append("notes", [Note(text="x")])
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    with NoteStore(folder, shard="a") as writer:
        assert writer.append("notes", (Note(text=str(i)) for i in range(50))) == 50
    assert len(calls) == 1  # one fsync per batch
    shard = folder / "notes-a.jsonl"
    shard.write_bytes(shard.read_bytes() + b'{"text": "tor')  # a crash mid-write
    assert len(list(NoteStore(folder, write=False).records("notes", Note, "{where}: {msg}"))) == 50
    with NoteStore(folder, shard="a"):
        pass
    assert (folder / "notes-a.jsonl.torn").read_bytes() == b'{"text": "tor\n'
    shard.write_bytes(shard.read_bytes() + b'{"nope": 1}\n')
    with pytest.raises(DataError, match=r"notes-a.jsonl:51: Field required"):
        list(NoteStore(folder, write=False).records("notes", Note, "{where}: {msg}"))
