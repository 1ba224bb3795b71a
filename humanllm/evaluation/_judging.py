"""Judging stored episodes: every judged character x every judge run, concurrently, into a judgement store."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from pydantic import BaseModel, Field

from humanllm.agents.judge import Judge, judged_characters, prompt_version
from humanllm.core import ChecklistItem, Episode, TokenUsage, Verdict, run_bounded, spec_id
from humanllm.errors import HumanLLMError, PermanentEndpointError, cause_of_kind
from humanllm.evaluation._judge_options import JudgeOptions
from humanllm.evaluation._progress import SilentTracker, Tracker
from humanllm.evaluation._records import Judgement, JudgementKey, JudgementStore
from humanllm.evaluation._spec import JudgementSpec
from humanllm.graphs import ModelChoice
from humanllm.graphs.judge import JudgeContext, JudgeParts, JudgeState, judge_graph, recursion_limit
from humanllm.llm import RoleModel, UsageMeter
from humanllm.patterns import PatternLibrary
from humanllm.redaction import redact

logger = logging.getLogger(__name__)

JUDGE_PHASE = "judging"


class JudgeRunReport(BaseModel):
    """What a judging pass did."""

    requested: int = Field(description="(episode, character, run) judgements asked for.")
    already_done: int = Field(default=0, description="Found in the store, not judged again.")
    judged: int = Field(default=0, description="Judged and stored now.")
    failed: int = Field(default=0, description="Failed (not stored; judged again on the next run).")
    failures: dict[str, int] = Field(default_factory=dict, description="Failure reason -> count.")
    usage: TokenUsage = Field(default_factory=TokenUsage, description="Judge calls and tokens spent now.")
    elapsed_s: float = 0.0


async def judge_character(
    episode: Episode,
    character: str,
    *,
    model: RoleModel,
    library: PatternLibrary,
    options: JudgeOptions,
    run: int = 0,
    items: list[ChecklistItem] | None = None,
) -> Judgement:
    """One judge run over one character: the judge graph, packaged as a `Judgement`."""
    metered = replace(model, usage=UsageMeter())
    context = JudgeContext(
        judge=ModelChoice.of(str(model.spec), model.settings),
        seed=options.seed + run,
        batch_size=options.batch_size,
        retries=options.retries,
        holistic=options.holistic,
    ).prebuilt(JudgeParts(judge=Judge(model=metered, library=library, seed=options.seed + run)))
    state: JudgeState = {"episode": episode, "character": character}
    if items:
        state["items"] = items
    result = await judge_graph().ainvoke(
        state,
        context=context,
        config={"recursion_limit": recursion_limit(options.retries)},
    )
    asked: list[ChecklistItem] = result["items"]
    verdicts: dict[str, Verdict] = result.get("verdicts", {})
    spec = judgement_spec(episode.id, character, run, model, options)
    return Judgement(
        id=spec_id(spec),
        spec=spec,
        episode_id=episode.id,
        character=character,
        judge=spec.judge,
        run=run,
        prompt_version=spec.prompt_version,
        batch_size=options.batch_size,
        items=asked,
        verdicts=[
            verdicts.get(i.id) or Verdict(item_id=i.id, score=None, reason="the judge was never asked") for i in asked
        ],
        holistic=result.get("holistic"),
        rounds=result.get("rounds", 1),
        usage=metered.usage.usage,
    )


def judgement_spec(episode_id: str, character: str, run: int, model: RoleModel, options: JudgeOptions) -> JudgementSpec:
    """Everything that determines one judgement: the judge with all its sampling settings, the prompts, the run."""
    return JudgementSpec(
        episode_id=episode_id,
        character=character,
        judge=str(model.spec),
        generation=model.generation(),
        prompt_version=prompt_version(),
        batch_size=options.batch_size,
        run=run,
        seed=options.seed,
        holistic=options.holistic,
    )


def judgement_key(episode_id: str, character: str, run: int, model: RoleModel, options: JudgeOptions) -> JudgementKey:
    return spec_id(judgement_spec(episode_id, character, run, model, options))


async def judge_episodes(
    episodes: Iterable[Episode],
    store: JudgementStore,
    *,
    model: RoleModel,
    library: PatternLibrary,
    options: JudgeOptions,
    tracker: Tracker | None = None,
) -> JudgeRunReport:
    """Judge every judged character of every episode `options.runs` times; skips what the store has."""
    tracker = tracker or SilentTracker()
    jobs = [
        (episode, character, run)
        for episode in episodes
        for character in judged_characters(episode)
        for run in range(options.runs)
    ]
    todo = [job for job in jobs if judgement_key(job[0].id, job[1], job[2], model, options) not in store]
    report = JudgeRunReport(requested=len(jobs), already_done=len(jobs) - len(todo))
    tracker.start(JUDGE_PHASE, total=len(jobs), done=report.already_done)
    reasons: Counter[str] = Counter()
    start = time.monotonic()

    async def one(job: tuple[Episode, str, int]) -> None:
        episode, character, run = job
        try:
            judgement = await judge_character(
                episode, character, model=model, library=library, options=options, run=run
            )
        except Exception as exc:  # recorded; one bad character never stops the pass
            if cause_of_kind(exc, PermanentEndpointError) is not None:
                raise  # ... but a judge endpoint that refuses us stops it (run_bounded)
            if not isinstance(exc, HumanLLMError):
                logger.exception("judging %s / %s failed unexpectedly", episode.id, character)
            logger.warning("judging %s / %s (run %d) failed: %s", episode.id, character, run, exc)
            report.failed += 1
            reasons[redact(f"{type(exc).__name__}: {str(exc)[:120]}")] += 1
        else:
            report.judged += store.add(judgement)
            report.usage = report.usage.add(judgement.usage)
        tracker.advance(JUDGE_PHASE)

    await run_bounded(todo, one, limit=options.concurrency)
    report.failures = dict(reasons.most_common())
    report.elapsed_s = time.monotonic() - start
    return report
