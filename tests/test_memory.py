"""Memory stays flat with the store: eval score streams episodes and judgements; the user's fake keeps no calls.

No timings: the bounds are counts of live objects, independent of the store's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
from pathlib import Path

import pytest

from humanllm.agents.director import TurnRules
from humanllm.core import Episode, _concurrency
from humanllm.evaluation import Judgement, JudgeOptions, find_source, judge_source, score_source
from humanllm.evaluation._pipeline import judge_batch
from humanllm.evaluation._scoring import ScoreTally
from humanllm.llm import build_chat_model, build_role_model
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig
from humanllm.simulation._run import run_episode
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import ScriptedChatModel

EPISODES = 300


def _live(kind: type) -> int:
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


@pytest.fixture(autouse=True)
def _heap_not_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches freeze the heap out of the collector (`core._concurrency.frozen_heap`), which also hides the frozen
    objects from `gc.get_objects()`, the count these tests take; freezing changes no reference, so without it the
    count of what a run holds is the same, and visible."""
    monkeypatch.setattr(_concurrency, "frozen_heap", contextlib.nullcontext)


class _Counting:
    """A tracker that counts live episodes now and then while judging."""

    def __init__(self, every: int = 15) -> None:
        self.every = every
        self.advances = 0
        self.peak = 0

    def start(self, phase: str, total: int, done: int = 0) -> None:
        self.total, self.done = total, done

    def advance(self, phase: str, amount: int = 1) -> None:
        self.advances += amount
        if self.advances % self.every == 1:
            self.peak = max(self.peak, _live(Episode))


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


@pytest.fixture
def big_store(tmp_path: Path, graph: InteractionGraph) -> Path:
    """EPISODES fake episodes: one played by the factory's fakes, cloned with fresh ids."""
    config = SimulationConfig(
        patterns=["confirmation bias", "kind"],
        models=RoleSpecs(writer="fake", character="fake"),
        rules=TurnRules(min_turns=4, max_turns=4),
    )
    episode = asyncio.run(run_episode(config, graph, RoleModels.build(config)))
    folder = tmp_path / "store"
    with EpisodeStore.open_for_writing(folder) as store:
        clones = (
            episode.model_copy(update={"id": hashlib.sha256(f"clone:{i}".encode()).hexdigest()[:16], "spec": None})
            for i in range(EPISODES)
        )
        assert store.add_episodes(clones) == EPISODES
    del episode
    return folder


def test_eval_score_holds_a_bounded_number_of_episodes_and_judgements(
    big_store: Path, graph: InteractionGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = find_source(big_store)
    options = JudgeOptions(runs=1, batch_size=64, retries=0, holistic=False, concurrency=1)
    judge = build_role_model("judge", "fake")
    gc.collect()
    before = _live(Episode)
    tracker = _Counting()
    report = asyncio.run(judge_source(source, model=judge, graph=graph, options=options, tracker=tracker))
    assert report.judged == report.requested == tracker.total >= EPISODES and report.failed == 0
    bound = judge_batch(options) + 4  # one batch in flight, plus the episode being read
    assert bound < EPISODES / 2, "the store must be bigger than a batch for this test to mean anything"
    assert before + 1 <= tracker.peak <= before + bound

    peaks = {"episodes": 0, "judgements": 0, "added": 0}
    add = ScoreTally.add

    def counting_add(self: ScoreTally, judgement: Judgement, info: object) -> None:
        peaks["added"] += 1
        if peaks["added"] % 25 == 1:
            peaks["episodes"] = max(peaks["episodes"], _live(Episode))
            peaks["judgements"] = max(peaks["judgements"], _live(Judgement))
        add(self, judgement, info)  # type: ignore[arg-type]

    monkeypatch.setattr(ScoreTally, "add", counting_add)
    scores, usage = score_source(source, judge=str(judge.spec), options=options, graph=graph)
    assert scores.coverage.judgements == report.requested and usage.calls > 0
    assert peaks["judgements"] >= 1
    assert peaks["episodes"] <= before + 2 and peaks["judgements"] <= 4

    again = asyncio.run(judge_source(source, model=judge, graph=graph, options=options))
    assert (again.judged, again.already_done) == (0, report.requested)


def test_the_fake_users_run_keeps_no_calls() -> None:
    chat = build_chat_model("fake")
    assert isinstance(chat, ScriptedChatModel) and not chat.record_calls
    for _ in range(3):
        chat.invoke("Say something.")
    assert chat.calls == [] and chat.call_kwargs == []
    role = build_role_model("judge", "fake")
    assert isinstance(role.chat, ScriptedChatModel) and not role.chat.record_calls


def test_a_test_fake_still_records_and_counts_its_replies() -> None:
    chat = ScriptedChatModel(replies=["one", "two"])
    assert [chat.invoke("a").text, chat.invoke("b").text] == ["one", "two"]
    assert len(chat.calls) == 2
    quiet = ScriptedChatModel(replies=["one", "two"], record_calls=False)
    assert [quiet.invoke("a").text, quiet.invoke("b").text] == ["one", "two"]  # still replies in order
    assert quiet.calls == []
