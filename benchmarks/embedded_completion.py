"""Does the embedded default finish? Episodes and judge calls on the bundled SmolLM2 model.

Run:  python benchmarks/embedded_completion.py [--episodes 20] [--judge-calls 20] [--turns 4-6]

Runs `--episodes` episodes in-process (seeds 1..N, 2 characters, the default `local` model for the
writer and the characters, default settings), one at a time, then `--judge-calls` checklist-batch
judge calls (the default batch of 8 items) and `--holistic-calls` holistic calls on the finished
episodes, with the same bundled model as judge. Prints:

- the share of episodes that finish on the first episode attempt (the goal is >= 95%), with the
  reason of each failure, and seconds per episode;
- per reply schema: calls, repairs (counted from the role models' "asking for a repair" log
  lines), repairs per call, replies cut by the token limit and the longest reply in tokens;
- for the judge: calls with every item scored, unscored items, cut replies, seconds per call.

Takes about 15-20 minutes at full size on 2 CPU cores; `--episodes 3 --judge-calls 3` is a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import Judge, checklist_items, judged_characters, system_message
from humanllm.core import ChecklistItem, Episode
from humanllm.errors import HumanLLMError
from humanllm.llm import ModelSettings, RoleModel, build_role_model, json_schema_of
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode

_INVALID = re.compile(r"invalid (\w+)")


@dataclass
class SchemaStats:
    calls: int = 0
    repairs: int = 0
    cut: int = 0
    longest: int = 0
    chars: int = 0
    tokens: int = 0
    min_cpt: float = 99.0


@dataclass
class CallLog(BaseCallbackHandler):
    """Counts chat-model calls per reply schema (its title), replies cut by the token limit, lengths."""

    stats: dict[str, SchemaStats] = field(default_factory=lambda: defaultdict(SchemaStats))
    pending: dict[UUID, str] = field(default_factory=dict)
    replies: list[tuple[str, int, str]] = field(default_factory=list)
    """(schema, completion tokens, text) of every reply."""
    sink: Any = None
    """An open file that gets each reply as a JSON line as soon as it comes (--replies)."""

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        params = kwargs.get("invocation_params") or {}
        schema = json_schema_of(params.get("response_format"))
        title = (schema or {}).get("title", "free text")
        self.pending[run_id] = title
        self.stats[title].calls += 1

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        title = self.pending.pop(run_id, "free text")
        message = getattr(response.generations[0][0], "message", None)
        if message is None:
            return
        if (message.response_metadata or {}).get("finish_reason") == "length":
            self.stats[title].cut += 1
        tokens = (getattr(message, "usage_metadata", None) or {}).get("output_tokens", 0)
        stats = self.stats[title]
        self.replies.append((title, tokens, message.text))
        if self.sink is not None:
            self.sink.write(json.dumps({"schema": title, "tokens": tokens, "text": message.text}) + "\n")
            self.sink.flush()
        stats.longest = max(stats.longest, tokens)
        if tokens >= 20:  # chars per token of the reply (its JSON and free text together)
            chars = len(message.text)
            stats.chars, stats.tokens = stats.chars + chars, stats.tokens + tokens
            stats.min_cpt = min(stats.min_cpt, chars / tokens)


class RepairCounter(logging.Handler):
    """Counts the role models' "asking for a repair" log lines, per schema named in them."""

    def __init__(self, log: CallLog) -> None:
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "asking for a repair" in text:
            match = _INVALID.search(text)
            self.log.stats[match.group(1) if match else "?"].repairs += 1


def _attach(model: RoleModel, log: CallLog) -> RoleModel:
    model.chat.callbacks = [log]
    return model


def _turns(text: str) -> TurnRules:
    low, _, high = text.partition("-")
    return TurnRules(min_turns=int(low), max_turns=int(high or low))


def run_episodes(args: argparse.Namespace, log: CallLog) -> tuple[list[Episode], list[float], list[str]]:
    graph = load_graph(load_library())
    finished: list[Episode] = []
    seconds: list[float] = []
    failures: list[str] = []
    for seed in range(1, args.episodes + 1):
        config = SimulationConfig(
            seed=seed, characters=args.characters, rules=_turns(args.turns), situation=args.situation
        )
        models = RoleModels.build(config)
        _attach(models.writer, log)
        _attach(models.character, log)
        start = time.perf_counter()
        try:
            episode = asyncio.run(run_episode(config, graph, models))
        except HumanLLMError as exc:
            failures.append(f"seed {seed}: {exc}")
            print(f"  seed {seed:>2}: FAILED after {time.perf_counter() - start:.0f}s: {str(exc)[:300]}", flush=True)
            continue
        seconds.append(time.perf_counter() - start)
        finished.append(episode)
        repairs = sum(s.repairs for s in log.stats.values())
        cut = sum(s.cut for s in log.stats.values())
        print(
            f"  seed {seed:>2}: {len(episode.conversation.turns)} turns in {seconds[-1]:.0f}s "
            f"(so far: {repairs} repairs, {cut} cut replies)",
            flush=True,
        )
    return finished, seconds, failures


def judge_jobs(episodes: list[Episode], batch_size: int, calls: int) -> list[tuple[Episode, str, list[ChecklistItem]]]:
    """Up to `calls` batches, taken round-robin over the judged characters of the episodes."""
    library = load_library()
    per_character = [
        [(e, c, items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
        for e in episodes
        for c in judged_characters(e)
        for items in [checklist_items(e.scenario, c, library)]
    ]
    jobs: list[tuple[Episode, str, list[ChecklistItem]]] = []
    depth = 0
    while len(jobs) < calls and any(depth < len(b) for b in per_character):
        jobs += [b[depth] for b in per_character if depth < len(b)]
        depth += 1
    return jobs[:calls]


def run_judge(args: argparse.Namespace, episodes: list[Episode], log: CallLog) -> None:
    if not episodes:
        print("judge: no finished episodes to judge")
        return
    settings = ModelSettings(temperature=0.7, max_tokens=args.judge_max_tokens, seed=0)
    judge = Judge(model=_attach(build_role_model("judge", "local", settings), log), library=load_library(), seed=0)
    jobs = judge_jobs(episodes, args.batch_size, args.judge_calls)
    complete, unscored, items, seconds = 0, 0, 0, []
    reasons: Counter[str] = Counter()
    for episode, character, batch in jobs:
        start = time.perf_counter()
        verdicts = asyncio.run(
            judge.score_items(system_message(episode, character), character, batch, len(episode.conversation.turns))
        )
        seconds.append(time.perf_counter() - start)
        missing = [v for v in verdicts.values() if not v.scored]
        complete += not missing
        unscored += len(missing)
        items += len(verdicts)
        reasons.update(v.reason.split(" (")[0][:90] for v in missing)
    if jobs:
        print(
            f"judge: {len(jobs)} item-batch calls (batch {args.batch_size}): every item scored in "
            f"{complete}/{len(jobs)} ({complete / len(jobs):.0%}); unscored items {unscored}/{items} "
            f"({unscored / max(1, items):.1%}); {statistics.mean(seconds):.1f} s/call"
        )
        for reason, count in reasons.most_common(5):
            print(f"  unscored x{count}: {reason}")
    characters = [(e, c) for e in episodes for c in judged_characters(e)][: args.holistic_calls]
    rated = 0
    for episode, character in characters:
        turns = sum(turn.speaker == character for turn in episode.conversation.turns)
        scores = asyncio.run(
            judge.score_holistic(system_message(episode, character), character, method="coser", actor_turns=turns)
        )
        rated += scores.anthropomorphism is not None and scores.fidelity is not None
    if characters:
        print(
            f"holistic (CoSER flaws): both dimensions scored for {rated}/{len(characters)} characters "
            f"({judge.holistic_tries} tries each at most)"
        )


def print_schemas(log: CallLog) -> None:
    print(
        f"{'schema':<24}{'calls':>6}{'repairs':>8}{'rep/call':>9}{'cut':>5}{'longest tok':>12}"
        f"{'chars/tok':>10}{'min':>6}"
    )
    for title, s in sorted(log.stats.items()):
        cpt = f"{s.chars / s.tokens:>10.2f}{s.min_cpt:>6.2f}" if s.tokens else f"{'-':>10}{'-':>6}"
        print(f"{title:<24}{s.calls:>6}{s.repairs:>8}{s.repairs / max(1, s.calls):>9.2f}{s.cut:>5}{s.longest:>12}{cpt}")


def make_episodes(args: argparse.Namespace, log: CallLog) -> list[Episode]:
    print(f"{args.episodes} episodes (seeds 1-{args.episodes}), {args.characters} characters, {args.turns} turns")
    start = time.perf_counter()
    episodes, seconds, failures = run_episodes(args, log)
    wall = time.perf_counter() - start
    share = len(episodes) / max(1, args.episodes)
    print(f"finished on the first episode attempt: {len(episodes)}/{args.episodes} ({share:.0%}; goal >= 95%)")
    if seconds:
        print(
            f"seconds per finished episode: mean {statistics.mean(seconds):.1f}, median "
            f"{statistics.median(seconds):.1f}; all attempts {wall / max(1, args.episodes):.1f} s/episode"
        )
    for failure in failures:
        print(f"  failed: {failure[:400]}")
    if args.save:
        with open(args.save, "w", encoding="utf-8") as out:
            out.writelines(e.model_dump_json() + "\n" for e in episodes)
    return episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=20, help="Episodes, seeds 1..N.")
    parser.add_argument("--judge-calls", type=int, default=20, help="Checklist-batch judge calls.")
    parser.add_argument("--holistic-calls", type=int, default=5, help="Holistic judge calls.")
    parser.add_argument("--characters", type=int, default=2)
    parser.add_argument("--turns", default="4-6", help="Turns per episode, MIN-MAX.")
    parser.add_argument("--situation", default=None, help="A situation for every episode (default: drawn).")
    parser.add_argument("--batch-size", type=int, default=8, help="Items per judge call (the eval default).")
    parser.add_argument("--judge-max-tokens", type=int, default=1536, help="The eval CLI's default.")
    parser.add_argument("--save", default=None, help="Also write the finished episodes to this JSONL file.")
    parser.add_argument("--replies", default=None, help="Also write every reply (schema, tokens, text) as JSONL.")
    parser.add_argument(
        "--from-episodes", default=None, help="Judge the episodes of this JSONL file (from --save); make none."
    )
    args = parser.parse_args()

    log = CallLog(sink=open(args.replies, "w", encoding="utf-8") if args.replies else None)  # noqa: SIM115
    counter = RepairCounter(log)
    llm_logger = logging.getLogger("humanllm.llm")
    llm_logger.addHandler(counter)
    llm_logger.setLevel(logging.INFO)
    if args.from_episodes:
        with open(args.from_episodes, encoding="utf-8") as lines:
            episodes = [Episode.model_validate_json(line) for line in lines if line.strip()]
        print(f"judging {len(episodes)} stored episodes from {args.from_episodes}")
    else:
        episodes = make_episodes(args, log)
        print_schemas(log)
    if args.judge_calls > 0 or args.holistic_calls > 0:
        run_judge(args, episodes, log)
        print_schemas(log)
    if log.sink is not None:
        log.sink.close()


if __name__ == "__main__":
    main()
