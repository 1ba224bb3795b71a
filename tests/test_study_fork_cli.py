"""`humanllm study fork` on the fakes: the command's output and files, its resume, and its usage errors as a process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from humanllm.agents.director import TurnRules
from humanllm.cli import _exit
from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.evaluation import JudgementStore, verify_store
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import EpisodeStore, RoleModels, SimulationConfig, run_episode
from humanllm.testing import MockOpenAIServer, ScriptedChatModel, fake_character, fake_writer

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Episode]:
    """A store folder holding one six-turn episode (confirmation bias and kind) played on the fakes."""
    config = SimulationConfig(patterns=["confirmation bias", "kind"], seed=0, rules=TurnRules(min_turns=6, max_turns=6))
    models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
    episode = asyncio.run(run_episode(config, load_graph(load_library()), models))
    folder = tmp_path_factory.mktemp("source") / "store"
    with EpisodeStore.open_for_writing(folder) as store:
        store.add_episode(episode)
    return folder, episode


def _fork_args(store: Path, episode: Episode, out: Path, *more: str) -> list[str]:
    return ["study", "fork", episode.id, "--data", str(store), "--out", str(out), "--model", "fake", "--judge", "fake",
            *more]  # fmt: skip


def test_fork_writes_its_files_prints_json_and_resumes(stored: tuple[Path, Episode], tmp_path: Path) -> None:
    store, episode = stored
    out = tmp_path / "fork"
    args = _fork_args(store, episode, out, "--at-turn", "3", "--give", "anxious", "--replicates", "2", "--json")
    first = runner.invoke(register(), args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["source"] == episode.id and data["at_turn"] == 3 and len(data["continuations"]) == 2
    assert data["run"]["done"] == 2 and data["judging"]["failed"] == 0
    assert [Path(p).name for p in data["files"]] == ["fork.csv", "fork.md"]
    assert all(Path(p).is_file() for p in data["files"])
    assert {e.id for e in EpisodeStore.open_for_reading(out).iter_episodes()} == set(data["continuations"])
    stored_judgements = list(JudgementStore.open_for_reading(out))
    assert len(stored_judgements) == data["judging"]["judged"] > 0
    assert {j.episode_id.rsplit("@", 1)[0] for j in stored_judgements} == {data["original"], *data["continuations"]}
    assert verify_store(out).ok and verify_store(out).legacy == 0

    again = json.loads(runner.invoke(register(), args).output)
    assert again["run"]["done"] == 0 and again["run"]["already_done"] == 2
    assert again["judging"]["judged"] == 0 and again["judging"]["already_done"] == data["judging"]["requested"]
    assert len(list(JudgementStore.open_for_reading(out))) == len(stored_judgements)


def test_fork_takes_a_config_file_and_saves_what_it_used(stored: tuple[Path, Episode], tmp_path: Path) -> None:
    store, episode = stored
    config = tmp_path / "fork.yaml"
    config.write_text("replicates: 1\njudge-every: 2\nmodel: fake\n", encoding="utf-8")
    out = tmp_path / "fork"
    args = ["study", "fork", episode.id, "--data", str(store), "--out", str(out), "--judge", "fake"]
    result = runner.invoke(
        register(), [*args, "--at-turn", "4", "--give", "anxious", "--config", str(config), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["continuations"]) == 1  # replicates from the file, not the default 3
    saved = (out / "config.resolved.yaml").read_text(encoding="utf-8")
    record = yaml.safe_load(saved)
    assert record["replicates"] == 1 and record["judge_every"] == 2 and record["at_turn"] == 4
    [from_file] = [line for line in saved.splitlines() if line.startswith("# from the config file")]
    [from_flags] = [line for line in saved.splitlines() if line.startswith("# from the command line")]
    assert "replicates" in from_file and "judge_every" in from_file and "replicates" not in from_flags
    config.write_text("replicate: 2\n", encoding="utf-8")
    refused = runner.invoke(register(), [*args, "--at-turn", "4", "--give", "anxious", "--config", str(config)])
    assert refused.exit_code == _exit.USAGE and "unknown key 'replicate'" in refused.output


def test_fork_prints_what_was_forked_and_where_the_report_is(
    stored: tuple[Path, Episode], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, episode = stored
    out = tmp_path / "fork"
    args = _fork_args(store, episode, out, "--at-turn", "2", "--edit", "(laughs) Oh, come on.", "--replicates", "1")
    result = runner.invoke(register(), [*args, "--judge-every", "2"])
    assert result.exit_code == 0, result.output
    speaker = episode.conversation.turns[1].speaker
    assert f"forked episode {episode.id} at turn 2: turn 2 rewritten as {speaker}" in result.output
    assert "1 new, 0 already done, 0 failed of 1" in result.output
    assert str(out / "fork.md") in result.output and "no item diverges" in result.output
    judged = {j.episode_id.rsplit("@", 1)[1] for j in JudgementStore.open_for_reading(out)}
    assert {"2", "4", "6"} <= judged and "3" not in judged  # every second turn, and the end

    from humanllm.cli import run

    capsys.readouterr()
    assert run(_fork_args(store, episode, out, "--at-turn", "3", "--edit", "(sighs) No.")) == _exit.USAGE
    _one_error_line(capsys.readouterr().err, "--out", "holds another fork")  # one folder, one fork


def _process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`humanllm ARGS` as its own process, on this worktree's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_") and k != "HUMANLLM_PATTERNS_DIR"}
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1", HOME=str(cwd / "home"), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "humanllm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def bad_cases(stored: tuple[Path, Episode]) -> dict[str, tuple[list[str], str, str]]:
    """Case -> (options, the option named, a piece of the message) of each bad request."""
    episode = stored[1]
    carriers = {p: name for name, held in episode.scenario.char2pattern.items() for p in held}
    other = next(p.name for p in episode.scenario.characters if p.name != carriers["confirmation bias"])
    graph = load_graph(load_library())
    held = episode.scenario.char2pattern[carriers["kind"]]
    clash = next(p.name for p in graph.library.select() if p.name not in held and graph.violations([*held, p.name]))
    return {
        "unknown id": (["--at-turn", "3", "--edit", "Hi."], "EPISODE", "no episode 'f0f0f0'"),
        "turn out of range": (["--at-turn", "7", "--edit", "Hi."], "--at-turn", "has turns 1-6, not 7"),
        "unknown pattern": (["--at-turn", "3", "--give", "no such pattern"], "--give", "unknown pattern"),
        "excluded pair": (["--at-turn", "3", "--give", clash, "--to", carriers["kind"]], "--give", "excluded pair"),
        "not carried": (
            ["--at-turn", "3", "--withhold", "confirmation bias", "--from", other],
            "--withhold",
            "does not carry",
        ),
        "give and withhold": (
            ["--at-turn", "3", "--give", "anxious", "--withhold", "kind"],
            "--give' / '--withhold",
            "not both",
        ),
        "nothing changed": (["--at-turn", "3"], "--edit' / '--give' / '--withhold", "nothing would change"),
    }


BAD_CASES = [
    "unknown id",
    "turn out of range",
    "unknown pattern",
    "excluded pair",
    "not carried",
    "give and withhold",
    "nothing changed",
]
PROCESS_CASES = ["unknown id", "turn out of range", "excluded pair"]
"""Through the console script's own process (a few seconds each); every case also in-process, below."""


def _bad_args(stored: tuple[Path, Episode], case: str, options: list[str]) -> list[str]:
    store, episode = stored
    ident = "f0f0f0" if case == "unknown id" else episode.id
    return [
        "study",
        "fork",
        ident,
        "--data",
        str(store),
        "--out",
        "fork",
        "--model",
        "fake",
        "--judge",
        "fake",
        *options,
    ]


def _one_error_line(stderr: str, option: str, needle: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"'{option}'" in errors[0] and needle in errors[0], stderr


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_bad_requests_are_one_line_usage_errors_of_the_process(
    stored: tuple[Path, Episode], bad_cases: dict[str, tuple[list[str], str, str]], tmp_path: Path, case: str
) -> None:
    options, option, needle = bad_cases[case]
    proc = _process(tmp_path, *_bad_args(stored, case, options))
    assert proc.returncode == _exit.USAGE, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    _one_error_line(proc.stderr, option, needle)
    assert not (tmp_path / "fork").exists()  # refused before any work


@pytest.mark.parametrize("case", BAD_CASES)
def test_every_bad_request_is_a_usage_error(
    stored: tuple[Path, Episode],
    bad_cases: dict[str, tuple[list[str], str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    from humanllm.cli import run

    options, option, needle = bad_cases[case]
    monkeypatch.chdir(tmp_path)
    assert run(_bad_args(stored, case, options)) == _exit.USAGE
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    _one_error_line(captured.err, option, needle)
    assert not (tmp_path / "fork").exists()


def test_failed_continuations_or_judgements_exit_3_or_4(
    stored: tuple[Path, Episode], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from humanllm.cli import run

    store, episode = stored
    monkeypatch.chdir(tmp_path)
    base = ["study", "fork", episode.id, "--data", str(store), "--at-turn", "5", "--edit", "(nods) Right.",
            "--replicates", "2", "--episode-retries", "0", "--no-holistic"]  # fmt: skip
    with MockOpenAIServer(status=418) as broken:  # every call fails, and is not retried
        judged_by_broken = ["--model", "fake", "--judge", "openai:judge", "--judge-base-url", broken.base_url]
        assert run([*base, "--out", "judged", *judged_by_broken]) == _exit.PARTIAL  # played, not judged
        assert "0 of 2 continuations" in capsys.readouterr().err
        played_by_broken = ["--model", "openai:actor", "--base-url", broken.base_url, "--judge", "fake"]
        assert run([*base, "--out", "played", *played_by_broken]) == _exit.NOTHING_DONE
        assert "nothing finished: 2 of 2 continuations" in " ".join(capsys.readouterr().err.split())
    assert len(list(EpisodeStore.open_for_reading(tmp_path / "judged").iter_episodes())) == 2
    assert not list(EpisodeStore.open_for_reading(tmp_path / "played").iter_episodes())
