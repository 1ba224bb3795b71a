"""`--config FILE.yaml`, the HUMANLLM_* variables and the resolved config saved beside outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
import yaml
from typer.testing import CliRunner

from humanllm.cli import _exit, run
from humanllm.cli._app import register
from humanllm.cli._config_file import ConfigOption, save_resolved
from humanllm.core import OptionField, read_options_file, resolved_options_text
from humanllm.errors import ConfigError

FIELDS = {
    "max_tokens": OptionField("max_tokens", "max_tokens", int),
    "judge": OptionField("judge", "judge", list[str]),
    "out": OptionField("out", "out", Path),
    "json": OptionField("json", "as_json", bool),
    "turns": OptionField("turns", "turns", str),
    "api_key": OptionField("api_key", "api_key", str),
}


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "options.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_keys_take_dashes_or_underscores_and_fill_parameters(tmp_path: Path) -> None:
    path = _file(tmp_path, "max-tokens: 300\njudge: fake\nout: runs/x\njson: true\nturns: 12\n")
    values = read_options_file(path, FIELDS, command="eval run")
    # a scalar for a repeatable option is one value; a number for a text option is its text
    assert values == {"max_tokens": 300, "judge": ["fake"], "out": "runs/x", "as_json": True, "turns": "12"}
    assert read_options_file(_file(tmp_path, ""), FIELDS, command="eval run") == {}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("max_tokns: 3\n", "unknown key 'max_tokns' for `humanllm eval run`; did you mean 'max_tokens'? valid keys: "),
        ("api_key: sk-abcdefghijkl\n", "unknown key 'api_key'"),  # secrets are never read from a file
        ("max-tokens: 3\nmax_tokens: 4\n", "'max_tokens' is given twice"),
        ("max_tokens: many\n", "max_tokens: Input should be a valid integer"),
        ("- a\n- b\n", "holds a list: write a mapping"),
        ("a: [\n", "is not valid YAML at line"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_options_file(_file(tmp_path, text), FIELDS, command="eval run")
    message = str(info.value)
    assert needle in message and "\n" not in message
    if "unknown key" in needle:
        assert "json, judge, max_tokens, out, turns" in message and "api_key" not in message.split("keys:")[1]


def test_the_resolved_text_is_an_options_file_without_secrets(tmp_path: Path) -> None:
    values = {
        "max_tokens": 300,
        "judge": ["fake"],
        "out": Path("runs/x"),
        "json": False,
        "turns": "http://user:pw@host:8000/v1?api_key=sk-abcdefghijklmnop",
        "api_key": "sk-abcdefghijklmnop",
    }
    text = resolved_options_text("eval run", values, {"max_tokens": "command line", "judge": "config file"})
    assert "sk-abcdefghijklmnop" not in text and "pw@" not in text
    assert "# from the command line: max_tokens" in text and "# from the config file: judge" in text
    again = read_options_file(_file(tmp_path, text), FIELDS, command="eval run")
    assert again["max_tokens"] == 300 and again["judge"] == ["fake"] and "api_key" not in again


# --- the mechanism on a small command: CLI > env > file > default -----------------------------------

demo = typer.Typer()


@demo.command()
def show(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out")],
    model: Annotated[str, typer.Option("--model", envvar="HUMANLLM_MODEL")] = "local",
    seed: Annotated[int, typer.Option(min=0)] = 0,
    max_tokens: Annotated[int, typer.Option(min=16)] = 512,
    turns: Annotated[str, typer.Option()] = "12-20",
    config_file: ConfigOption = None,
) -> None:
    save_resolved(ctx, out)
    typer.echo(f"{model} {seed} {max_tokens} {turns}")


def test_command_line_beats_environment_beats_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _file(tmp_path, f"model: from-file\nseed: 7\nmax-tokens: 100\nout: {tmp_path / 'r.yaml'}\n")
    monkeypatch.setenv("HUMANLLM_MODEL", "from-env")
    result = CliRunner().invoke(demo, ["--config", str(config), "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["from-env", "9", "100", "12-20"]
    record = (tmp_path / "r.yaml").read_text(encoding="utf-8")
    assert "# from the command line: seed" in record
    assert "# from the environment: model" in record
    assert f"# from the config file ({config}): out, max_tokens" in record
    assert yaml.safe_load(record) == {
        "out": str(tmp_path / "r.yaml"),
        "model": "from-env",
        "seed": 9,
        "max_tokens": 100,
        "turns": "12-20",
    }


def test_a_file_value_passes_the_option_checks(tmp_path: Path) -> None:
    config = _file(tmp_path, "seed: -1\nout: r.yaml\n")
    result = CliRunner().invoke(demo, ["--config", str(config)])
    assert result.exit_code == _exit.USAGE and "'--seed'" in result.output


# --- the real commands ----------------------------------------------------------------------------


def test_simulate_saves_its_resolved_config_beside_the_episode_and_it_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUMANLLM_MODEL", "nosuch:from-env")  # beats the file, loses to the flag
    monkeypatch.setenv("HUMANLLM_THREADS", "2")
    config = _file(tmp_path, "model: nosuch:x\nturns: 2-2\nseed: 3\nbase-url: http://me:secret@localhost:9/v1\n")
    assert run(["simulate", "--config", str(config), "--out", "ep.json", "--json", "--model", "fake"]) == _exit.OK
    text = (tmp_path / "ep.config.yaml").read_text(encoding="utf-8")
    assert "# from the command line: model, out, json" in text and "# from the environment: threads" in text
    assert f"# from the config file ({config}): turns, base_url, seed" in text
    record = yaml.safe_load(text)
    assert record["threads"] == 2
    assert record["model"] == "fake" and record["turns"] == "2-2" and record["seed"] == 3
    assert record["out"] == "ep.json" and "secret" not in record["base_url"]
    # the record is itself an options file: the same run again, into another file
    record.update(out="again.json", base_url=None)
    monkeypatch.delenv("HUMANLLM_MODEL")
    (tmp_path / "again.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
    assert run(["simulate", "--config", "again.yaml"]) == _exit.OK
    assert (tmp_path / "again.config.yaml").exists()


def test_generate_saves_the_resolved_config_in_the_store(tmp_path: Path) -> None:
    config = _file(tmp_path, "model: fake\nn: 1\nsituations: duty\nturns: 2-2\nconcurrency: 1\n")
    store = tmp_path / "store"
    assert run(["generate", "--config", str(config), "--out", str(store), "--json"]) == _exit.OK
    record = yaml.safe_load((store / "config.resolved.yaml").read_text(encoding="utf-8"))
    assert record["n"] == 1 and record["model"] == "fake" and record["out"] == str(store)


def _process(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUMANLLM_"))}
    return subprocess.run(
        [sys.executable, "-m", "humanllm", *args],
        cwd=tmp_path,
        # this checkout's package, wherever the test runs from
        env={**clean, "PYTHONPATH": str(Path(__file__).parents[1]), "NO_COLOR": "1", "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unknown_key_exits_2_naming_it_and_the_valid_keys(tmp_path: Path) -> None:
    _file(tmp_path, "judge: fake\njudge-url: http://localhost:1/v1\n")
    proc = _process(tmp_path, "eval", "score", "store", "--config", "options.yaml")
    assert proc.returncode == _exit.USAGE, proc.stderr
    error = [line for line in proc.stderr.splitlines() if "unknown key" in line]
    assert len(error) == 1 and "unknown key 'judge-url' for `humanllm eval score`" in error[0]
    assert "did you mean 'judge_base_url'?" in error[0] and "valid keys: batch_size" in error[0]
    assert "Traceback" not in proc.stderr


def test_the_process_takes_the_environment_over_the_file(tmp_path: Path) -> None:
    _file(tmp_path, "model: nosuch:from-file\nturns: 2-2\nout: ep.json\n")
    proc = _process(tmp_path, "simulate", "--config", "options.yaml", HUMANLLM_MODEL="nosuch:from-env")
    assert proc.returncode == _exit.ERROR and "'nosuch:from-env'" in proc.stderr, proc.stderr


def test_help_documents_the_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(register(), ["eval", "run", "--help"])
    for name in ("HUMANLLM_JUDGE", "HUMANLLM_JUDGE_BASE_URL", "HUMANLLM_BASE_URL", "HUMANLLM_CONCURRENCY"):
        assert f"env var: {name}]" in result.output, name
    assert "--config" in result.output
