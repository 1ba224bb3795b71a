"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from humanllm.patterns import InteractionGraph, PatternLibrary, load_graph, load_library

PatternsDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--patterns-dir",
        help="Folder of your own pattern cards (YAML) that add to or override the built-in ones. "
        "Repeatable; also read from $HUMANLLM_PATTERNS_DIR.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of readable text.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing output (without it, an existing one is an error).")
]


def library(patterns_dir: list[Path] | None) -> PatternLibrary:
    return load_library(patterns_dir or [])


def graph(patterns_dir: list[Path] | None) -> InteractionGraph:
    return load_graph(library(patterns_dir), patterns_dir or [])
