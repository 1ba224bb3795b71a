"""Candidate character names, drawn with a seeded random generator."""

from __future__ import annotations

import functools
import random
from pathlib import Path

NAMES_FILE = Path(__file__).parent / "data" / "names.txt"


@functools.cache
def candidate_names() -> tuple[str, ...]:
    lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def draw_names(n: int, rng: random.Random) -> list[str]:
    """`n` distinct names from the shipped candidate list."""
    return rng.sample(candidate_names(), n)
