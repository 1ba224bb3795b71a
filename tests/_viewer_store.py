"""A fixture store for the viewer's tests, written by the real writers on scripted fakes.

Episodes come from `run_episode` (fake writer and characters) into `EpisodeStore.open_for_writing`,
judgements from `judge_source` with a fake judge whose verdicts vary (scores, n/a, an unscored item,
evidence citing turn 3), failed attempts through `add_failure`, and the split from `split_store`.
One turn's speech is a `<script>` that must never run in the viewer.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from humanllm.agents.director import TurnRules
from humanllm.core import Episode
from humanllm.evaluation import JudgeOptions, find_source, judge_source
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import InteractionGraph
from humanllm.simulation import EpisodeStore, Failure, RoleModels, SimulationConfig, run_episode, split_store
from humanllm.testing import fake_character, fake_judge, fake_writer, judge_reply

SCRIPT = "<script>window.__pwned = true; alert('x')</script> & more"
BUNDLES = (
    ["confirmation bias", "kind"],
    ["sunk cost fallacy", "anxious"],
    ["bold", "halo effect"],
    ["shy", "anchoring bias"],
)
SITUATIONS = ("negativity", "sociality", "duty", "intellect")


def _role(name: str, chat: Any) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


def varied_judge_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The fake judge, with varied verdicts: item 1 of a batch cites turn 3, item 2 is n/a, item 3 is missing
    (so unscored), the rest score by `fake_judge_score` citing turn 1."""
    text = judge_reply(messages, kwargs)
    reply = json.loads(text)
    if not isinstance(reply, dict) or "anthropomorphism" in reply or "character_fidelity" in reply:
        return text
    ids = list(reply)
    if ids:
        reply[ids[0]] = {**reply[ids[0]], "turns": [3], "score": 1, "reason": "Turn three shows it."}
    if len(ids) > 1:
        reply[ids[1]] = {**reply[ids[1]], "turns": [], "score": "n/a", "reason": "No opportunity."}
    if len(ids) > 2:
        del reply[ids[2]]
    return json.dumps(reply)


def write_episodes(
    folder: Path, graph: InteractionGraph, count: int, *, start: int = 0, script: bool = True
) -> list[Episode]:
    """`count` fake episodes (seeds start.., bundles and situations in turn) appended to the store's `main` shard."""
    models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
    episodes = []
    with EpisodeStore.open_for_writing(folder) as store:
        for seed in range(start, start + count):
            config = SimulationConfig(
                patterns=list(BUNDLES[seed % len(BUNDLES)]),
                situation=SITUATIONS[seed % len(SITUATIONS)],
                seed=seed,
                rules=TurnRules(min_turns=4, max_turns=4),
            )
            episode = asyncio.run(run_episode(config, graph, models))
            if script and seed == 0:
                turns = list(episode.conversation.turns)
                turns[1] = turns[1].model_copy(update={"speech": SCRIPT})
                episode = episode.model_copy(
                    update={"conversation": episode.conversation.model_copy(update={"turns": turns})}
                )
            store.add_episode(episode)
            episodes.append(episode)
    return episodes


def judge(folder: Path, graph: InteractionGraph) -> None:
    model = _role("judge", fake_judge(varied_judge_reply))
    options = JudgeOptions(runs=1, batch_size=6, retries=0, holistic="off", concurrency=4)
    asyncio.run(judge_source(find_source(folder), model=model, graph=graph, options=options))


def build_store(folder: Path, graph: InteractionGraph, count: int = 100) -> list[Episode]:
    """The fixture store: `count` episodes (the first judged), two open failures, a split."""
    episodes = write_episodes(folder, graph, count)
    judged = folder.parent / f"{folder.name}-judged"
    with EpisodeStore.open_for_writing(judged) as store:
        store.add_episodes(episodes[:6])
    judge(judged, graph)
    # the judgements of the first episodes, beside the store's episodes (as `eval score STORE` writes them)
    (folder / "judgements-main.jsonl").write_bytes((judged / "judgements-main.jsonl").read_bytes())
    with EpisodeStore.open_for_writing(folder) as store:
        store.add_failure(Failure(id="f" * 16, attempt=1, reason="the endpoint answered 401: check the key"))
        store.add_failure(Failure(id="e" * 16, attempt=2, reason="the model did not answer in time", cause="timeout"))
        split_store(store, graph.library, folder / "splits", ood_patterns=["anxious", "sunk cost fallacy"], eval_size=5)
    return episodes
