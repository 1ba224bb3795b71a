"""Bundle recipes: how a run draws its bundles (`--recipe graph|paper`)."""

from __future__ import annotations

import random
from typing import Protocol

from humanllm.errors import InvalidBundleError
from humanllm.patterns._graph import InteractionGraph
from humanllm.patterns._paper import PaperRecipe
from humanllm.patterns._recipe_names import BundleRecipe
from humanllm.patterns._sampler import Bundle, BundleConstraints, BundleSampler


class BundleSource(Protocol):
    """Anything that draws bundles one after another from its own seeded state."""

    def sample(self) -> Bundle: ...

    def sample_many(self, n: int) -> list[Bundle]: ...


def bundle_source(
    recipe: BundleRecipe,
    graph: InteractionGraph,
    *,
    seed: int = 0,
    constraints: BundleConstraints | None = None,
    characters: int = 2,
) -> BundleSource:
    """The sampler of `recipe`, seeded; the paper recipe takes no constraints (it is the authors' recipe as is)."""
    if recipe is BundleRecipe.GRAPH:
        return BundleSampler(graph, seed=seed, constraints=constraints)
    if constraints is not None and constraints != BundleConstraints():
        raise InvalidBundleError(
            "the paper recipe draws bundles as the authors did and takes no constraints (sizes, include/exclude, "
            "kinds, interaction, situation); drop them or use --recipe graph"
        )
    return PaperRecipe(graph, rng=random.Random(seed), characters=characters)
