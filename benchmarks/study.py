"""What does a study cost? The 2 x 2 x 3 example design on the bundled local model: seconds per cell episode,
seconds per judgement, and the framework's own overhead (wall time not spent inside model calls).

Run:  python benchmarks/study.py [--replicates 3] [--turns 4-6] [--out runs/bench-study] [--model local]

Runs examples/anxiety_sunk_cost.yaml (2 factors, factorial: 4 cells) with `--replicates` per cell into
a fresh folder, one episode and one judgement at a time (concurrency 1, so model time and wall time
add up), then `study report`. Model time is measured around every chat-model call by a LangChain
callback; the rest of the wall time is the framework: LangGraph, prompts, validation, the store and the
analysis. Prints seconds for the scenario, per cell episode, per judgement and for the report, and the
overhead in seconds and as a share of the wall time. On 2 CPU cores the full size takes ~15-25 minutes
(`--replicates 1 --turns 2-3` is a quick look).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import threading
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook

from humanllm.evaluation import SilentTracker
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import RunOptions
from humanllm.study import Study, TurnBounds, read_design

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "anxiety_sunk_cost.yaml"


class ModelClock(BaseCallbackHandler):
    """Wall seconds during which at least one chat-model call was running (the union of the calls' intervals:
    calls that overlap, such as a judge's parallel batches, count once)."""

    def __init__(self) -> None:
        self.started: dict[UUID, float] = {}
        self.intervals: list[tuple[float, float]] = []
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        covered, reach = 0.0, float("-inf")
        for begin, end in sorted(self.intervals):
            if end > reach:
                covered += end - max(begin, reach)
                reach = end
        return covered

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            self.started[run_id] = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **_: Any) -> None:
        self._stop(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._stop(run_id)

    def _stop(self, run_id: UUID) -> None:
        with self._lock:
            began = self.started.pop(run_id, None)
            if began is not None:
                self.intervals.append((began, time.perf_counter()))
                self.calls += 1


class EpisodeClock:
    """Wall seconds between consecutive finished episodes (concurrency 1: each episode's own time)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.durations: list[float] = []

    def __call__(self, kind: str, _episode_id: str, _usage: object) -> None:
        now = time.perf_counter()
        if kind == "done":
            self.durations.append(now - self.last)
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--turns", default="4-6", help="MIN-MAX turns per episode")
    parser.add_argument("--model", default="local", help="Model spec for every role")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-study"))
    args = parser.parse_args()
    low, high = (int(x) for x in args.turns.split("-"))

    design = read_design(EXAMPLE)
    models = design.models.model_copy(update={"character": args.model, "writer": args.model, "judge": args.model})
    design = design.model_copy(
        update={"replicates": args.replicates, "turns": TurnBounds(min=low, max=high), "models": models}
    )
    shutil.rmtree(args.out, ignore_errors=True)
    clock = ModelClock()
    episodes = EpisodeClock()

    # LangChain's own hook: a handler in this context variable joins every callback manager configured in
    # the context (the asyncio tasks of the run copy it), so every chat-model call is timed
    active: ContextVar[ModelClock | None] = ContextVar("study_benchmark_clock", default=None)
    register_configure_hook(active, inheritable=True)
    active.set(clock)

    study = Study(design, args.out, graph=load_graph(load_library()))
    start = time.perf_counter()
    report = asyncio.run(
        study.arun(options=RunOptions(concurrency=1, episode_retries=1), on_event=episodes, tracker=SilentTracker())
    )
    run_s = time.perf_counter() - start
    model_run_s = clock.seconds
    began = time.perf_counter()
    files = study.report()
    report_s = time.perf_counter() - began
    wall = run_s + report_s
    overhead = wall - model_run_s
    cells = report.cells * report.replicates
    per_episode = statistics.mean(episodes.durations) if episodes.durations else float("nan")
    print(f"design: {design.name}, {report.cells} cells x {report.replicates} replicates = {cells} episodes")
    print(f"episodes: {report.episodes.done} done, {report.episodes.failed} failed; judgements: {report.judged}")
    print(f"wall: {wall:.1f}s (run {run_s:.1f}s, report {report_s:.1f}s)")
    print(
        f"seconds per cell episode (mean of {len(episodes.durations)}, first includes the scenario): "
        f"{per_episode:.1f}; median {statistics.median(episodes.durations) if episodes.durations else 0:.1f}"
    )
    judge_s = run_s - sum(episodes.durations)
    print(f"judging: {judge_s:.1f}s for {report.judged} judgements ({judge_s / max(1, report.judged):.1f}s each)")
    print(f"model calls: {clock.calls}, {model_run_s:.1f}s inside them")
    print(
        f"framework overhead: {overhead:.1f}s = {100 * overhead / wall:.1f}% of the wall time "
        f"({1000 * (run_s - model_run_s) / max(1, clock.calls):.0f} ms per model call while running; "
        f"report {report_s:.1f}s)"
    )
    print(f"report: {files}")


if __name__ == "__main__":
    main()
