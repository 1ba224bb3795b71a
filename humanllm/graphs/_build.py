"""Contexts of plain settings, and the live parts the nodes build from them.

Every graph's context is a pydantic model of serialisable settings (model specs, seeds, rules,
pattern folders), so LangGraph Studio (`langgraph dev`) can start a run from JSON and draw the
context's schema. The nodes build what they need (role models, the interaction graph, agents)
from those settings. An in-process caller that holds the parts already (the CLI shares one model
across episodes; tests pass scripted fakes) attaches them with `prebuilt(...)`: a private
attribute, never part of the schema, never serialised, never checkpointed.

No API key is ever a setting: a spec's provider reads its key from its environment variable.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from humanllm.llm import DEFAULT_SPEC, ModelSettings, RoleModel, build_role_model
from humanllm.patterns import InteractionGraph, load_graph, load_library

PartsT = TypeVar("PartsT")
ModelT = TypeVar("ModelT", bound=BaseModel)

_DEFAULTS = ModelSettings()


class ModelChoice(BaseModel):
    """A model a node builds for itself: its spec and the settings that shape its replies (no key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str = Field(
        default=DEFAULT_SPEC,
        description="Model spec: local, fake, openai:<model>, <provider>:<model>, ... (`humanllm models`). "
        "Its key, if it needs one, is read from the provider's environment variable, never from here.",
    )
    temperature: float = Field(default=_DEFAULTS.temperature, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=_DEFAULTS.max_tokens, ge=1, description="Completion token limit per call.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint URL (vLLM, llama.cpp, ...).")
    timeout_s: float = Field(default=_DEFAULTS.timeout_s, gt=0, description="Per-request timeout.")
    max_retries: int = Field(default=_DEFAULTS.max_retries, ge=0, description="Retries on 429/5xx/timeouts.")

    @classmethod
    def of(cls, spec: str, settings: ModelSettings) -> ModelChoice:
        """The choice an in-process run made (recorded in its context; the key is left out)."""
        return cls(
            spec=spec,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            base_url=settings.base_url,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
        )

    def settings(self) -> ModelSettings:
        return ModelSettings(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            base_url=self.base_url,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
        )


class Settings(BaseModel, Generic[PartsT]):
    """Base of every graph context: plain settings, plus live parts an in-process caller may attach."""

    model_config = ConfigDict(extra="forbid")

    _prebuilt: Any = PrivateAttr(default=None)

    def prebuilt(self, parts: PartsT) -> Self:
        """The same settings, with parts the nodes use instead of building their own."""
        copy = self.model_copy()
        copy._prebuilt = parts
        return copy

    @property
    def parts(self) -> PartsT | None:
        """The attached parts; None when the nodes build from the settings (a Studio run)."""
        return self._prebuilt

    def built(self) -> PartsT:
        """The attached parts, else the ones these settings name (each context says how)."""
        raise NotImplementedError

    async def abuilt(self) -> PartsT:
        """`built()` off the event loop: loading a library or a local model reads files."""
        parts = self.parts
        return parts if parts is not None else await asyncio.to_thread(self.built)


@functools.lru_cache(maxsize=16)
def role_model(role: str, choice: ModelChoice) -> RoleModel:
    """The role's model for `choice`, built once per process (the engine and meter are shared)."""
    return build_role_model(role, choice.spec, choice.settings())


@functools.lru_cache(maxsize=4)
def _graph(dirs: tuple[str, ...]) -> InteractionGraph:
    paths = [Path(d) for d in dirs]
    return load_graph(load_library(paths), paths)


def interaction_graph(patterns_dirs: Sequence[str]) -> InteractionGraph:
    """The built-in patterns plus those in `patterns_dirs` (and their relations/), loaded once per process."""
    return _graph(tuple(patterns_dirs))


def as_model(cls: type[ModelT], value: ModelT | object) -> ModelT:
    """`value` as a `cls`: a run started from JSON (Studio) brings plain dicts where the state holds models."""
    return value if isinstance(value, cls) else cls.model_validate(value)


PATTERNS_DIRS_HELP = "Folders of your own pattern cards added to the built-in ones (as --patterns-dir)."
