"""One builder step = render a prompt, answer it from the cache or the model, report progress.

A step whose output stays invalid after the model's repairs returns None (the caller falls back
deterministically and says so in the provenance); endpoint failures propagate, so an interrupted
build stops and resumes from the cache.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, TypeVar

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from humanllm.agents._templates import render, template_version
from humanllm.agents.pattern_builder._cache import StepCache, cache_key
from humanllm.core import TokenUsage
from humanllm.errors import StructuredOutputError
from humanllm.llm import RoleModel

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

SYSTEM_TEMPLATE = "pattern_builder/system"
"""The builder's system prompt (part of every step's cache key)."""


class BuildProgress(Protocol):
    """Where the builder reports progress (the CLI draws a progress bar from it)."""

    def stage(self, name: str, total: int) -> None:
        """A stage starts with `total` steps."""

    def advance(self, name: str, *, cached: bool, usage: TokenUsage) -> None:
        """One step of a stage finished; `usage` is this run's total so far."""


class NullProgress:
    """Reports nothing."""

    def stage(self, name: str, total: int) -> None:
        return None

    def advance(self, name: str, *, cached: bool, usage: TokenUsage) -> None:
        return None


class StepRunner:
    """Runs steps against one model with a cache, bounded concurrency and a log of fallbacks."""

    def __init__(
        self,
        model: RoleModel,
        cache: StepCache | None,
        progress: BuildProgress,
        *,
        concurrency: int = 4,
    ) -> None:
        self.model = model
        self.cache = cache
        self.progress = progress
        self.semaphore = asyncio.Semaphore(concurrency)
        self.cache_hits = 0
        self.fallbacks: list[str] = []
        self.templates: dict[str, str] = {}
        self._start = model.usage.usage

    @property
    def usage(self) -> TokenUsage:
        """Tokens spent by this run (the model may have been used before)."""
        now = self.model.usage.usage
        return TokenUsage(
            calls=now.calls - self._start.calls,
            prompt_tokens=now.prompt_tokens - self._start.prompt_tokens,
            completion_tokens=now.completion_tokens - self._start.completion_tokens,
        )

    def fallback(self, what: str) -> None:
        logger.info("%s", what)
        self.fallbacks.append(what)

    async def ask(
        self, step: str, template: str, schema: type[T], *, stage: str, instead: str, **variables: object
    ) -> T | None:
        """The step's reply: cached, or from the model; None when the model's output stays unusable.

        `instead` says what the caller does when it gets None; it goes into the fallback log.
        """
        system = render(SYSTEM_TEMPLATE)
        prompt = render(template, **variables)
        version = self.templates.setdefault(template, template_version(template))
        self.templates.setdefault(SYSTEM_TEMPLATE, template_version(SYSTEM_TEMPLATE))
        spec = str(self.model.spec)
        key = cache_key(prompt_version=version, model=spec, schema=schema, prompt=f"{system}\n\n{prompt}")
        if self.cache is not None:
            hit = self.cache.get(step, key, schema)
            if hit is not None:
                self.cache_hits += 1
                self.progress.advance(stage, cached=True, usage=self.usage)
                return hit
        messages = [SystemMessage(content=system), HumanMessage(content=prompt)]
        try:
            async with self.semaphore:
                reply = await self.model.astructured(messages, schema)
        except StructuredOutputError as exc:
            self.fallback(f"{step}: the model's output was unusable ({_short(exc)}); {instead}")
            self.progress.advance(stage, cached=False, usage=self.usage)
            return None
        if self.cache is not None:
            self.cache.put(step, key, reply, model=spec, prompt_version=version)
        self.progress.advance(stage, cached=False, usage=self.usage)
        return reply


def _short(exc: Exception) -> str:
    text = str(exc)
    marker = "last problem: "
    if marker in text:
        text = text.split(marker, 1)[1].split(");", 1)[0]
    return text[:200]
