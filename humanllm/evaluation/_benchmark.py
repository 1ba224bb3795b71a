"""The benchmark: each model under test plays each judged character of the eval splits, then is judged.

replay: teacher-forced. For every turn of the target in the original conversation, the model sees
        the original conversation up to that turn (through the same `CharacterAgent` prompt as in
        simulation) and writes the target's turn; the other characters' turns stay as they were.
live:   the model plays the target inside the multi-agent conversation while a fixed partner model
        plays everyone else, under the same rule director as in simulation.

The format says how the model under test is prompted. json: the simulation's character prompt,
the transcript in one user message, a JSON turn back. sharegpt: exactly the system prompt and
multi-turn history that `export-sft` writes for the character (`SftPlayer`), a plain trinity turn
back: the format a model fine-tuned on our data was trained on.

Each played episode is stored (one per source episode x target x model) in `OUT/<model>/<run>/`
(`<run>` is the mode, `<mode>-sharegpt` for that format), resumably, with its judgements next to it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents import template_version
from humanllm.agents.character import CharacterAgent, private_guidance
from humanllm.agents.director import RuleDirector, TurnRules
from humanllm.agents.judge import judged_characters, prompt_version
from humanllm.core import Conversation, Episode, Turn, run_bounded, spec_id
from humanllm.errors import ConfigError, HumanLLMError, PermanentEndpointError, cause_of_kind
from humanllm.evaluation._judging import JudgeOptions
from humanllm.evaluation._pipeline import judge_source, score_source, slug
from humanllm.evaluation._progress import SilentTracker, Tracker
from humanllm.evaluation._results import EvalResults, EvalSource
from humanllm.evaluation._sft_player import SFT_TEMPLATES, SftPlayer
from humanllm.evaluation._sources import EpisodeSource, find_source
from humanllm.evaluation._spec import PlaySpec
from humanllm.graphs.conversation import ConversationContext, ConversationParts, conversation_graph, recursion_limit
from humanllm.graphs.conversation.context import Speaker
from humanllm.llm import (
    DEFAULT_SPEC,
    ModelSettings,
    RoleModel,
    UsageMeter,
    build_role_model,
    canonical_spec,
    model_template_versions,
    parse_spec,
)
from humanllm.patterns import InteractionGraph, PatternLibrary
from humanllm.redaction import redact
from humanllm.simulation import EpisodeStore

logger = logging.getLogger(__name__)

BenchMode = Literal["replay", "live"]
BenchFormat = Literal["json", "sharegpt"]
PLAY_PHASE = "playing"


class BenchmarkConfig(BaseModel):
    """What `humanllm eval run` benchmarks, and how."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(min_length=1, description="Model specs under test.")
    data: Path = Field(description="Split folder (id_eval.jsonl, ood_eval.jsonl, mixed_eval.jsonl) or a JSONL file.")
    out: Path = Field(description="Where played episodes, judgements and results go.")
    mode: BenchMode = Field(default="replay", description="replay (teacher-forced) or live (with a partner model).")
    format: BenchFormat = Field(
        default="json",
        description="json: the character prompt and a JSON turn; sharegpt: the export-sft prompt and history, "
        "a plain trinity turn (for models trained on `humanllm data export-sft`).",
    )
    partner: str = Field(default=DEFAULT_SPEC, description="live mode: the model that plays the other characters.")
    guidance: bool = Field(
        default=False, description="Give the model under test the private pattern guidance used in simulation."
    )
    limit: int | None = Field(default=None, ge=1, description="At most this many episodes per split file.")
    concurrency: int = Field(default=4, ge=1, description="Characters played at once.")
    seed: int = Field(default=0, description="Sampling seed of the models under test (part of each played id).")

    @property
    def run_name(self) -> str:
        """The mode, with the format when it is not json: names the played folders and the results file."""
        return self.mode if self.format == "json" else f"{self.mode}-{self.format}"


PLAY_TEMPLATES = ("character_system", "character_turn", "character_leak_retry")
"""The agents' prompts a json play renders (the model layer's are added to them)."""


def play_templates(fmt: BenchFormat, mode: BenchMode) -> dict[str, str]:
    """Template name -> hash of every prompt a play renders (a live partner always plays through json)."""
    json_names = {**{name: template_version(name) for name in PLAY_TEMPLATES}, **model_template_versions()}
    if fmt == "json":
        return json_names
    sft = {name: template_version(name) for name in SFT_TEMPLATES}
    return {**sft, **json_names} if mode == "live" else sft


def play_spec(
    source: Episode, target: str, model: str, config: BenchmarkConfig, settings: ModelSettings | None = None
) -> PlaySpec:
    """Everything that determines one played episode: the source, the target, the model and all play settings."""
    model = canonical_spec(model)
    partner = canonical_spec(config.partner) if config.mode == "live" else None
    remote = any(parse_spec(m).backend == "openai" for m in (model, partner) if m)
    return PlaySpec(
        source=source.id,
        target=target,
        model=model,
        generation=(settings or ModelSettings()).generation(remote=remote),
        mode=config.mode,
        partner=partner,
        guidance=config.guidance,
        seed=config.seed,
        templates=play_templates(config.format, config.mode),
        format=config.format,
    )


def play_id(
    source: Episode, target: str, model: str, config: BenchmarkConfig, settings: ModelSettings | None = None
) -> str:
    """Content hash of one played episode: the hash of its `play_spec`."""
    return spec_id(play_spec(source, target, model, config, settings))


def _agent(
    episode: Episode, name: str, model: RoleModel, library: PatternLibrary, guidance: bool, fmt: BenchFormat = "json"
) -> Speaker:
    patterns = library.resolve(episode.scenario.char2pattern.get(name, []))
    if fmt == "sharegpt":
        return SftPlayer(episode, name, model, private_guidance(patterns) if guidance else None)
    return CharacterAgent(
        profile=episode.scenario.profile(name),
        background=episode.scenario.background,
        patterns=patterns,
        model=model,
        guidance=guidance,
    )


async def replay_turns(
    episode: Episode,
    target: str,
    model: RoleModel,
    library: PatternLibrary,
    *,
    guidance: bool,
    fmt: BenchFormat = "json",
) -> list[Turn]:
    """Teacher-forced: the model writes each of the target's turns from the original context."""
    agent = _agent(episode, target, model, library, guidance, fmt)
    original = episode.conversation.turns
    played: list[Turn] = []
    for index, turn in enumerate(original):
        if turn.speaker != target:
            played.append(turn)
            continue
        played.append(await agent.take_turn(original[:index], closing=index == len(original) - 1))
    return played


def _rules(episode: Episode) -> TurnRules:
    turns = len(episode.conversation.turns)
    low = episode.config.get("min_turns")
    high = episode.config.get("max_turns")
    low = low if isinstance(low, int) and low >= 2 else max(2, turns)
    high = high if isinstance(high, int) and high >= low else max(low, turns)
    return TurnRules(min_turns=low, max_turns=high)


async def live_conversation(
    episode: Episode,
    target: str,
    model: RoleModel,
    partner: RoleModel,
    library: PatternLibrary,
    *,
    guidance: bool,
    fmt: BenchFormat = "json",
) -> Conversation:
    """The model plays the target in the multi-agent conversation; the partner plays the others (as in simulation)."""
    scenario = episode.scenario
    agents: dict[str, Speaker] = {
        p.name: _agent(episode, p.name, model, library, guidance, fmt)
        if p.name == target
        else _agent(episode, p.name, partner, library, True)
        for p in scenario.characters
    }
    rules = _rules(episode)
    director = RuleDirector(
        [p.name for p in scenario.characters],
        scenario.protagonist.name,
        rules,
        random.Random(f"director:{episode.seed}"),
    )
    result = await conversation_graph().ainvoke(
        {"turns": []},
        context=ConversationContext(rules=rules, seed=episode.seed).prebuilt(ConversationParts(agents, director)),
        config={"recursion_limit": recursion_limit(rules.max_turns)},
    )
    return Conversation(turns=result["turns"], ended_by=result.get("ended_by", ""))


def source_episodes(source: EpisodeSource, limit: int | None) -> list[tuple[Episode, str]]:
    """The source's episodes with their split label, at most `limit` per split file (in file order)."""
    out: list[tuple[Episode, str]] = []
    for path, label in zip(source.files, source.labels, strict=True):
        one = EpisodeSource(
            files=(path,), judgements=source.judgements, labels=(label,), ood_patterns=source.ood_patterns
        )
        for count, pair in enumerate(one.episodes()):
            if limit is not None and count >= limit:
                break
            out.append(pair)
    return out


async def play_model(
    config: BenchmarkConfig,
    pairs: Sequence[tuple[Episode, str]],
    spec: str,
    *,
    settings: ModelSettings,
    library: PatternLibrary,
    partner: RoleModel | None,
    tracker: Tracker,
) -> tuple[Path, list[str], int]:
    """Play every judged character of every episode with one model.

    Returns its store folder, the failures, and how many plays the folder holds (done now or before).
    """
    folder = config.out / slug(spec) / config.run_name
    store = EpisodeStore.open_for_writing(folder, shard="bench")  # closed below; a second writer fails at once
    model = build_role_model("character", spec, settings)
    jobs = [(episode, split, target) for episode, split in pairs for target in judged_characters(episode)]
    todo = [job for job in jobs if play_id(job[0], job[2], spec, config, settings) not in store.done]
    phase = f"{PLAY_PHASE} {spec}"
    tracker.start(phase, total=len(jobs), done=len(jobs) - len(todo))
    failures: list[str] = []

    async def one(job: tuple[Episode, str, str]) -> None:
        episode, split, target = job
        metered = replace(model, usage=UsageMeter())
        try:
            if config.mode == "replay":
                conversation = Conversation(
                    turns=await replay_turns(
                        episode, target, metered, library, guidance=config.guidance, fmt=config.format
                    ),
                    ended_by="replay",
                )
            else:
                assert partner is not None
                conversation = await live_conversation(
                    episode, target, metered, partner, library, guidance=config.guidance, fmt=config.format
                )
        except HumanLLMError as exc:
            if cause_of_kind(exc, PermanentEndpointError) is not None:
                raise  # the endpoint refuses us: every other play would fail too (run_bounded stops)
            logger.warning("%s could not play %s in %s: %s", spec, target, episode.id, exc)
            failures.append(redact(f"{spec} could not play {target} in episode {episode.id}: {exc}"))
            tracker.advance(phase)
            return
        played = play_spec(episode, target, spec, config, settings)
        store.add_episode(
            Episode(
                id=spec_id(played),
                spec=played.model_dump(mode="json"),
                scenario=episode.scenario,
                conversation=conversation,
                mode=config.mode,
                seed=episode.seed,
                models={"character": spec, **({"partner": config.partner} if config.mode == "live" else {})},
                usage={"character": metered.usage.usage},
                config={
                    "target": target,
                    "source_episode": episode.id,
                    "split": split,
                    "guidance": config.guidance,
                    "format": config.format,
                },
            )
        )
        tracker.advance(phase)

    try:
        await run_bounded(todo, one, limit=config.concurrency)
        stored = len(store.done)
    finally:
        store.close()
    return folder, failures, stored


async def run_benchmark(
    config: BenchmarkConfig,
    *,
    judge: RoleModel,
    graph: InteractionGraph,
    options: JudgeOptions,
    settings: ModelSettings,
    tracker: Tracker | None = None,
) -> EvalResults:
    """Play, judge and score every model; the results are also saved to `OUT/results-<run>.json`."""
    tracker = tracker or SilentTracker()
    source = find_source(config.data)
    pairs = source_episodes(source, config.limit)
    if not pairs:
        raise ConfigError(f"{config.data} has no episodes to benchmark on: run `humanllm data split` first")
    partner = build_role_model("character", config.partner, settings) if config.mode == "live" else None
    results = EvalResults(
        kind="benchmark",
        judge=str(judge.spec),
        generation=judge.generation(),
        prompt_version=prompt_version(),
        options=options,
        config={
            "mode": config.mode,
            "format": config.format,
            "models": list(config.models),
            "partner": config.partner if config.mode == "live" else None,
            "guidance": config.guidance,
            "data": str(config.data),
            "limit": config.limit,
            "seed": config.seed,
        },
        reports={},
    )
    for spec in config.models:
        folder, failures, stored = await play_model(
            config, pairs, spec, settings=settings, library=graph.library, partner=partner, tracker=tracker
        )
        results.notes += failures
        if not stored:
            continue  # every play failed: nothing to judge or score (the notes say why); not a broken folder
        played = find_source(folder)
        await judge_source(played, model=judge, graph=graph, options=options, tracker=tracker)
        report, judge_usage = score_source(
            played,
            judge=str(judge.spec),
            options=options,
            graph=graph,
            generation=judge.generation(),
            expected_splits=source.split_labels(),  # the played store cannot know a split it never saw
        )
        results.reports[spec] = report
        results.sources[spec] = EvalSource(data=str(folder), judgements=str(folder))
        results.usage[spec] = EpisodeStore.open_for_reading(folder).total_usage()
        results.usage[f"judge ({spec})"] = judge_usage
    results.save(config.out / f"results-{config.run_name}.json")
    return results
