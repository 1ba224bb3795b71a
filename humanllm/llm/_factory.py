"""Build a chat model from a spec string: the one place that knows the providers."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.rate_limiters import BaseRateLimiter, InMemoryRateLimiter
from pydantic import SecretStr

from humanllm.errors import BackendUnavailable, MissingCredentials
from humanllm.llm._cache import SQLiteResponseCache
from humanllm.llm._endpoint import structured_endpoint
from humanllm.llm._fakes import build_fake, fake_registered
from humanllm.llm._hf import TransformersChatModel
from humanllm.llm._langchain import build_langchain_model, installed_providers, langchain_available
from humanllm.llm._local import LlamaCppChatModel, llama_cpp_available, local_gguf_path
from humanllm.llm._role import RoleModel
from humanllm.llm._settings import ModelSettings
from humanllm.llm._spec import DEFAULT_SPEC, ModelSpec, parse_spec
from humanllm.llm._vllm import VLLMChatModel, vllm_available, vllm_engine_args_from_env
from humanllm.redaction import redact_url

_LOCAL_BASE_URL_KEY = "not-needed"  # OpenAI-compatible local servers accept any key


def rate_limiter_for(settings: ModelSettings) -> BaseRateLimiter | None:
    """One limiter for `requests_per_minute`; share it between roles to limit them together."""
    if not settings.requests_per_minute:
        return None
    return InMemoryRateLimiter(requests_per_second=settings.requests_per_minute / 60.0, check_every_n_seconds=0.05)


def build_chat_model(
    spec: str | ModelSpec,
    settings: ModelSettings | None = None,
    *,
    rate_limiter: BaseRateLimiter | None = None,
) -> BaseChatModel:
    """A LangChain chat model for the spec, with rate limit and cache from the settings."""
    spec = parse_spec(spec)
    settings = settings or ModelSettings()
    common: dict[str, Any] = {}
    limiter = rate_limiter or rate_limiter_for(settings)
    if limiter is not None:
        common["rate_limiter"] = limiter
    cache = _cache(settings)
    if cache is not None:
        common["cache"] = cache
    match spec.backend:
        case "local":
            return LlamaCppChatModel(
                model_path=str(local_gguf_path()),
                threads=settings.threads,
                context_tokens=settings.context_tokens,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=settings.seed,
                **common,
            )
        case "openai":
            return _openai(spec, settings, common)
        case "vllm":
            if not vllm_available():
                raise BackendUnavailable(
                    f"{spec} needs vLLM and a GPU: pip install -e '.[gpu]' on a CUDA machine, or serve the "
                    "model with a vLLM server and use openai:<model> --base-url"
                )
            return VLLMChatModel(
                model=spec.model,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=settings.seed,
                engine_args=vllm_engine_args_from_env(),
                **common,
            )
        case "hf":
            return TransformersChatModel(
                path=spec.model,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=settings.seed,
                **common,
            )
        case "fake":
            # the builder is registered from above (humanllm.testing): see humanllm.llm._fakes
            return build_fake(spec.model, settings, common)
        case "langchain":
            return build_langchain_model(spec, settings, common)


def build_role_model(
    role: str,
    spec: str | ModelSpec,
    settings: ModelSettings | None = None,
    *,
    rate_limiter: BaseRateLimiter | None = None,
) -> RoleModel:
    """A chat model bound to a role, with retries, repairs and token accounting."""
    spec = parse_spec(spec)
    settings = settings or ModelSettings()
    remote = spec.backend == "openai"
    where = redact_url(settings.resolved_base_url() or "https://api.openai.com/v1") if remote else ""
    if spec.backend == "langchain" and settings.base_url:
        where = redact_url(settings.base_url)
    return RoleModel(
        role=role,
        spec=spec,
        chat=build_chat_model(spec, settings, rate_limiter=rate_limiter),
        # OpenAI's own SDK retries (with backoff and Retry-After) inside the client.
        max_retries=0 if remote else settings.max_retries,
        client_retries=settings.max_retries if remote else 0,
        where=where,
        endpoint=structured_endpoint(f"{where} ({spec.model})" if remote else str(spec)),
        settings=settings,
    )


def _openai(spec: ModelSpec, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
    from humanllm.llm._openai import OpenAICompatibleChat  # imports the OpenAI SDK: only when asked for

    base_url = settings.resolved_base_url()
    key = settings.resolved_api_key()
    if key is None and base_url is None:
        raise MissingCredentials(
            f"{spec} needs an API key: set the OPENAI_API_KEY environment variable (no option takes a key); for "
            "a local OpenAI-compatible server (vLLM, llama.cpp, Ollama) give its URL instead with --base-url "
            "(--judge-base-url for a judge), HUMANLLM_BASE_URL or OPENAI_BASE_URL"
        )
    return OpenAICompatibleChat(
        model=spec.model,
        base_url=base_url,
        api_key=key or SecretStr(_LOCAL_BASE_URL_KEY),
        temperature=settings.temperature,
        max_completion_tokens=settings.max_tokens,
        seed=settings.seed,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        **common,
    )


def _cache(settings: ModelSettings) -> BaseCache | None:
    return SQLiteResponseCache(settings.cache_path) if settings.cache_path else None


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can run here, and why not."""

    backend: str
    form: str
    available: bool
    detail: str


def backend_statuses(settings: ModelSettings | None = None) -> list[BackendStatus]:
    """Every backend, whether it is usable on this machine, and the resolved default."""
    settings = settings or ModelSettings()
    try:
        gguf = local_gguf_path().name
        local_ok = llama_cpp_available()
        local_detail = gguf if local_ok else "llama-cpp-python missing: reinstall humanllm (it is a dependency)"
    except Exception as exc:
        local_ok, local_detail = False, str(exc)
    has_key = settings.resolved_api_key() is not None
    base_url = settings.resolved_base_url()
    openai_detail = (
        f"base URL {redact_url(base_url)}"
        if base_url
        else ("OPENAI_API_KEY set" if has_key else "set OPENAI_API_KEY or --base-url")
    )
    torch_ok = importlib.util.find_spec("torch") is not None
    return [
        BackendStatus("local", "local", local_ok, f"default; {local_detail}"),
        BackendStatus("openai", "openai:<model>", has_key or bool(base_url), openai_detail),
        BackendStatus(
            "vllm",
            "vllm:<model>",
            vllm_available(),
            "installed"
            if vllm_available()
            else "pip install 'humanllm[gpu]' (pip install -e '.[gpu]' in a checkout); CUDA",
        ),
        BackendStatus(
            "hf", "hf:<path>", torch_ok, "transformers + torch" if torch_ok else "torch missing: pip install torch"
        ),
        _langchain_status(),
        BackendStatus(
            "fake",
            "fake[:schema]",
            fake_registered(),
            "scripted offline fake for tests and demos"
            if fake_registered()
            else "call humanllm.testing.register_fakes() (the CLI does)",
        ),
    ]


def _langchain_status() -> BackendStatus:
    if not langchain_available():
        return BackendStatus("langchain", "<provider>:<model>", False, "pip install langchain")
    installed = installed_providers()
    detail = (
        f"init_chat_model; installed: {', '.join(installed)}"
        if installed
        else "init_chat_model; no provider package yet: e.g. pip install langchain-anthropic"
    )
    return BackendStatus("langchain", "<provider>:<model>", True, detail)


__all__ = [
    "DEFAULT_SPEC",
    "BackendStatus",
    "backend_statuses",
    "build_chat_model",
    "build_role_model",
    "rate_limiter_for",
]
