"""Many episodes at once: bounded concurrency, retries, token budget and rate, crash-safe storing."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from humanllm.core import Episode, TokenUsage, run_bounded
from humanllm.errors import (
    EndpointError,
    HumanLLMError,
    PermanentEndpointError,
    StructuredOutputError,
    cause_of_kind,
)
from humanllm.patterns import InteractionGraph
from humanllm.redaction import redact
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._router import EndpointReport, EndpointRouter
from humanllm.simulation._run import Plan, RoleModels, run_episode
from humanllm.simulation._store import EpisodeStore, Failure

logger = logging.getLogger(__name__)

Event = Literal["done", "failed", "retry", "skipped"]
OnEvent = Callable[[Event, str, TokenUsage | None], None]


class RunOptions(BaseModel):
    """How a batch runs."""

    concurrency: int = Field(default=8, ge=1, description="Episodes in flight at once.")
    episode_retries: int = Field(default=3, ge=0, description="Extra tries for an episode that fails.")
    budget_tokens: int | None = Field(default=None, ge=1, description="Stop starting episodes past this many tokens.")
    tokens_per_minute: int | None = Field(default=None, ge=1, description="Token rate limit across episodes.")
    backoff_s: float = Field(default=1.0, ge=0, description="Base of the exponential backoff between tries.")
    max_consecutive_failures: int = Field(
        default=5,
        ge=1,
        description="Circuit breaker: stop starting episodes after this many endpoint failures in a row.",
    )


class RunReport(BaseModel):
    requested: int
    already_done: int
    done: int = 0
    failed: int = 0
    usage: TokenUsage = Field(default_factory=TokenUsage)
    """Everything spent, failed attempts included (what the budget counts)."""
    usage_failed: TokenUsage = Field(default_factory=TokenUsage)
    """The part of `usage` spent on attempts that failed."""
    stopped_by_budget: bool = False
    stopped_reason: str | None = None
    """Why the batch stopped starting episodes early (circuit breaker), when it did."""
    elapsed_s: float = 0.0
    endpoints: dict[str, EndpointReport] = Field(default_factory=dict)
    """Per endpoint (redacted URL): calls, tokens, errors, latency and episodes routed to it."""


def _sum(usages: Iterable[TokenUsage]) -> TokenUsage:
    total = TokenUsage()
    for usage in usages:
        total = total.add(usage)
    return total


def _total(episode: Episode) -> TokenUsage:
    return _sum(episode.usage.values())


def failure_cause(exc: BaseException) -> str:
    """The root cause of a failed attempt in a word or two: "401", "timeout", "invalid output", ..."""
    endpoint_error = cause_of_kind(exc, EndpointError)
    if endpoint_error is not None:
        return endpoint_error.cause
    if cause_of_kind(exc, StructuredOutputError) is not None:
        return "invalid output"
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    return type(root).__name__


class _TokenRate:
    """Sliding one-minute window of tokens spent, to respect a tokens-per-minute limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.window: deque[tuple[float, int]] = deque()

    def add(self, tokens: int) -> None:
        self.window.append((time.monotonic(), tokens))

    async def wait(self) -> None:
        if self.limit is None:
            return
        while True:
            now = time.monotonic()
            while self.window and now - self.window[0][0] > 60:
                self.window.popleft()
            if sum(t for _, t in self.window) < self.limit:
                return
            await asyncio.sleep(min(5.0, 60 - (now - self.window[0][0]) + 0.01))


class EpisodeJob(Protocol):
    """One episode a batch may run: its id (known before any call) and how to make it with given models."""

    @property
    def id(self) -> str: ...

    async def run(self, models: RoleModels) -> Episode: ...


@dataclass(frozen=True)
class PlannedEpisode:
    """A `generate` job: the scenario is written, then the conversation played (the episode graph)."""

    config: SimulationConfig
    plan: Plan
    graph: InteractionGraph

    @property
    def id(self) -> str:
        return self.plan.id

    async def run(self, models: RoleModels) -> Episode:
        return await run_episode(self.config, self.graph, models, plan=self.plan, fresh_meters=False)


async def run_batch(
    store: EpisodeStore,
    planned: list[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    models: RoleModels | EndpointRouter,
    options: RunOptions,
    on_event: OnEvent | None = None,
    seed: int = 0,
) -> RunReport:
    """Run every planned episode not yet in the store (`run_jobs` over `PlannedEpisode`s)."""
    jobs = [PlannedEpisode(config, plan, graph) for config, plan in planned]
    return await run_jobs(store, jobs, models, options, on_event, seed)


async def run_jobs(
    store: EpisodeStore,
    jobs: Sequence[EpisodeJob],
    models: RoleModels | EndpointRouter,
    options: RunOptions,
    on_event: OnEvent | None = None,
    seed: int = 0,
) -> RunReport:
    """Run every job whose episode is not yet in the store; returns counts and usage.

    A permanent endpoint error (401, 403, 404, a rejected request) stops the batch at once and is
    raised after the episodes in flight end; those episodes are not recorded as failed, since the
    same command, once the endpoint is fixed, runs them. Transient errors that outlast their
    retries count towards the circuit breaker: that many in a row and no new episode starts.
    Each attempt gets models with fresh meters (`models.metered()`), so what a failed attempt spent
    is counted too. With an `EndpointRouter`, each attempt runs on the replica its episode id routes
    to; an endpoint failure on a replica that then fails its health check moves the episode's next
    attempt to another replica at once (no backoff, not counted by the circuit breaker).
    """
    router = models if isinstance(models, EndpointRouter) else EndpointRouter.single(models)
    done_before = store.done
    todo = [job for job in jobs if job.id not in done_before]
    report = RunReport(requested=len(jobs), already_done=len(jobs) - len(todo))
    rng = random.Random(seed)
    rate = _TokenRate(options.tokens_per_minute)
    stop = asyncio.Event()
    start = time.monotonic()
    emit = on_event or (lambda *_args: None)
    streak = {"failures": 0}

    def trip_breaker(reason: str) -> None:
        streak["failures"] += 1
        if streak["failures"] >= options.max_consecutive_failures and report.stopped_reason is None:
            report.stopped_reason = (
                f"stopped starting episodes after {streak['failures']} endpoint failures in a row "
                f"(last: {reason}); fix the endpoint and run the same command again"
            )
            logger.warning("%s", report.stopped_reason)
            stop.set()

    def over_budget() -> bool:
        return options.budget_tokens is not None and report.usage.total_tokens >= options.budget_tokens

    async def one(job: EpisodeJob) -> None:
        for attempt in range(1, options.episode_retries + 2):
            if stop.is_set() or over_budget():
                stop.set()
                return
            await rate.wait()
            replica = await router.route(job.id)
            metered = replica.models.metered()
            try:
                async with router.slot(replica):
                    episode = await job.run(metered)
            except Exception as exc:  # recorded and retried: one bad episode never stops the batch
                lost = _sum(metered.usage().values())
                rate.add(lost.total_tokens)
                report.usage = report.usage.add(lost)
                report.usage_failed = report.usage_failed.add(lost)
                if cause_of_kind(exc, PermanentEndpointError) is not None:
                    raise  # ... unless the user must fix something: run_bounded stops everything
                if not isinstance(exc, HumanLLMError):
                    logger.exception("episode %s failed unexpectedly", job.id)
                reason = redact(f"{type(exc).__name__}: {exc}")
                endpoint_error = cause_of_kind(exc, EndpointError)
                store.add_failure(Failure(id=job.id, attempt=attempt, reason=reason, cause=failure_cause(exc)))
                moved = endpoint_error is not None and await router.failed(replica)
                if endpoint_error is not None and not moved:
                    trip_breaker(str(endpoint_error))
                if attempt > options.episode_retries:
                    report.failed += 1
                    emit("failed", job.id, None)
                    return
                emit("retry", job.id, None)
                transient = endpoint_error is not None and not moved
                await asyncio.sleep(rng.uniform(0, options.backoff_s * 2 ** (attempt - 1)) if transient else 0)
                continue
            streak["failures"] = 0
            spent = _total(episode)
            rate.add(spent.total_tokens)
            report.usage = report.usage.add(spent)
            if store.add_episode(episode):
                report.done += 1
            emit("done", job.id, spent)
            return

    try:
        if todo:
            await router.prepare()
        await run_bounded(todo, one, limit=options.concurrency, stop=stop)
    finally:
        await router.close()
        report.endpoints = router.report()
    report.stopped_by_budget = stop.is_set() and report.stopped_reason is None
    report.elapsed_s = time.monotonic() - start
    return report
