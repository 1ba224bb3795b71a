"""Run-time settings shared by every model backend."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from humanllm.redaction import redact_url


class GenerationSpec(BaseModel):
    """Every setting that shapes a model's replies, as a spec stores it: no key, the base URL redacted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float
    max_tokens: int
    base_url: str | None = Field(default=None, description="The endpoint (remote models only), redacted.")


class ModelSettings(BaseModel):
    """How to run a model. Secrets are `SecretStr` and never serialised in clear."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(default=0.8, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=512, ge=1, description="Completion token limit per call.")
    seed: int | None = Field(default=None, description="Sampling seed where the backend supports one.")
    threads: int | None = Field(default=None, ge=1, description="CPU threads for the local model.")
    context_tokens: int = Field(default=4096, ge=256, description="Context window for the local model.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint URL.")
    api_key: SecretStr | None = Field(default=None, description="API key; never printed or saved.")
    timeout_s: float = Field(default=120.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(default=4, ge=0, description="Retries on 429/5xx/timeouts, with backoff.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="Client-side rate limit.")
    cache_path: str | None = Field(default=None, description="SQLite file for an on-disk response cache.")

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def resolved_api_key(self) -> SecretStr | None:
        if self.api_key is not None:
            return self.api_key
        env = os.environ.get("OPENAI_API_KEY")
        return SecretStr(env) if env else None

    def generation(self, *, remote: bool) -> GenerationSpec:
        """The settings that shape replies; the base URL (redacted) only for remote models, where it applies."""
        base_url = self.resolved_base_url() if remote else None
        return GenerationSpec(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            base_url=redact_url(base_url) if base_url else None,
        )

    def public_dict(self) -> dict[str, object]:
        """Settings safe to save next to outputs: the key is left out, the base URL redacted."""
        data = self.model_dump(exclude={"api_key"})
        if data.get("base_url"):
            data["base_url"] = redact_url(data["base_url"])
        return data
