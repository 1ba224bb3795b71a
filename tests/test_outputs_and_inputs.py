"""Outputs and inputs through the real process: no user file overwritten without --force, output
paths checked before any model call (and a rescue copy when a write still fails), and one-line
errors for unreadable, non-UTF-8, non-object and empty input files.

Root can write to read-only folders, so "cannot be written" is a path whose parent is a regular file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from humanllm.cli import _exit
from humanllm.core import CharacterProfile, Conversation, Episode, Scenario, Turn
from humanllm.patterns import load_library
from humanllm.simulation._released import episode_to_released

NOT_UTF8 = b'{"name": "caf\xe9"}\n'  # Latin-1, as a spreadsheet export might save it


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
        COLUMNS="400",
    )
    return env


def cli(cwd: Path, *args: str, code: int | None = None) -> subprocess.CompletedProcess[str]:
    """`humanllm ARGS` as a process in `cwd`; no output may hold a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "humanllm", *args],
        cwd=cwd,
        env=_env(cwd),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    if code is not None:
        assert proc.returncode == code, f"exit {proc.returncode}, wanted {code}\n{proc.stdout}\n{proc.stderr}"
    return proc


def one_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single `error:` line of a failed run, holding every needle."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _episode(eid: str, n: int = 4, filler: str = "") -> Episode:
    speakers = ["Ann", "Ben"]
    turns = [
        Turn(speaker=speakers[i % 2], thought=f"t{i} {eid}", action=f"a{i}", speech=f"s{i} {filler}") for i in range(n)
    ]
    return Episode(
        id=eid,
        scenario=Scenario(
            patterns=["sunk cost fallacy"],
            situation="duty",
            analysis="a",
            background=f"An office, story {eid}.",
            protagonist=CharacterProfile(name="Ann", about_self="Manager.", about_others="Ben: cautious."),
            supporting=[CharacterProfile(name="Ben", about_self="Analyst.", about_others="Ann: stubborn.")],
            char2pattern={"Ann": ["sunk cost fallacy"], "Ben": []},
        ),
        conversation=Conversation(turns=turns),
    )


def _released(path: Path, count: int = 3) -> Path:
    path.write_text("".join(json.dumps(episode_to_released(_episode(f"e{i}"))) + "\n" for i in range(count)))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store of three imported episodes."""
    cli(tmp_path, "data", "import", str(_released(tmp_path / "released.jsonl")), "--out", "store", code=_exit.OK)
    return tmp_path / "store"


def _sft(path: Path, rows: int = 4) -> Path:
    path.write_text(
        "".join(
            json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]})
            + "\n"
            for i in range(rows)
        )
    )
    return path


# --- export-sft: dataset_info.json is merged, never erased --------------------------------------------


def test_export_sft_merges_its_entry_into_an_existing_dataset_info(tmp_path: Path, store: Path) -> None:
    lf = tmp_path / "lf" / "data"
    lf.mkdir(parents=True)
    theirs = {"alpaca_en": {"file_name": "alpaca_en.json"}, "identity": {"file_name": "identity.json"}}
    (lf / "dataset_info.json").write_text(json.dumps(theirs))
    cli(tmp_path, "data", "export-sft", str(store), "--out", str(lf / "humanllm.jsonl"), code=_exit.OK)
    info = json.loads((lf / "dataset_info.json").read_text())
    assert list(info) == ["alpaca_en", "identity", "humanllm"]
    assert info["alpaca_en"] == theirs["alpaca_en"] and info["humanllm"]["file_name"] == "humanllm.jsonl"
    # a second data set beside it gets its own entry
    cli(tmp_path, "data", "export-sft", str(store), "--out", str(lf / "h2.jsonl"), code=_exit.OK)  # entry "h2"
    cli(tmp_path, "data", "export-sft", str(store), "--out", str(lf / "x.jsonl"), "--dataset-name", "mine", code=0)
    assert list(json.loads((lf / "dataset_info.json").read_text())) == [*theirs, "humanllm", "h2", "mine"]
    # the same name for another file would replace the user's entry: that needs --force
    h3 = ["--out", str(lf / "h3.jsonl"), "--dataset-name", "humanllm"]
    proc = cli(tmp_path, "data", "export-sft", str(store), *h3, code=_exit.ERROR)
    one_error(proc, "dataset_info.json", "'humanllm'", "--force")
    assert not (lf / "h3.jsonl").exists()


def test_export_sft_refuses_a_malformed_dataset_info_and_leaves_it(tmp_path: Path, store: Path) -> None:
    info = tmp_path / "dataset_info.json"
    info.write_text('{"alpaca_en": {"file_name": "a.json"},\n  oops\n}')
    before = info.read_bytes()
    proc = cli(tmp_path, "data", "export-sft", str(store), "--out", "sft.jsonl", code=_exit.ERROR)
    one_error(proc, "dataset_info.json", "not JSON at line 2")
    assert info.read_bytes() == before and not (tmp_path / "sft.jsonl").exists()


def test_export_sft_streams_the_same_seeded_order(tmp_path: Path, store: Path) -> None:
    cli(tmp_path, "data", "export-sft", str(store), "--out", "a.jsonl", "--seed", "3", code=_exit.OK)
    cli(tmp_path, "data", "export-sft", str(store), "--out", "b.jsonl", "--seed", "3", code=_exit.OK)
    first = (tmp_path / "a.jsonl").read_text().splitlines()
    assert first == (tmp_path / "b.jsonl").read_text().splitlines() and len(first) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no spool or temp file left


def test_export_sft_memory_stays_flat_with_store_size(tmp_path: Path) -> None:
    """Records are spooled to disk and copied in shuffled order: the peak is far below the output size."""
    import tracemalloc

    from humanllm.training import episode_records, export_sft

    episode_records(_episode("warm"))  # load the templates before measuring

    def episodes(count: int) -> Iterator[Episode]:
        for index in range(count):
            yield _episode(f"m{index}", n=6, filler="x" * 1500)

    tracemalloc.start()
    try:
        report = export_sft(episodes(300), tmp_path / "sft.jsonl", seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = (tmp_path / "sft.jsonl").stat().st_size
    assert report.records == 600 and size > 4_000_000
    assert peak < size / 5, (peak, size)


# --- no overwrite without --force ------------------------------------------------------------------


def _overwrite_cases(tmp_path: Path, store: Path) -> list[tuple[list[str], Path]]:
    annotate_id = load_library().get("talkative").id
    merged = tmp_path / "merged"
    merged.mkdir()
    (merged / "config.json").write_text("{}")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "mine.yaml").write_text("# my edited card\n")
    sft = _sft(tmp_path / "sft.jsonl")
    return [
        (["data", "export-sft", str(store), "--out", "{out}"], tmp_path / "out.jsonl"),
        (["data", "export", str(store), "--out", "{out}"], tmp_path / "released-out.jsonl"),
        (["data", "mix", "--source", f"a={sft}:1", "--out", "{out}"], tmp_path / "mix.jsonl"),
        (["graph", "export", "--out", "{out}"], tmp_path / "graph.graphml"),
        (["graph", "plot", "talkative", "--out", "{out}"], tmp_path / "plot.png"),
        (
            ["graph", "annotate", "talkative", "--model", "fake", "--out", str(tmp_path / "review")],
            tmp_path / "review" / f"{annotate_id}.yaml",
        ),
        (["eval", "report", "results.json", "--out", "{out}"], tmp_path / "report.html"),
        (["eval", "annotate-export", str(store), "--out", "{out}"], tmp_path / "rate.csv"),
        (["simulate", "--model", "fake", "--out", "{out}"], tmp_path / "episode.json"),
        (["train", "merge", str(adapter), "--out", "{out}"], merged),
        (["patterns", "import", "--patterns-data", "pd.json", "--out", "{out}"], cards),
    ]


def test_every_command_that_would_overwrite_a_file_needs_force(tmp_path: Path, store: Path) -> None:
    for args, target in _overwrite_cases(tmp_path, store):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text("the user's own file\n")
        before = {p: p.read_bytes() for p in ([target] if target.is_file() else target.iterdir())}
        filled = [str(target) if a == "{out}" else a for a in args]
        proc = cli(tmp_path, *filled, code=_exit.ERROR)
        one_error(proc, str(target), "--force")
        assert {p: p.read_bytes() for p in before} == before, filled


def test_force_overwrites(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    cli(tmp_path, "data", "export-sft", str(store), "--out", str(out), code=_exit.ERROR)
    cli(tmp_path, "data", "export-sft", str(store), "--out", str(out), "--force", code=_exit.OK)
    assert len(out.read_text().splitlines()) == 6
    plain = tmp_path / "released-out.jsonl"
    plain.write_text("old\n")
    cli(tmp_path, "data", "export", str(store), "--out", str(plain), "--force", code=_exit.OK)
    assert len(json.loads(plain.read_text())) == 3  # one JSON array, as the authors' readers load it
    graph = tmp_path / "g.json"
    graph.write_text("old")
    cli(tmp_path, "graph", "export", "--format", "json", "--out", str(graph), "--force", code=_exit.OK)
    assert "nodes" in json.loads(graph.read_text())


def test_appending_to_a_store_is_not_overwriting(tmp_path: Path, store: Path) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps(episode_to_released(_episode("e9"))) + "\n")
    proc = cli(tmp_path, "data", "import", str(more), "--out", str(store), code=_exit.OK)
    assert "1 new" in proc.stdout


# --- output paths checked before any model call -------------------------------------------------------


def test_simulate_to_a_path_under_a_file_fails_before_any_model_call(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder\n")
    started = time.perf_counter()
    proc = cli(tmp_path, "simulate", "--model", "fake", "--out", "notes.txt/ep.json", code=_exit.ERROR)
    assert time.perf_counter() - started < 30
    one_error(proc, "notes.txt is a file, not a folder")
    assert "scenario" not in proc.stdout + proc.stderr  # the writer never ran


def test_simulate_fails_fast_whatever_the_model(tmp_path: Path) -> None:
    """A dead endpoint would fail at the first call: the path error comes first."""
    (tmp_path / "notes.txt").write_text("x")
    dead = ["--model", "openai:gpt-x", "--base-url", "http://127.0.0.1:1/v1"]
    proc = cli(tmp_path, "simulate", *dead, "--out", "notes.txt/ep.json", code=_exit.ERROR)
    one_error(proc, "notes.txt is a file")


def test_simulate_to_a_folder_fails_before_any_model_call(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    proc = cli(tmp_path, "simulate", "--model", "fake", "--out", "runs", code=_exit.ERROR)
    one_error(proc, "runs is a folder")


def test_simulate_creates_a_missing_parent_folder(tmp_path: Path) -> None:
    cli(tmp_path, "simulate", "--model", "fake", "--out", "new/deeper/ep.json", "--json", code=_exit.OK)
    assert Episode.model_validate_json((tmp_path / "new" / "deeper" / "ep.json").read_text()).conversation.turns


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--recipe", "smollm2-cpu", "--data", "sft.jsonl", "--output-dir", "notes.txt/ckpt"],
        ["train", "--recipe", "smollm2-cpu", "--data", "sft.jsonl", "--output-dir", "notes.txt"],
        ["patterns", "build", "x y", "--from-knowledge", "--model", "fake", "--out", "notes.txt/cards"],
        ["eval", "run", "--model", "fake", "--judge", "fake", "--data", "sft.jsonl", "--out", "notes.txt/ev"],
        ["eval", "report", "results.json", "--out", "notes.txt/r.html"],
        ["graph", "export", "--out", "notes.txt/g.graphml"],
        ["data", "export-sft", "store", "--out", "notes.txt/sft.jsonl"],
    ],
)
def test_unwritable_outputs_fail_first(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    _sft(tmp_path / "sft.jsonl")
    (tmp_path / "store").mkdir()
    proc = cli(tmp_path, *args, code=_exit.ERROR)
    one_error(proc, "notes.txt")


def test_a_failed_final_write_saves_a_rescue_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from humanllm.cli import run
    from humanllm.core import _files

    real = _files.write_text_atomic
    target = tmp_path / "out" / "ep.json"

    def failing(path: Path, text: str) -> None:
        if path == target:
            raise PermissionError(13, "Permission denied", str(path))
        real(path, text)

    monkeypatch.setattr(_files, "write_text_atomic", failing)
    monkeypatch.chdir(tmp_path)
    assert run(["simulate", "--model", "fake", "--out", str(target), "--json"]) == _exit.ERROR
    rescued = list(tmp_path.glob("humanllm-rescue-*.json"))
    assert len(rescued) == 1 and Episode.model_validate_json(rescued[0].read_text()).conversation.turns
    err = capsys.readouterr().err
    assert str(target) in err and rescued[0].name in err and "permission denied" in err


# --- input files: one line, never a traceback ---------------------------------------------------------


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """A folder with one non-UTF-8 file under every name a command reads."""
    for name in ("bad.json", "bad.jsonl", "bad.yaml", "bad.csv", "bad.jinja"):
        (tmp_path / name).write_bytes(NOT_UTF8)
    for folder in ("cards", "relcards/relations", "corpus"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "cards" / "mine.yaml").write_bytes(NOT_UTF8)
    (tmp_path / "relcards" / "relations" / "mine.yaml").write_bytes(NOT_UTF8)
    (tmp_path / "corpus" / "notes.txt").write_bytes(NOT_UTF8)
    _sft(tmp_path / "sft.jsonl")
    return tmp_path


NOT_UTF8_CASES = [
    (["data", "import", "bad.jsonl", "--out", "store"], "bad.jsonl"),
    (["data", "mix", "--source", "a=bad.jsonl:1", "--out", "m.jsonl"], "bad.jsonl"),
    (["generate", "--bundles", "bad.json", "--model", "fake", "--out", "store"], "bad.json"),
    (["eval", "alignment", "--human", "bad.csv", "--judge", "results.json"], "bad.csv"),
    (["train", "--config", "bad.yaml", "--data", "sft.jsonl", "--output-dir", "ckpt"], "bad.yaml"),
    (["train", "--recipe", "smollm2-cpu", "--data", "bad.jsonl", "--output-dir", "ckpt"], "bad.jsonl"),
    (["train", "check-masks", "bad.jsonl", "--model", "bundled:smollm2"], "bad.jsonl"),
    (["train", "check-masks", "sft.jsonl", "--model", "bundled:smollm2", "--template", "bad.jinja"], "bad.jinja"),
    (["patterns", "build", "--card", "bad.yaml", "--model", "fake"], "bad.yaml"),
    (["patterns", "build", "x y", "--corpus", "corpus", "--model", "fake"], "notes.txt"),
    (["patterns", "import", "--patterns-data", "bad.json"], "bad.json"),
    (["graph", "check", "talkative", "--patterns-dir", "cards"], "mine.yaml"),
    (["graph", "check", "talkative", "--patterns-dir", "relcards"], "mine.yaml"),
    (["eval", "score", "bad.jsonl", "--judge", "fake"], "bad.jsonl"),
    (["eval", "report", "bad.json", "--out", "r.html"], "bad.json"),
]


@pytest.mark.parametrize(("args", "name"), NOT_UTF8_CASES)
def test_a_non_utf8_file_is_one_line_naming_it(bad: Path, args: list[str], name: str) -> None:
    proc = cli(bad, *args, code=_exit.ERROR)
    if "--patterns-dir" in args:  # the library lists every card or relation problem, one per line, under one error
        assert proc.stderr.startswith("error: ") and f"{name} is not UTF-8 text" in proc.stderr, proc.stderr
        return
    line = one_error(proc, name, "UTF-8")
    assert "bug" not in line and not (bad / "store").exists() and not (bad / "ckpt").exists()


def test_patterns_validate_names_a_non_utf8_card(bad: Path) -> None:
    proc = cli(bad, "patterns", "validate", "cards", code=_exit.ERROR)
    assert "mine.yaml" in proc.stdout and "UTF-8" in proc.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('["a", "b"]', "record 0 is a string, not an object"),
        ("[1]", "record 0 is a number, not an object"),
        ('"just text"\n', "line 1 is a string, not an object"),
        ('{"pattern": []}\n[1, 2]\n', "line 2 is a list, not an object"),
        ("{not json\n", "not JSON at line 1"),
    ],
)
def test_data_import_names_a_record_that_is_not_an_object(tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "in.json").write_text(content)
    proc = cli(tmp_path, "data", "import", "in.json", "--out", "store", code=_exit.ERROR)
    one_error(proc, "in.json", needle)
    assert not (tmp_path / "store").exists()


# --- empty inputs are errors with a hint ------------------------------------------------------------


def test_empty_inputs_fail_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "blank.json").write_text("\n\n")
    (tmp_path / "store").mkdir()
    one_error(cli(tmp_path, "data", "import", "empty.jsonl", "--out", "s", code=1), "empty.jsonl", "no records")
    one_error(cli(tmp_path, "data", "import", "blank.json", "--out", "s", code=1), "blank.json", "no records")
    assert not (tmp_path / "s").exists()
    proc = cli(tmp_path, "data", "mix", "--source", "a=empty.jsonl:1", "--out", "m.jsonl", code=1)
    one_error(proc, "empty.jsonl", "no rows")
    proc = cli(tmp_path, "data", "export-sft", "store", "--out", "sft.jsonl", code=1)
    one_error(proc, "no episodes", "humanllm generate")
    proc = cli(tmp_path, "data", "export", "store", "--out", "r.jsonl", code=1)
    one_error(proc, "no episodes", "humanllm generate")
    proc = cli(tmp_path, "generate", "--bundles", "blank.json", "--model", "fake", "--out", "g", code=1)
    one_error(proc, "blank.json", "no bundles")
    assert not (tmp_path / "g").exists()
    proc = cli(tmp_path, "eval", "score", "empty.jsonl", "--judge", "fake", code=1)
    one_error(proc, "empty.jsonl", "no episodes")
    assert not [p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl" and p.name != "empty.jsonl"]
    assert not (tmp_path / "dataset_info.json").exists()
    assert not list(tmp_path.glob("scores-*.json"))


def test_eval_report_names_what_is_wrong_with_a_results_file(tmp_path: Path) -> None:
    (tmp_path / "scores.json").write_text('{"kind": "score"}')
    one_error(cli(tmp_path, "eval", "report", "nope.json", "--out", "r.html", code=1), "nope.json", "does not exist")
    proc = cli(tmp_path, "eval", "report", "scores.json", "--out", "r.html", code=1)
    one_error(proc, "scores.json", "is not an evaluation result (judge: Field required)")


def test_an_import_where_every_record_is_skipped_fails(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"scenario": {}}\n')
    proc = cli(tmp_path, "data", "import", "in.jsonl", "--out", "store", code=_exit.ERROR)
    assert "charactersProfiles.protagonist is missing" in proc.stdout
    assert "none of the 1 record(s)" in proc.stderr


# --- relation files are validated ------------------------------------------------------------------


def test_patterns_validate_checks_relation_files(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "relations").mkdir(parents=True)
    (folder / "relations" / "a.yaml").write_text(
        "- source: talkative\n"
        "  target: no such pattern\n"
        "  type: reinforces\n"
        "  rationale: Talking more makes this more likely.\n"
        "- source: talkative\n"
        "  target: sunk cost fallacy\n"
        "  type: amplifies\n"
        "  rationale: Talking more makes this more likely.\n"
    )
    (folder / "relations" / "b.yaml").write_text("- source: talkative\n  target: [unclosed\n")
    proc = cli(tmp_path, "patterns", "validate", str(folder), code=_exit.ERROR)
    out = proc.stdout
    assert f"{folder / 'relations' / 'a.yaml'}:1: target: unknown pattern 'no such pattern'" in out, out
    assert f"{folder / 'relations' / 'a.yaml'}:5: type:" in out and "amplifies" not in proc.stderr
    assert f"{folder / 'relations' / 'b.yaml'}:" in out and "not valid YAML" in out
    one_error(proc, "3 problem(s)")


def test_patterns_validate_passes_good_relation_files(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "relations").mkdir(parents=True)
    (folder / "relations" / "a.yaml").write_text(
        "- source: talkative\n"
        "  target: sunk cost fallacy\n"
        "  type: modulates\n"
        "  rationale: Talking it through can deepen a commitment.\n"
    )
    proc = cli(tmp_path, "patterns", "validate", str(folder), code=_exit.OK)
    assert "1 relation file" in proc.stdout
