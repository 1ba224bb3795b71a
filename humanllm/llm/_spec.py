"""Model spec strings: `local`, `openai:<model>`, `vllm:<model>`, `hf:<path>`, `fake[:<script>]`,
and `<provider>:<model>` for any provider LangChain's `init_chat_model` knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from humanllm.errors import ConfigError
from humanllm.llm._providers import PROVIDER_PACKAGES

Backend = Literal["local", "openai", "vllm", "hf", "fake", "langchain"]
BACKENDS: tuple[str, ...] = get_args(Backend)
DEFAULT_SPEC = "local"

_HELP = {
    "local": "local  (the bundled SmolLM2-135M-Instruct through llama.cpp; offline)",
    "openai": "openai:<model>  (OpenAI or any OpenAI-compatible server via --base-url)",
    "vllm": "vllm:<hf-model-or-path>  (in-process vLLM on a GPU; needs the 'gpu' extra)",
    "hf": "hf:<path>  (a transformers checkpoint, e.g. one you trained)",
    "fake": "fake[:schema]  (offline fake: role-aware scripted replies, or any schema-valid JSON)",
    "langchain": "<provider>:<model>  (any LangChain provider, e.g. anthropic:claude-sonnet-4-5, "
    "google_genai:gemini-2.5-flash, ollama:qwen3:8b; pip install its langchain-<provider> package)",
}
_OURS = frozenset(BACKENDS) - {"langchain"}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: which backend, and which model on it (and the provider, for LangChain's)."""

    backend: Backend
    model: str = ""
    provider: str = ""
    """For `langchain` specs: the `init_chat_model` provider (`anthropic`, `ollama`, ...)."""

    def __str__(self) -> str:
        if self.backend == "langchain":
            return f"{self.provider}:{self.model}"
        return self.backend if not self.model else f"{self.backend}:{self.model}"


def spec_help() -> list[str]:
    """One line per backend, for error messages and `humanllm models`."""
    return list(_HELP.values())


def parse_spec(text: str | ModelSpec) -> ModelSpec:
    """Parse a spec string; unknown backends fail with the list of valid forms."""
    if isinstance(text, ModelSpec):
        return text
    raw = text.strip()
    backend, _, model = raw.partition(":")
    backend, model = backend.lower(), model.strip()
    provider = backend.replace("-", "_")
    if provider in PROVIDER_PACKAGES:
        if not model:
            raise ConfigError(f"model spec {raw!r} needs a model after the colon, e.g. {provider}:<model>")
        return ModelSpec(backend="langchain", model=model, provider=provider)
    if backend not in _OURS:
        forms = "; ".join(spec_help())
        raise ConfigError(f"unknown model spec {raw!r}; use one of: {forms}")
    if backend in ("openai", "vllm", "hf") and not model:
        raise ConfigError(f"model spec {raw!r} needs a model after the colon, e.g. {_HELP[backend].split()[0]}")
    if backend == "local" and model:
        raise ConfigError(f"model spec {raw!r}: 'local' takes no model name (it is the bundled SmolLM2)")
    return ModelSpec(backend=backend, model=model)  # type: ignore[arg-type]


def canonical_spec(text: str | ModelSpec) -> str:
    """The one written form of a spec (`OpenAI: gpt-4o` -> `openai:gpt-4o`): what ids and keys hold."""
    return str(parse_spec(text))
