"""Sticky routing of episodes over replicas: one set of role models per endpoint, health-checked.

`EndpointRouter.route(episode_id)` gives the replica every call of that episode attempt goes to
(`rendezvous` over the healthy replicas). Health checks (`GET {base}/models`, else `GET /health`,
with a short timeout) run before the batch when there are several replicas, again when an episode
fails on a replica with an endpoint error or its calls keep failing, and every `recheck_s` for a
replica that is out: it takes new episodes again once it answers. A run with one endpoint is
checked by nothing (as before); its figures are recorded all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from pydantic import Field

from humanllm.errors import EndpointError
from humanllm.llm import CallStats, EndpointUsage, parse_spec, redact, redact_url
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._endpoints import Endpoint, rendezvous
from humanllm.simulation._run import RoleModels

logger = logging.getLogger(__name__)

ERRORS_BEFORE_CHECK = 3
"""Calls failed in a row on a replica before it is health-checked (without waiting for an episode to fail)."""


class EndpointReport(EndpointUsage):
    """One replica's share of a run: its figures, its weight, the episode attempts it got, its health at the end."""

    weight: float = Field(default=1.0, description="Its weight in the routing.")
    episodes: int = Field(default=0, description="Episode attempts routed to it (retries count again).")
    healthy: bool = Field(default=True, description="Whether it passed its last health check.")
    last_problem: str | None = Field(default=None, description="Why its last failed health check failed.")


async def check_health(base_url: str, *, api_key: str | None, timeout_s: float) -> str | None:
    """None when the server answers `GET {base}/models` (or `GET /health` at its root) with 2xx; else why not."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    root = base_url.rstrip("/").removesuffix("/v1")
    problem = "no answer"
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as client:
        for url in (f"{base_url.rstrip('/')}/models", f"{root}/health"):
            try:
                answer = await client.get(url)
            except httpx.HTTPError as exc:
                return redact(f"{type(exc).__name__}: {exc}".rstrip(": "))  # unreachable: no point in the second route
            if answer.is_success:
                return None
            problem = f"{redact_url(url)} answered {answer.status_code}"
    return problem


@dataclass(eq=False)
class Replica:
    """One endpoint and the role models that talk to it."""

    endpoint: Endpoint
    models: RoleModels
    stats: CallStats
    healthy: bool = True
    problem: str | None = None
    checked_at: float = -math.inf
    episodes: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    slots: asyncio.Semaphore | None = None

    @property
    def name(self) -> str:
        return self.endpoint.name


class EndpointRouter:
    """Routes each episode id to one replica; see the module's docstring."""

    def __init__(
        self,
        replicas: Sequence[Replica],
        *,
        api_key: str | None = None,
        check_timeout_s: float = 3.0,
        recheck_s: float = 10.0,
    ) -> None:
        if not replicas:
            raise ValueError("a router needs at least one replica")
        self.replicas = list(replicas)
        self.check_timeout_s = check_timeout_s
        self.recheck_s = recheck_s
        self._api_key = api_key
        self._tasks: set[asyncio.Task[None]] = set()
        for replica in self.replicas:
            if replica.endpoint.concurrency is not None:
                replica.slots = asyncio.Semaphore(replica.endpoint.concurrency)

    @classmethod
    def build(cls, config: SimulationConfig, endpoints: Sequence[Endpoint], **options: float) -> EndpointRouter:
        """One set of role models per endpoint (`config.settings` with its URL); [] = the config's own endpoint."""
        from humanllm.llm import rate_limiter_for

        limiter = rate_limiter_for(config.settings)  # --rpm is one budget across replicas and roles
        if not endpoints:
            endpoints = [Endpoint.model_construct(url=_where(config), weight=1.0, concurrency=None)]
            settings = [config.settings]
        else:
            settings = [config.settings.model_copy(update={"base_url": e.url}) for e in endpoints]
        replicas = []
        for endpoint, own in zip(endpoints, settings, strict=True):
            stats = CallStats()
            models = RoleModels.build(config.model_copy(update={"settings": own}), limiter=limiter).with_stats(stats)
            replicas.append(Replica(endpoint=endpoint, models=models, stats=stats))
        key = config.settings.resolved_api_key()
        return cls(replicas, api_key=key.get_secret_value() if key else None, **options)

    @classmethod
    def single(cls, models: RoleModels) -> EndpointRouter:
        """A router over the given models alone (no checks, no figures of its own)."""
        endpoint = Endpoint.model_construct(url="", weight=1.0, concurrency=None)
        return cls([Replica(endpoint=endpoint, models=models, stats=CallStats())])

    @property
    def checked(self) -> bool:
        """Whether replicas are health-checked: only when there are several to choose from."""
        return len(self.replicas) > 1

    async def prepare(self) -> None:
        """Check every replica before the batch; `EndpointError` when none answers."""
        if not self.checked:
            return
        await asyncio.gather(*(self._check(r) for r in self.replicas))
        if not any(r.healthy for r in self.replicas):
            problems = "; ".join(f"{r.name}: {r.problem}" for r in self.replicas)
            raise EndpointError(
                f"none of the {len(self.replicas)} endpoints answered its health check ({problems}): start the "
                "servers or fix --base-url / --endpoints",
                cause="health check",
            )

    async def route(self, episode_id: str) -> Replica:
        """The replica this attempt of the episode runs on (sticky: the same id, the same healthy set, the same one)."""
        if self.checked:
            self._schedule_checks()
        healthy = [
            r for r in self.replicas if r.healthy
        ] or self.replicas  # all out: the calls fail and the breaker decides
        replica = healthy[rendezvous(episode_id, [r.endpoint for r in healthy])]
        replica.episodes += 1
        return replica

    @contextlib.asynccontextmanager
    async def slot(self, replica: Replica) -> AsyncIterator[None]:
        """Hold one of the replica's own concurrency slots (when it has a cap) while its episode runs."""
        if replica.slots is None:
            yield
            return
        async with replica.slots:
            yield

    async def failed(self, replica: Replica) -> bool:
        """An episode failed on `replica` with an endpoint error: True when it is now out (and others are in)."""
        if not self.checked:
            return False
        failed_at = time.monotonic()
        async with replica.lock:  # many episodes may fail on it at once: one check after the failures
            if replica.healthy and replica.checked_at < failed_at:
                await self._check_now(replica)
        return not replica.healthy and any(r.healthy for r in self.replicas)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def report(self) -> dict[str, EndpointReport]:
        """Per replica (redacted URL): figures for the manifest; {} for a router over given models."""
        return {
            r.name: EndpointReport(
                **r.stats.usage().model_dump(),
                weight=r.endpoint.weight,
                episodes=r.episodes,
                healthy=r.healthy,
                last_problem=r.problem,
            )
            for r in self.replicas
            if r.name
        }

    # --- health ---------------------------------------------------------------------------------
    def _schedule_checks(self) -> None:
        now = time.monotonic()
        for replica in self.replicas:
            due = now - replica.checked_at > self.recheck_s
            suspect = replica.healthy and replica.stats.consecutive_errors >= ERRORS_BEFORE_CHECK
            if due and (suspect or not replica.healthy) and not replica.lock.locked():
                task = asyncio.create_task(self._check(replica))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _check(self, replica: Replica) -> None:
        async with replica.lock:
            await self._check_now(replica)

    async def _check_now(self, replica: Replica) -> None:
        problem = await check_health(replica.endpoint.url, api_key=self._api_key, timeout_s=self.check_timeout_s)
        replica.checked_at = time.monotonic()
        was = replica.healthy
        replica.healthy, replica.problem = problem is None, problem
        if was and problem is not None:
            logger.warning("%s failed its health check (%s): its new episodes go to the others", replica.name, problem)
        elif not was and problem is None:
            logger.warning("%s answers its health check again: it takes new episodes", replica.name)


def _where(config: SimulationConfig) -> str:
    """The name of a run's one endpoint: its base URL (redacted) when a role is remote, else 'in-process'."""
    remote = any(parse_spec(spec).backend == "openai" for spec in (config.models.writer, config.models.character))
    if not remote:
        return "in-process"
    return redact_url(config.settings.resolved_base_url() or "https://api.openai.com/v1")
