"""The package's layering, read from the source: no cycle between subpackages, no reach into another
subpackage's private modules, and a model layer that knows nothing above it.

Every import anywhere in a module counts, lazy ones inside functions included. `humanllm/cli` is
the top layer; `humanllm/core`, `humanllm/errors.py` and `humanllm/redaction.py` are the bottom.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "humanllm"
SUBPACKAGES = (
    "core",
    "llm",
    "agents",
    "graphs",
    "patterns",
    "simulation",
    "training",
    "evaluation",
    "study",
    "testing",
    "viewer",
    "cli",
)
BOTTOM = {"core", "errors", "redaction", "_lazy"}
ABOVE_LLM = {"agents", "graphs", "simulation", "evaluation", "study", "training", "testing", "viewer", "cli"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing file, relative to the repository root
    line: int
    module: str  # the full module imported, e.g. humanllm.simulation._store

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: imports {self.module}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(path: Path, text: str | None = None) -> Iterator[Import]:
    """Every `humanllm` module imported in the file (or in `text`, as if it were that file), at any
    depth; `from pkg import _mod` names `pkg._mod`."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text, filename=str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    source = str(path.relative_to(ROOT))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("humanllm"):
                    yield Import(source, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("humanllm"):
                continue
            yield Import(source, node.lineno, target)
            for alias in node.names:  # `from humanllm.agents import _templates` imports a module too
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield Import(source, node.lineno, f"{target}.{alias.name}")


def layer_of_module(module: str) -> str | None:
    """The subpackage (or bottom module) a `humanllm...` module belongs to; None for `humanllm` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_of_file(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    if rel[0] == "benchmarks":
        return "benchmarks"
    return Path(rel[1]).stem if len(rel) > 1 else "humanllm"


def python_files() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])


def all_imports() -> list[tuple[str, Import]]:
    return [(layer_of_file(path), found) for path in python_files() for found in imports_in(path)]


def dependency_graph(imports: list[tuple[str, Import]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for layer, found in imports:
        target = layer_of_module(found.module)
        if target is None or target == layer:
            continue
        if not graph.has_edge(layer, target):
            graph.add_edge(layer, target, lines=[])
        graph.edges[layer, target]["lines"].append(str(found))
    return graph


def cycle_problems(graph: nx.DiGraph) -> list[str]:
    problems = []
    for cycle in nx.simple_cycles(graph):
        steps = list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
        lines = [f"    {a} -> {b}: {graph.edges[a, b]['lines'][0]}" for a, b in steps]
        problems.append(" -> ".join([*cycle, cycle[0]]) + "\n" + "\n".join(lines))
    return problems


def private_problems(imports: list[tuple[str, Import]]) -> list[str]:
    """Imports of `humanllm.P._x` (at any depth below P) from outside subpackage P."""
    problems = []
    for layer, found in imports:
        parts = found.module.split(".")
        owner = layer_of_module(found.module)
        private = any(p.startswith("_") and not p.startswith("__") for p in parts[2:])
        if private and owner != layer:
            problems.append(str(found))
    return problems


def layer_problems(graph: nx.DiGraph) -> list[str]:
    problems = []
    for a, b, data in graph.edges(data=True):
        if a == "llm" and b in ABOVE_LLM:
            problems.append(f"the model layer imports {b}: {data['lines'][0]}")
        if a in BOTTOM and b not in BOTTOM:
            problems.append(f"the bottom layer ({a}) imports {b}: {data['lines'][0]}")
        if b == "cli" and a not in ("humanllm", "__main__"):
            problems.append(f"{a} imports the CLI (the top layer): {data['lines'][0]}")
        if b == "testing" and a not in ("cli", "benchmarks"):
            problems.append(f"{a} imports the test kit (only the CLI, tests and benchmarks may): {data['lines'][0]}")
    return problems


def test_the_walk_sees_every_subpackage_and_lazy_imports() -> None:
    graph = dependency_graph(all_imports())
    assert set(SUBPACKAGES) - {"cli"} <= set(graph.nodes)
    assert graph.has_edge("cli", "testing")  # registered inside `register()`: a lazy import


def test_no_cycle_between_subpackages() -> None:
    problems = cycle_problems(dependency_graph(all_imports()))
    assert not problems, "import cycles between subpackages:\n" + "\n".join(problems)


def test_no_import_of_another_subpackages_private_module() -> None:
    problems = private_problems(all_imports())
    assert not problems, "imports of another subpackage's private module:\n" + "\n".join(problems)


def test_layers_point_down() -> None:
    problems = layer_problems(dependency_graph(all_imports()))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "check", "expected"),
    [
        ("def f():\n    from humanllm.agents.judge import Judge\n", "layers", "the model layer imports agents"),
        ("from humanllm.simulation._store import EpisodeStore\n", "private", "humanllm.simulation._store"),
        ("from humanllm.simulation import _store\n", "private", "humanllm.simulation._store"),
        ("from ..simulation._store import EpisodeStore\n", "private", "humanllm.simulation._store"),
    ],
)
def test_the_checks_catch_a_bad_import(source: str, check: str, expected: str) -> None:
    """A lazy import inside a function, and each spelling of a private import, in a module of `llm`."""
    probe = PACKAGE / "llm" / "_probe.py"  # never written: its text is given
    imports = [("llm", found) for found in imports_in(probe, source)]
    problems = layer_problems(dependency_graph(imports)) if check == "layers" else private_problems(imports)
    assert len(problems) == 1 and expected in problems[0] and "humanllm/llm/_probe.py:" in problems[0]


def test_a_cycle_is_named_with_its_lines() -> None:
    imports = [
        ("llm", Import("humanllm/llm/_x.py", 3, "humanllm.agents.judge")),
        ("agents", Import("humanllm/agents/judge.py", 7, "humanllm.llm")),
    ]
    (problem,) = cycle_problems(dependency_graph(imports))
    assert "humanllm/llm/_x.py:3" in problem and "humanllm/agents/judge.py:7" in problem
