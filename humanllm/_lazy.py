"""Lazy re-exports for a package `__init__`: each name is imported from its module on first use.

A package lists its public names as ordinary imports under `if TYPE_CHECKING:` (what mypy, IDEs
and readers see) and, in the `else:` branch, `__getattr__, __dir__ = lazy_exports(__name__, __file__)`.
`from humanllm.llm import ModelSettings` then loads `humanllm.llm._settings` only, not every
backend, so `humanllm --help` does not pay for LangChain, LangGraph or torch.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _origins(init_file: str) -> dict[str, tuple[str, str]]:
    """`name -> (module, attribute)` for every `from M import a [as b]` under `if TYPE_CHECKING:`."""
    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"), filename=init_file)
    origins: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                for alias in statement.names:
                    origins[alias.asname or alias.name] = (statement.module, alias.name)
    return origins


def lazy_exports(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of `package`, read from its `__init__.py` (`init_file`)."""
    origins = _origins(init_file)

    def __getattr__(name: str) -> Any:
        try:
            module_name, attribute = origins[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name)
        try:
            value = getattr(module, attribute)
        except AttributeError:  # `from pkg import submodule`
            value = importlib.import_module(f"{module_name}.{attribute}")
        setattr(sys.modules[package], name, value)  # the next lookup is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *origins})

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
