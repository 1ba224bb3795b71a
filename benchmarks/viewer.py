"""The viewer at scale: index time and list-page latency on a 10,000-episode fake store, and the server's memory.

Run:  python benchmarks/viewer.py [--episodes 10000] [--judged 0.2] [--repeats 30] [--keep DIR]

Builds the store quickly: a few real episodes from the fake writer and characters (`run_episode`)
are the templates; each stored episode is one of them with a fresh id, its characters given other
patterns from the library, another situation and reworded speech, written through
`EpisodeStore.open_for_writing` (spec None: a legacy record, so `data verify` counts it unverifiable,
not wrong). A share of them get a judgement (`JudgementStore`, varied scores). Then it measures:

- the cold index (`StoreIndex.refresh` of the whole store) and an incremental refresh after 100 more
  episodes are appended;
- through `humanllm view` on a real uvicorn on 127.0.0.1 (a subprocess, index already built), the
  median and 90th-percentile latency of filtered list pages (pattern, pattern + situation sorted by score,
  a text search, a far page) over `--repeats` requests each; the goal is a filtered page under 300 ms;
- the server's resident memory (VmRSS, and its peak VmHWM) after the requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import checklist_items, judged_characters
from humanllm.core import Episode, Score, Verdict
from humanllm.evaluation import Judgement, JudgementStore
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import PatternLibrary, load_graph, load_library
from humanllm.simulation import EpisodeStore, RoleModels, SimulationConfig, run_episode
from humanllm.testing import fake_character, fake_writer, register_fakes
from humanllm.viewer import StoreIndex

ROOT = Path(__file__).resolve().parents[1]
SITUATIONS = ("duty", "intellect", "adversity", "mating", "positivity", "negativity", "deception", "sociality")
WORDS = ("plan", "report", "deadline", "coffee", "budget", "promise", "window", "garden", "letter", "storm", "apology")


def templates(count: int) -> list[Episode]:
    register_fakes()
    graph = load_graph(load_library())
    models = RoleModels(
        writer=RoleModel(role="writer", spec=parse_spec("fake"), chat=fake_writer(), max_retries=0),
        character=RoleModel(role="character", spec=parse_spec("fake"), chat=fake_character(), max_retries=0),
    )
    bundles = [["confirmation bias", "kind"], ["sunk cost fallacy", "anxious"], ["bold", "halo effect"]]
    out = []
    for seed in range(count):
        config = SimulationConfig(
            patterns=bundles[seed % 3], seed=seed, rules=TurnRules(min_turns=6, max_turns=8), situation="duty"
        )
        out.append(asyncio.run(run_episode(config, graph, models)))
    return out


def variant(template: Episode, number: int, rng: random.Random, pool: list[str]) -> Episode:
    """One stored episode: the template with a fresh id, other patterns, another situation, reworded speech."""
    scenario = template.scenario
    names = [p.name for p in scenario.characters]
    carried = {name: [rng.choice(pool)] for name in names}
    turns = [
        t.model_copy(update={"speech": f"{t.speech} {' '.join(rng.sample(WORDS, 3))} #{number}"})
        for t in template.conversation.turns
    ]
    return template.model_copy(
        update={
            "id": f"{number:016x}",
            "spec": None,
            "scenario": scenario.model_copy(
                update={
                    "patterns": sorted({p for ps in carried.values() for p in ps}),
                    "char2pattern": carried,
                    "situation": rng.choice(SITUATIONS),
                }
            ),
            "conversation": template.conversation.model_copy(update={"turns": turns}),
        }
    )


def judgement(episode: Episode, rng: random.Random, library: PatternLibrary) -> list[Judgement]:
    out = []
    for character in judged_characters(episode):
        items = checklist_items(episode.scenario, character, library)
        verdicts = [
            Verdict(item_id=i.id, score=Score(rng.choice((-1, 0, 1, 1))), evidence="turns 2", reason="seen")
            for i in items
        ]
        out.append(
            Judgement(
                episode_id=episode.id,
                character=character,
                judge="fake",
                run=0,
                prompt_version="bench",
                batch_size=8,
                items=items,
                verdicts=verdicts,
            )
        )
    return out


def build(folder: Path, count: int, judged: float, *, start: int = 0, seed: int = 0) -> float:
    library = load_library()
    pool = [c.name for c in library]
    rng = random.Random(seed + start)
    bases = templates(4)
    began = time.perf_counter()
    episodes = [variant(bases[n % len(bases)], n, rng, pool) for n in range(start, start + count)]
    with EpisodeStore.open_for_writing(folder) as store:
        store.add_episodes(episodes)
    with JudgementStore(folder) as judgements:
        for episode in episodes:
            if rng.random() < judged:
                for one in judgement(episode, rng, library):
                    judgements.add(one)
    return time.perf_counter() - began


def _rss(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def _get(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as answer:
        answer.read()
        assert answer.status == 200
    return (time.perf_counter() - began) * 1000


def serve_and_measure(folder: Path, index_dir: Path, repeats: int, queries: dict[str, dict[str, str]]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "humanllm", "view", str(folder), "--port", "0", "--no-open",
               "--index-dir", str(index_dir), "--ratings", str(index_dir / "ratings.jsonl")]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = ""
        assert process.stdout is not None
        while not url:
            line = process.stdout.readline()
            if not line:
                raise SystemExit("humanllm view did not start")
            match = re.search(r"viewer: (http://\S+/)", line)
            url = match.group(1) if match else ""
        print(f"server: {url} (pid {process.pid}), memory after start: {_rss(process.pid)} MB")
        for name, params in queries.items():
            target = f"{url}f/0/episodes?{urllib.parse.urlencode(params)}"
            _get(target)  # warm
            times = sorted(_get(target) for _ in range(repeats))
            p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
            print(f"list page, {name:<38} median {statistics.median(times):6.1f} ms   p90 {p90:6.1f} ms")
        print(f"server memory after the requests (MB): {_rss(process.pid)}")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--judged", type=float, default=0.2, help="Share of episodes with judgements.")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--keep", type=Path, default=None, help="Build the store here (default: a temporary folder).")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="humanllm-viewer-bench-"))
    folder, index_dir = root / "store", root / "index"
    seconds = build(folder, args.episodes, args.judged)
    size = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    print(f"store: {args.episodes} episodes, {size:.1f} MB of shards, written in {seconds:.1f}s ({folder})")
    library = load_library()
    index = StoreIndex(folder, library, index_dir=index_dir)
    report = index.refresh()
    print(
        f"cold index: {report.seconds:.2f}s for {report.episodes} episodes and {report.judgements} judgements "
        f"({report.bytes_read / 1e6:.1f} MB); index file {index.path.stat().st_size / 1e6:.1f} MB"
    )
    build(folder, 100, args.judged, start=args.episodes)
    again = index.refresh()
    print(f"incremental refresh after appending 100: {again.seconds * 1000:.0f} ms ({again.episodes} episodes read)")
    pattern = "kind" if "kind" in library else next(iter(library)).name
    queries = {
        "unfiltered, first page": {},
        f"pattern={pattern}": {"pattern": pattern},
        "pattern + situation, by IPE desc": {"pattern": pattern, "situation": "duty", "sort": "ipe", "desc": "1"},
        "text search 'garden apology'": {"text": "garden apology"},
        "judged, IPE >= 20, page 10": {"judged": "1", "min_score": "20", "page": "10"},
    }
    serve_and_measure(folder, index_dir, args.repeats, queries)


if __name__ == "__main__":
    main()
