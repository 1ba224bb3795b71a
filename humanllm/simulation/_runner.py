"""Many episodes at once: bounded concurrency, retries, token budget and rate, crash-safe storing."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from humanllm.core import Episode, TokenUsage
from humanllm.errors import EndpointError, HumanLLMError
from humanllm.patterns import InteractionGraph
from humanllm.simulation._config import SimulationConfig
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


class RunReport(BaseModel):
    requested: int
    already_done: int
    done: int = 0
    failed: int = 0
    usage: TokenUsage = Field(default_factory=TokenUsage)
    stopped_by_budget: bool = False
    elapsed_s: float = 0.0


def _total(episode: Episode) -> TokenUsage:
    total = TokenUsage()
    for usage in episode.usage.values():
        total = total.add(usage)
    return total


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


async def run_batch(
    store: EpisodeStore,
    planned: list[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    models: RoleModels,
    options: RunOptions,
    on_event: OnEvent | None = None,
    seed: int = 0,
) -> RunReport:
    """Run every planned episode not yet in the store; returns counts and usage."""
    done_before = store.done
    todo = [(c, p) for c, p in planned if p.id not in done_before]
    report = RunReport(requested=len(planned), already_done=len(planned) - len(todo))
    rng = random.Random(seed)
    rate = _TokenRate(options.tokens_per_minute)
    gate = asyncio.Semaphore(options.concurrency)
    stop = asyncio.Event()
    start = time.monotonic()
    emit = on_event or (lambda *_args: None)

    def over_budget() -> bool:
        return options.budget_tokens is not None and report.usage.total_tokens >= options.budget_tokens

    async def one(config: SimulationConfig, plan: Plan) -> None:
        async with gate:
            for attempt in range(1, options.episode_retries + 2):
                if stop.is_set() or over_budget():
                    stop.set()
                    return
                await rate.wait()
                try:
                    episode = await run_episode(config, graph, models, plan=plan)
                except Exception as exc:  # recorded and retried: one bad episode never stops the batch
                    if not isinstance(exc, HumanLLMError):
                        logger.exception("episode %s failed unexpectedly", plan.id)
                    reason = f"{type(exc).__name__}: {exc}"
                    store.add_failure(Failure(id=plan.id, attempt=attempt, reason=reason))
                    if attempt > options.episode_retries:
                        report.failed += 1
                        emit("failed", plan.id, None)
                        return
                    emit("retry", plan.id, None)
                    transient = isinstance(exc, EndpointError)
                    await asyncio.sleep(rng.uniform(0, options.backoff_s * 2 ** (attempt - 1)) if transient else 0)
                    continue
                spent = _total(episode)
                rate.add(spent.total_tokens)
                report.usage = report.usage.add(spent)
                if store.add_episode(episode):
                    report.done += 1
                emit("done", plan.id, spent)
                return

    await asyncio.gather(*(one(c, p) for c, p in todo))
    report.stopped_by_budget = stop.is_set()
    report.elapsed_s = time.monotonic() - start
    return report
