"""An episode: one scenario and its conversation, with how it was made."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from humanllm.core._conversation import Conversation
from humanllm.core._scenario import Scenario


class TokenUsage(BaseModel):
    """Tokens spent by one model role."""

    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class Episode(BaseModel):
    """A finished simulation: everything needed to read, train on or judge it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Content hash of everything that determines the episode.")
    scenario: Scenario
    conversation: Conversation
    mode: str = Field(default="agents", description="'agents' (one agent per character) or 'author'.")
    seed: int = 0
    models: dict[str, str] = Field(default_factory=dict, description="Role -> model spec (no secrets).")
    usage: dict[str, TokenUsage] = Field(default_factory=dict, description="Role -> tokens spent.")
    config: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="Generation parameters that determined the episode."
    )
    spec: dict[str, Any] | None = Field(
        default=None,
        description="The whole spec the episode was made from; `id` is its hash. None: a legacy record.",
    )
