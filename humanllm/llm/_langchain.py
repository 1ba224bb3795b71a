"""`<provider>:<model>` specs: any chat model LangChain's `init_chat_model` can build."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from humanllm.errors import BackendError, BackendUnavailable, MissingCredentials
from humanllm.llm._providers import PROVIDER_PACKAGES, module_of, provider_package, token_limit_field
from humanllm.llm._settings import ModelSettings
from humanllm.llm._spec import ModelSpec
from humanllm.redaction import redact

logger = logging.getLogger(__name__)

_KEY_WORDS = ("api_key", "api key", "apikey", "credential", "token")


def build_langchain_model(spec: ModelSpec, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
    """The provider's chat model from `init_chat_model`, or a one-line error saying what to install or set.

    Only settings every provider takes are passed (temperature and the token limit, with the rate
    limiter and cache), plus `--base-url` and an explicit API key when given. The provider reads its
    own key from its usual environment variable (`ANTHROPIC_API_KEY`, ...); OPENAI_API_KEY is never
    handed to another provider.
    """
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise BackendUnavailable(f"{spec} needs LangChain's init_chat_model: pip install langchain") from exc
    options: dict[str, Any] = {
        "temperature": settings.temperature,
        token_limit_field(spec.provider): settings.max_tokens,
        **common,
    }
    if settings.base_url:
        options["base_url"] = settings.base_url
    if settings.api_key is not None:
        options["api_key"] = settings.api_key
    try:
        return init_chat_model(spec.model, model_provider=spec.provider, **options)
    except ImportError as exc:
        package = provider_package(spec.provider)
        quoted = f"'{package}'" if "[" in package else package
        raise BackendUnavailable(f"{spec} needs LangChain's {spec.provider} integration: pip install {quoted}") from exc
    except Exception as exc:  # the provider's own validation: most often a missing key
        said = redact(str(exc)).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if any(word in said.lower() for word in _KEY_WORDS):
            raise MissingCredentials(
                f"{spec} has no API key: set the provider's key variable (see its LangChain page); it said: {said}"
            ) from exc
        raise BackendError(f"cannot build {spec}: {said}") from exc


def installed_providers() -> list[str]:
    """The providers whose integration package is importable here (no import happens)."""
    return [p for p, pkg in PROVIDER_PACKAGES.items() if importlib.util.find_spec(module_of(pkg)) is not None]


def langchain_available() -> bool:
    return importlib.util.find_spec("langchain") is not None
