"""Judge a source of stored episodes, then score it: the body of `eval score` and of each benchmark model."""

from __future__ import annotations

import re

from humanllm.agents.judge import judged_characters, prompt_version
from humanllm.core import TokenUsage
from humanllm.evaluation._judging import JudgeOptions, JudgeRunReport, judge_episodes
from humanllm.evaluation._progress import Tracker
from humanllm.evaluation._records import JudgementStore
from humanllm.evaluation._scoring import SampleInfo, SampleKey, ScoreReport, sample_info, score_judgements
from humanllm.evaluation._sources import EpisodeSource
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph


def slug(spec: str) -> str:
    """A file-name-safe form of a model spec."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "model"


def results_name(judge: str, data: str | None = None) -> str:
    """File name of the scores `eval score` writes for one judge (and one data file, when given)."""
    return f"scores-{slug(data)}-{slug(judge)}.json" if data else f"scores-{slug(judge)}.json"


def score_source(
    source: EpisodeSource, *, judge: str, options: JudgeOptions, graph: InteractionGraph
) -> tuple[ScoreReport, TokenUsage]:
    """Score what is stored for this judge, prompt version and batch size (runs below `options.runs`)."""
    infos: dict[SampleKey, SampleInfo] = {}
    for episode, split in source.episodes():
        for character in judged_characters(episode):
            infos[(episode.id, character)] = sample_info(episode, character, split, graph)
    store = JudgementStore(source.judgements)
    judgements = store.select(
        judge=judge,
        prompt_version=prompt_version(),
        batch_size=options.batch_size,
        runs=options.runs,
        episode_ids={episode_id for episode_id, _ in infos},
    )
    judgements = [j for j in judgements if (j.episode_id, j.character) in infos]
    usage = TokenUsage()
    for judgement in judgements:
        usage = usage.add(judgement.usage)
    return score_judgements(judgements, infos), usage


async def judge_source(
    source: EpisodeSource,
    *,
    model: RoleModel,
    graph: InteractionGraph,
    options: JudgeOptions,
    tracker: Tracker | None = None,
) -> JudgeRunReport:
    """Judge every stored episode of the source that is not judged yet; judgements go next to the episodes."""
    store = JudgementStore(source.judgements)
    episodes = [episode for episode, _split in source.episodes()]
    return await judge_episodes(episodes, store, model=model, library=graph.library, options=options, tracker=tracker)
