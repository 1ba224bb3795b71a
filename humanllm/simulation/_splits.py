"""Dataset splits: train / id_eval / ood_eval / mixed_eval by out-of-domain patterns (REFERENCE §6).

A scenario whose patterns are all OOD can go to `ood_eval` (`eval_size` sampled), one with no OOD
pattern to `id_eval` (`eval_size` sampled) or else `train`, one that mixes them to `mixed_eval`
(all). OOD-only scenarios beyond `eval_size` go nowhere: training on them would leak the OOD
patterns. `generate --ood-topup` fills a short `ood_eval`.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from humanllm.core import Episode
from humanllm.patterns import PatternLibrary
from humanllm.simulation._card import refresh_card
from humanllm.simulation._ood import OOD_SEED, choose_ood
from humanllm.simulation._split_plan import EVAL_SPLITS, SPLITS, SplitPlan, write_plan
from humanllm.simulation._store import EpisodeStore


def classify(episode: Episode, ood: set[str]) -> str:
    return classify_patterns(set(episode.scenario.patterns), ood)


def classify_patterns(held: set[str], ood: set[str]) -> str:
    """The split class of episodes carrying `held`: ood_eval (only OOD patterns), mixed_eval (some), id_or_train."""
    if held <= ood:
        return "ood_eval"
    if held & ood:
        return "mixed_eval"
    return "id_or_train"


class _SplitStats:
    """Running statistics of one split (no episodes kept in memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.turns = 0
        self.characters = 0
        self.patterns: set[str] = set()
        self.families: set[str] = set()
        self.situations: set[str] = set()

    def add(self, episode: Episode, library: PatternLibrary) -> None:
        self.count += 1
        self.turns += len(episode.conversation.turns)
        self.characters += len(episode.scenario.characters)
        self.patterns.update(episode.scenario.patterns)
        self.families.update(library.get(p).family.value for p in episode.scenario.patterns if p in library)
        self.situations.add(episode.scenario.situation)

    def summary(self) -> dict[str, float]:
        per = max(1, self.count)
        return {
            "episodes": self.count,
            "patterns": len(self.patterns),
            "families": len(self.families),
            "situations": len(self.situations),
            "mean_turns": round(self.turns / per, 2),
            "mean_characters": round(self.characters / per, 2),
        }


def pattern_frequencies(store: EpisodeStore, library: PatternLibrary) -> Counter[str]:
    """Card name -> episodes of the store holding it (names the library does not know are left out)."""
    frequencies: Counter[str] = Counter()
    for episode in store.iter_episodes():
        frequencies.update({library.get(p).name for p in episode.scenario.patterns if p in library})
    return frequencies


def split_store(
    store: EpisodeStore,
    library: PatternLibrary,
    out: Path,
    *,
    ood_patterns: list[str] | None = None,
    eval_size: int = 50,
    seed: int = OOD_SEED,
) -> SplitPlan:
    """Write `out/<split>.jsonl` for each split, the plan `out/splits.json` and the dataset card `out/README.md`;
    streams the store, holds only ids.

    Without `ood_patterns`, the paper's choice (`choose_ood`) over the store's pattern frequencies.
    """
    if ood_patterns:
        ood = [card.name for card in library.resolve(ood_patterns)]
    else:
        ood = choose_ood(pattern_frequencies(store, library), library, seed=seed)
    ood_set = set(ood)
    buckets: dict[str, list[str]] = {"id_or_train": [], "ood_eval": [], "mixed_eval": []}
    for episode in store.iter_episodes():
        buckets[classify(episode, ood_set)].append(episode.id)
    rng = random.Random(seed)
    id_pool = sorted(buckets["id_or_train"])
    id_eval = set(rng.sample(id_pool, min(eval_size, len(id_pool))))
    ood_pool = sorted(buckets["ood_eval"])
    ood_eval = set(rng.sample(ood_pool, min(eval_size, len(ood_pool))))
    assignment = {i: "train" for i in id_pool}
    assignment.update({i: "id_eval" for i in id_eval})
    assignment.update({i: "ood_eval" for i in ood_eval})
    assignment.update({i: "mixed_eval" for i in buckets["mixed_eval"]})

    out.mkdir(parents=True, exist_ok=True)
    handles = {name: (out / f"{name}.jsonl").open("w", encoding="utf-8") for name in SPLITS}
    stats = {name: _SplitStats() for name in SPLITS}
    try:
        for episode in store.iter_episodes():
            name = assignment.get(episode.id)
            if name is not None:
                handles[name].write(episode.model_dump_json() + "\n")
                stats[name].add(episode, library)
    finally:
        for handle in handles.values():
            handle.close()
    plan = SplitPlan(
        ood_patterns=ood,
        seed=seed,
        eval_size=eval_size,
        counts={name: stats[name].count for name in SPLITS},
        stats={name: stats[name].summary() for name in SPLITS},
        eval_ids={name: sorted(i for i, split in assignment.items() if split == name) for name in EVAL_SPLITS},
    )
    write_plan(out, plan)
    refresh_card(out)
    return plan
