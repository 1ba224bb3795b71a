"""Judge cost and agreement: calls and tokens per episode, batched vs per-item, on one judge model.

Run:  python benchmarks/judge.py [--episodes 2] [--items 8] [--batch-size 4] [--judge local] [--data DIR]

Makes `--episodes` short episodes with the offline fake writer and characters (instant; or reads
stored ones with --data), then judges every pattern carrier of each twice with the same judge and
seed: batched (B items per call) and per item (one call per item). `--items` caps the checklist
items per character (a seeded sample that keeps MPD items) so the default run on the local model
stays within a few minutes on 2 CPU cores; --items 0 judges them all. The holistic call is the same
in both modes and is left out.

Prints judge calls and tokens per episode for each mode, wall time, unscored share, and agreement
between the modes: exact agreement and Cohen's kappa on the items both scored, Pearson r of the
sample scores.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field

from langchain_core.messages import HumanMessage

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import checklist_items, judged_characters
from humanllm.core import ChecklistItem, Episode, Metric, TokenUsage
from humanllm.evaluation import Judgement, JudgeOptions, cohen_kappa, find_source, judge_character, pearson
from humanllm.llm import ModelSettings, RoleModel, build_role_model, parse_spec
from humanllm.patterns import InteractionGraph, PatternLibrary, load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode
from humanllm.testing import ScriptedChatModel, fake_character, fake_writer, register_fakes


def _role(role: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=role, spec=parse_spec("fake"), chat=chat, max_retries=0)


def fake_episodes(graph: InteractionGraph, count: int, turns: int) -> list[Episode]:
    out = []
    for seed in range(count):
        config = SimulationConfig(seed=seed, characters=2, rules=TurnRules(min_turns=turns, max_turns=turns))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
        out.append(asyncio.run(run_episode(config, graph, models)))
    return out


def capped(items: list[ChecklistItem], cap: int, rng: random.Random) -> list[ChecklistItem]:
    """At most `cap` items, in checklist order: up to a quarter MPD, the rest IPE, sampled with `rng`."""
    if cap <= 0 or len(items) <= cap:
        return items
    mpd = [i for i in items if i.metric is Metric.MPD]
    ipe = [i for i in items if i.metric is Metric.IPE]
    keep_mpd = rng.sample(mpd, min(len(mpd), max(1, cap // 4)))
    keep_ipe = rng.sample(ipe, min(len(ipe), cap - len(keep_mpd)))
    chosen = {i.id for i in keep_mpd + keep_ipe}
    return [i for i in items if i.id in chosen]


@dataclass
class ModeResult:
    usage: TokenUsage = field(default_factory=TokenUsage)
    seconds: float = 0.0
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def unscored(self) -> float:
        verdicts = [v for j in self.judgements for v in j.verdicts]
        return sum(not v.scored for v in verdicts) / max(1, len(verdicts))


def judge_all(
    jobs: list[tuple[Episode, str, list[ChecklistItem]]], model: RoleModel, library: PatternLibrary, batch_size: int
) -> ModeResult:
    result = ModeResult()
    options = JudgeOptions(runs=1, batch_size=batch_size, holistic=False, seed=0)  # default retries
    for episode, character, items in jobs:
        start = time.perf_counter()
        judgement = asyncio.run(
            judge_character(episode, character, model=model, library=library, options=options, items=items)
        )
        result.seconds += time.perf_counter() - start
        result.usage = result.usage.add(judgement.usage)
        result.judgements.append(judgement)
    return result


def sample_means(result: ModeResult) -> list[float | None]:
    out: list[float | None] = []
    for judgement in result.judgements:
        for metric in (Metric.IPE, Metric.MPD):
            scored = [s for _, s in judgement.scored(metric)]
            out.append(sum(scored) / len(scored) if scored else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="local", help="Judge model spec (default: the bundled local model).")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--turns", type=int, default=8, help="Turns per fake episode.")
    parser.add_argument("--items", type=int, default=8, help="Items per character (0 = all).")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.0, help="0 so the modes differ only by batching.")
    parser.add_argument("--data", default=None, help="Judge stored episodes (store, split folder or JSONL) instead.")
    args = parser.parse_args()
    register_fakes()  # `fake` specs build from the test kit

    graph = load_graph(load_library())
    if args.data:
        episodes = [e for e, _ in find_source(args.data).episodes()][: args.episodes]
    else:
        episodes = fake_episodes(graph, args.episodes, args.turns)
    rng = random.Random(0)
    jobs = [
        (e, c, capped(checklist_items(e.scenario, c, graph.library), args.items, rng))
        for e in episodes
        for c in judged_characters(e)
    ]
    model = build_role_model("judge", args.judge, ModelSettings(temperature=args.temperature, max_tokens=1536, seed=0))
    # load the model before timing (and before the judge graph's parallel batches reach it)
    model.text([HumanMessage(content="Say OK.")], max_tokens=2)
    items = sum(len(i) for _, _, i in jobs)
    print(f"judge {args.judge}: {len(episodes)} episodes, {len(jobs)} judged characters, {items} items")
    modes = {
        f"batched (B={args.batch_size})": judge_all(jobs, model, graph.library, args.batch_size),
        "per item (B=1)": judge_all(jobs, model, graph.library, 1),
    }
    per = len(episodes)
    print(f"{'mode':<18}{'calls/ep':>10}{'prompt tok/ep':>15}{'compl. tok/ep':>15}{'s/ep':>9}{'unscored':>10}")
    for name, r in modes.items():
        print(
            f"{name:<18}{r.usage.calls / per:>10.1f}{r.usage.prompt_tokens / per:>15.0f}"
            f"{r.usage.completion_tokens / per:>15.0f}{r.seconds / per:>9.1f}{r.unscored:>10.1%}"
        )
    batched, single = modes.values()
    pairs = [
        (int(a.score), int(b.score))
        for ja, jb in zip(batched.judgements, single.judgements, strict=True)
        for a, b in zip(ja.verdicts, jb.verdicts, strict=True)
        if a.score is not None and b.score is not None
    ]
    agree = sum(a == b for a, b in pairs) / max(1, len(pairs))
    kappa = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    means = [
        (a, b)
        for a, b in zip(sample_means(batched), sample_means(single), strict=True)
        if a is not None and b is not None
    ]
    correlation = pearson([a for a, _ in means], [b for _, b in means]) if len(means) > 1 else None

    def num(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.2f}"

    print(
        f"agreement batched vs per item: {agree:.1%} exact on {len(pairs)} items both scored, "
        f"kappa {num(kappa)}; sample scores Pearson r {num(correlation)} over {len(means)} samples"
    )


if __name__ == "__main__":
    main()
