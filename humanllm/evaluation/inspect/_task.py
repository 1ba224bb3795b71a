"""The inspect task: score stored role-play with our IPE / MPD checklist judge under `inspect eval`.

One inspect sample per judged character of each stored episode; one epoch per judge run (run r =
epoch r + 1, judged with seed `seed + r` as `eval score` does). The solver only lays out the
stored transcript (nothing is generated, so `--model none` will do); the scorer runs our judge
graph with our judge role on it (`judge=` is a humanllm model spec: `local`, `openai:gpt-4o-mini`,
... and `fake` where the test kit is registered).
"""

from __future__ import annotations

import functools
from pathlib import Path

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ModelOutput
from inspect_ai.scorer import Metric, Score, Scorer, Target, mean, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from humanllm.agents.holistic import HolisticChoice
from humanllm.agents.judge import JUDGE_MAX_TOKENS, JUDGE_TEMPERATURE, judged_characters
from humanllm.core import Episode
from humanllm.errors import ConfigError
from humanllm.evaluation._bootstrap import RESAMPLES
from humanllm.evaluation._judging import JudgeOptions, judge_character
from humanllm.evaluation._scoring import METRICS
from humanllm.evaluation._sources import find_source
from humanllm.evaluation.inspect._scores import SCORER, bootstrap_interval, judgement_score, transcript_messages
from humanllm.llm import ModelSettings, RoleModel, build_role_model
from humanllm.patterns import PatternLibrary, load_library


def sample_id(episode_id: str, character: str) -> str:
    return f"{episode_id}:{character}"


def roleplay_samples(data: Path, limit: int | None = None) -> list[Sample]:
    """One sample per judged character of the stored episodes (a store, split folder or JSONL file)."""
    samples = []
    for episode, split in find_source(data).episodes():
        for character in judged_characters(episode):
            samples.append(
                Sample(
                    id=sample_id(episode.id, character),
                    input=transcript_messages(episode, character),
                    target="",
                    metadata={
                        "episode_id": episode.id,
                        "character": character,
                        "split": split,
                        "patterns": episode.scenario.char2pattern.get(character, []),
                        "bundle": episode.scenario.patterns,
                    },
                )
            )
            if limit is not None and len(samples) >= limit:
                return samples
    return samples


@solver
def stored_turns() -> Solver:
    """The character's stored turns become the output; nothing is generated."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        own = [m.text for m in state.messages if isinstance(m, ChatMessageAssistant)]
        state.output = ModelOutput.from_content(model="humanllm/stored", content="\n".join(own))
        return state

    return solve


def metrics(resamples: int = RESAMPLES, seed: int = 0) -> dict[str, list[Metric]]:
    """Per metric: the mean over samples and its bootstrap interval (unscored samples left out of both);
    `resamples` 0: the mean only."""
    interval = [bootstrap_interval(resamples=resamples, seed=seed)] if resamples else []
    return {name: [mean(), *interval] for name in METRICS}


@scorer(name=SCORER, metrics=metrics())
def checklist_judge(
    data: str,
    judge: str = "local",
    batch_size: int = 8,
    retries: int = 2,
    holistic: HolisticChoice = "coser",
    na_as_zero: bool = False,
    seed: int = 0,
    judge_base_url: str | None = None,
    judge_temperature: float = JUDGE_TEMPERATURE,
    judge_max_tokens: int = JUDGE_MAX_TOKENS,
    patterns_dir: str | None = None,
) -> Scorer:
    """Our checklist judge (IPE and MPD, plus the holistic baseline) on the sample's stored episode."""
    options = JudgeOptions(
        runs=1, batch_size=batch_size, retries=retries, holistic=holistic, seed=seed, na_as_zero=na_as_zero
    )
    settings = ModelSettings(temperature=judge_temperature, max_tokens=judge_max_tokens, base_url=judge_base_url)
    model: RoleModel = build_role_model("judge", judge, settings)
    library: PatternLibrary = load_library([Path(patterns_dir)] if patterns_dir else [])

    @functools.cache
    def episodes() -> dict[str, Episode]:
        return {episode.id: episode for episode, _split in find_source(Path(data)).episodes()}

    async def score(state: TaskState, target: Target) -> Score:
        episode_id, character = state.metadata["episode_id"], state.metadata["character"]
        episode = episodes().get(episode_id)
        if episode is None:
            raise ConfigError(f"episode {episode_id} is not in {data}: give the data the samples came from")
        judgement = await judge_character(
            episode, character, model=model, library=library, options=options, run=state.epoch - 1
        )
        return judgement_score(judgement, na_as_zero=na_as_zero)

    return score


@task
def roleplay(
    data: str,
    judge: str = "local",
    runs: int = 1,
    batch_size: int = 8,
    retries: int = 2,
    holistic: HolisticChoice = "coser",
    na_as_zero: bool = False,
    seed: int = 0,
    limit: int | None = None,
    bootstrap: int = RESAMPLES,
    judge_base_url: str | None = None,
    judge_temperature: float = JUDGE_TEMPERATURE,
    judge_max_tokens: int = JUDGE_MAX_TOKENS,
    patterns_dir: str | None = None,
) -> Task:
    """Judge the stored role-play in `data` with the IPE / MPD checklists, `runs` judge runs as epochs."""
    samples = roleplay_samples(Path(data), limit)
    if not samples:
        raise ConfigError(
            f"{data} holds no episodes to judge: give a store, split folder or JSONL file (`humanllm generate` "
            "writes them)"
        )
    return Task(
        dataset=MemoryDataset(samples, name=Path(data).name, location=str(data)),
        solver=stored_turns(),
        scorer=checklist_judge(
            data=data,
            judge=judge,
            batch_size=batch_size,
            retries=retries,
            holistic=holistic,
            na_as_zero=na_as_zero,
            seed=seed,
            judge_base_url=judge_base_url,
            judge_temperature=judge_temperature,
            judge_max_tokens=judge_max_tokens,
            patterns_dir=patterns_dir,
        ),
        metrics=metrics(bootstrap, seed),
        epochs=Epochs(runs, "mean"),
    )
