"""Jobs for batch generation: bundles x situations, each with its own derived seed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from humanllm.core import SituationType, read_text_file
from humanllm.errors import ConfigError, DataError
from humanllm.patterns import (
    BundleConstraints,
    BundleRecipe,
    BundleSampler,
    InteractionGraph,
    PatternLibrary,
    bundle_source,
)
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._run import Plan, plan_episode


class Job(BaseModel):
    """One episode to generate."""

    patterns: list[str]
    situation: str
    seed: int


TRIGGERED = "triggered"
"""`--situations triggered`: each bundle crossed with the DIAMONDS types its own patterns' triggers name."""


def parse_situations(text: str) -> list[str]:
    """'all' -> the eight DIAMONDS types; 'triggered' -> [TRIGGERED]; otherwise a comma-separated list."""
    if text.strip().lower() == "all":
        return [s.value for s in SituationType]
    if text.strip().lower() == TRIGGERED:
        return [TRIGGERED]
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise ConfigError("--situations needs 'all' or a comma-separated list")
    return items


def triggered_situations(library: PatternLibrary, patterns: Sequence[str]) -> list[str]:
    """The DIAMONDS types any of the patterns lists among its triggers, in DIAMONDS order.

    All eight when none lists any (imported cards may have no triggers): the bundle is still played."""
    named = {s for card in library.resolve(list(patterns)) for s in card.triggers.situations}
    return [s.value for s in SituationType if s in named] or [s.value for s in SituationType]


def situations_for(library: PatternLibrary | None, patterns: Sequence[str], situations: list[str]) -> list[str]:
    """The situations one bundle is crossed with: `situations`, or the bundle's own with `triggered`."""
    if situations != [TRIGGERED]:
        return situations
    if library is None:
        raise ConfigError("--situations triggered needs the pattern library to read the triggers")
    return triggered_situations(library, patterns)


def untriggered(library: PatternLibrary, patterns: Sequence[str], situation: str) -> bool:
    """True when `situation` is a DIAMONDS type that none of the patterns lists among its triggers.

    Such a scene gives the patterns little to react to (about a third of all-situations jobs); free-text
    situations and cards without triggers are never counted."""
    if situation not in {s.value for s in SituationType}:
        return False
    cards = [library.get(p) for p in patterns if p in library]
    listed = {s.value for card in cards for s in card.triggers.situations}
    return bool(listed) and situation not in listed


def derive_seed(seed: int, index: int, situation: str) -> int:
    digest = hashlib.sha256(f"{seed}:{index}:{situation}".encode()).hexdigest()
    return int(digest[:8], 16)


def sample_jobs(
    graph: InteractionGraph,
    n: int,
    situations: list[str],
    seed: int,
    constraints: BundleConstraints | None = None,
    *,
    recipe: BundleRecipe = BundleRecipe.GRAPH,
    characters: int = 2,
) -> list[Job]:
    """`n` bundles drawn by `recipe` (each one assignable to `characters`), each crossed with every situation."""
    bundles = bundle_source(recipe, graph, seed=seed, constraints=constraints, characters=characters).sample_many(n)
    return [
        Job(patterns=b.patterns, situation=s, seed=derive_seed(seed, i, s))
        for i, b in enumerate(bundles)
        for s in situations_for(graph.library, b.patterns, situations)
    ]


def ood_jobs(graph: InteractionGraph, n: int, situations: list[str], seed: int, patterns: list[str]) -> list[Job]:
    """`n` jobs whose bundles are drawn only among `patterns` (a split's OOD patterns), situations in turn.

    Valid bundles of the graph as any (no excluded pair); the same arguments give the same jobs, so
    a re-run resumes. Every episode of them is OOD-only, for `ood_eval`.
    """
    bundles = BundleSampler(graph, seed=seed, among=patterns).sample_many(n)
    jobs = []
    for index, bundle in enumerate(bundles):
        own = situations_for(graph.library, bundle.patterns, situations)
        situation = own[index % len(own)]
        seeded = derive_seed(seed, index, f"ood:{situation}")
        jobs.append(Job(patterns=bundle.patterns, situation=situation, seed=seeded))
    return jobs


def read_bundles(path: Path) -> list[list[str]]:
    """Bundles from a file: a JSON list (of lists or "a, b" strings), or JSONL with `patterns`."""
    text = read_text_file(path, what="bundles file")
    try:
        data = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        try:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: neither a JSON list nor JSONL (line {exc.lineno}: {exc.msg})") from exc
    bundles = []
    for index, row in enumerate(rows):
        value = row.get("patterns") if isinstance(row, dict) else row
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        if not isinstance(value, list) or not value:
            raise DataError(f"{path}: bundle {index} is not a list of pattern names")
        bundles.append([str(p) for p in value])
    if not bundles:
        raise DataError(
            f'{path} holds no bundles: give a JSON list such as [["sunk cost fallacy", "kind"]] or JSONL rows '
            'with "patterns" (`humanllm graph sample --json` writes them)'
        )
    return bundles


def jobs_from_bundles(
    bundles: list[list[str]], situations: list[str], seed: int, library: PatternLibrary | None = None
) -> list[Job]:
    """Each bundle crossed with the situations (its own trigger situations with `triggered`: give `library`)."""
    return [
        Job(patterns=b, situation=s, seed=derive_seed(seed, i, s))
        for i, b in enumerate(bundles)
        for s in situations_for(library, b, situations)
    ]


def plan_jobs(base: SimulationConfig, jobs: list[Job], graph: InteractionGraph) -> list[tuple[SimulationConfig, Plan]]:
    """Each job's full config and plan (bundle, assignment, id); duplicates collapse to one."""
    seen: set[str] = set()
    planned = []
    for job in jobs:
        config = base.model_copy(update={"patterns": job.patterns, "situation": job.situation, "seed": job.seed})
        plan = plan_episode(config, graph)
        if plan.id not in seen:
            seen.add(plan.id)
            planned.append((config, plan))
    return planned


def parse_shard(text: str | None) -> tuple[int, int]:
    """'2/8' -> (2, 8); shards count from 0."""
    if not text:
        return 0, 1
    try:
        index, total = (int(p) for p in text.split("/"))
    except ValueError as exc:
        raise ConfigError(f"--shard takes i/N like 0/4, not {text!r}") from exc
    if total < 1 or not 0 <= index < total:
        raise ConfigError(f"--shard {text}: need 0 <= i < N")
    return index, total


def in_shard(episode_id: str, index: int, total: int) -> bool:
    """Deterministic partition by episode id: every id belongs to exactly one shard."""
    return int(episode_id, 16) % total == index
