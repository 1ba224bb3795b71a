"""Time to load the pattern library, build the interaction graph, and sample 10,000 bundles; the bundle mix per recipe.

Run:  python benchmarks/graph.py [--samples 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from humanllm.core import PatternKind
from humanllm.patterns import (
    BundleRecipe,
    BundleSampler,
    InteractionGraph,
    RelationType,
    assign,
    bundle_source,
    load_graph,
    load_library,
)


def _best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _mix(graph: InteractionGraph, recipe: BundleRecipe, samples: int) -> str:
    """Mean size, trait markers and social-cognitive patterns per bundle, and the share holding an excluded pair."""
    kind = {card.name: card.kind for card in graph.library}
    bundles = bundle_source(recipe, graph, seed=0).sample_many(samples)
    sizes = [len(b.patterns) for b in bundles]
    traits = [sum(kind[n] is PatternKind.TRAIT for n in b.patterns) for b in bundles]
    excluded = sum(1 for b in bundles if any(v.type is RelationType.EXCLUDES for v in graph.violations(b.patterns)))
    excluded /= len(bundles)
    return (
        f"recipe {recipe.value:<6} mean size {statistics.mean(sizes):.2f}, "
        f"traits/bundle {statistics.mean(traits):.2f}, "
        f"social-cognitive/bundle {statistics.mean(s - t for s, t in zip(sizes, traits, strict=True)):.2f}, "
        f"sizes {min(sizes)}-{max(sizes)}, with an excluded pair (spread over characters) {excluded:.1%}"
    )


def _placement(graph: InteractionGraph, bundles: list, characters: int) -> str:  # type: ignore[type-arg]
    """Of the tension and clash pairs inside the bundles, the share the assigner put on one character."""
    together: dict[RelationType, list[bool]] = {RelationType.TENSION: [], RelationType.CLASH: []}
    for bundle in bundles:
        owner = {n: i for i, slot in enumerate(assign(graph, bundle.patterns, characters).slots) for n in slot}
        for edge in graph.internal_edges(bundle.patterns):
            if edge.type in together:
                together[edge.type].append(owner[edge.a] == owner[edge.b])
    return ", ".join(
        f"{kind.value} pairs on one character {sum(v) / max(len(v), 1):.0%} of {len(v)}" for kind, v in together.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    library = load_library()
    graph = load_graph(library)
    load_s = _best(load_library, args.repeats)
    build_s = _best(lambda: load_graph(library), args.repeats)
    sampler = BundleSampler(graph, seed=0)
    sample_s = _best(lambda: BundleSampler(graph, seed=0).sample_many(args.samples), 1)
    bundles = sampler.sample_many(args.samples)
    assign_s = _best(lambda: [assign(graph, b.patterns, 3) for b in bundles[:2000]], 1)
    counts = Counter(n for b in bundles for n in b.patterns)
    sizes = [len(b.patterns) for b in bundles]
    print(f"load 244 cards:            {load_s * 1000:8.1f} ms")
    print(f"build graph:               {build_s * 1000:8.1f} ms  ({graph.nx.number_of_edges()} edges)")
    print(f"sample {args.samples} bundles:     {sample_s:8.2f} s   ({args.samples / sample_s:,.0f} bundles/s)")
    print(f"assign 2000 bundles (3 ch): {assign_s:8.2f} s")
    print(f"coverage max/min:          {max(counts.values()) / min(counts.values()):8.2f}  over {len(counts)} patterns")
    print(f"mean bundle size:          {statistics.mean(sizes):8.2f}")
    print(f"bundles with an edge:      {sum(1 for b in bundles if b.edges) / len(bundles):8.1%}")
    print(f"assigned (3 ch):           {_placement(graph, bundles[:2000], 3)}")
    for recipe in BundleRecipe:
        print(_mix(graph, recipe, args.samples))


if __name__ == "__main__":
    main()
