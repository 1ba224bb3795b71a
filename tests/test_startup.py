"""Start-up: every `--help` stays light, and the lazy package exports cannot hide a typo.

Untimed on purpose (timings live in `benchmarks/startup.py`): what keeps `humanllm --help` fast is
that it imports none of the heavy libraries, and that is checked here in a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from humanllm._lazy import _origins
from humanllm.cli._app import register

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "langchain_core",
    "langchain",
    "langsmith",
    "langgraph",
    "torch",
    "transformers",
    "datasets",
    "trl",
    "peft",
    "openai",
    "inspect_ai",
    "llama_cpp",
    "ray",
)

# Runs in a fresh interpreter: the root's `--help`, then every group's and command's through the CLI's
# own `run`, and the heavy top-level packages loaded so far after each, as JSON on the last line. The
# root comes first, before `command_paths()` imports every command module.
HELP_ALL = """
import contextlib, io, json, sys
from humanllm.cli import command_paths, run
heavy = set(json.loads(sys.argv[1]))
report = []
def paths():
    yield []
    yield from command_paths()[1:]
for path in paths():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run([*path, "--help"])
    loaded = sorted(heavy & {name.split(".")[0] for name in sys.modules})
    report.append({"path": path, "code": code, "usage": "Usage:" in out.getvalue(), "heavy": loaded})
print(json.dumps(report))
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_every_help_imports_no_heavy_library() -> None:
    proc = _python("-c", HELP_ALL, json.dumps(HEAVY))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    names = {" ".join(entry["path"]) for entry in report}
    assert {"", "simulate", "generate", "eval", "eval run", "data push", "study fork", "train"} <= names
    assert len(report) > 40  # every group and command, not just the root
    for entry in report:
        label = " ".join(["humanllm", *entry["path"], "--help"])
        assert entry["code"] == 0, label
        assert entry["usage"], f"{label} printed no usage"
        assert not entry["heavy"], f"{entry['heavy']} imported by {label} or a help before it"


def test_console_help_imports_no_heavy_library() -> None:
    """The root help as a user runs it (`python -m humanllm`), modules read from `-X importtime`."""
    proc = _python("-X", "importtime", "-m", "humanllm", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage: humanllm" in proc.stdout
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "typer" in loaded  # the parse read real lines
    assert not loaded & set(HEAVY)


def _root_help(group: typer.core.TyperGroup) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        group.get_help(typer.Context(group, info_name="humanllm"))
    return out.getvalue()


def test_root_help_reads_the_same_with_every_command_loaded() -> None:
    """The summaries the root lists without importing a command match the commands' own help."""
    lazy = typer.main.get_command(register())
    loaded = typer.main.get_command(register())
    assert isinstance(lazy, typer.core.TyperGroup) and isinstance(loaded, typer.core.TyperGroup)
    ctx = typer.Context(loaded, info_name="humanllm")
    for name in loaded.list_commands(ctx):
        assert loaded.get_command(ctx, name) is not None, name
    assert set(loaded.commands) == set(loaded.list_commands(ctx))
    assert not lazy.commands  # nothing imported yet
    text = _root_help(lazy)
    assert "generate" in text and "study" in text
    assert text == _root_help(loaded)
    assert not lazy.commands  # listing imported none of them


def _lazy_packages() -> list[str]:
    inits = sorted((ROOT / "humanllm").rglob("__init__.py"))
    found = [p for p in inits if "lazy_exports(__name__, __file__)" in p.read_text(encoding="utf-8")]
    return [".".join(p.relative_to(ROOT).parent.parts) for p in found]


def test_lazy_packages_are_found() -> None:
    assert {"humanllm.core", "humanllm.llm", "humanllm.evaluation", "humanllm.simulation"} <= set(_lazy_packages())


@pytest.mark.parametrize("package", _lazy_packages())
def test_every_lazy_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    origins = _origins(str(module.__file__))
    assert sorted(origins) == sorted(module.__all__), "the TYPE_CHECKING imports and __all__ differ"
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        source, attribute = origins[name]
        value = getattr(module, name)
        assert value is getattr(importlib.import_module(source), attribute), name
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018
