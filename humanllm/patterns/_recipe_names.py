"""The names of the bundle recipes (`--recipe graph|paper`), apart from the recipes themselves, so
the CLI's option choices load without the graph and the sampler."""

from __future__ import annotations

from enum import StrEnum


class BundleRecipe(StrEnum):
    GRAPH = "graph"
    """Our sampler: 2-5 patterns that interact in the graph, no excluded pair, least-used first (the default)."""
    PAPER = "paper"
    """The authors' recipe: 3-4 Big-Five markers from distinct dimensions, with p=0.7 one social-cognitive pattern."""


__all__ = ["BundleRecipe"]
