"""`<provider>:<model>` specs through LangChain's `init_chat_model`: parsing, the missing-package error, keys."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from langchain.chat_models import base as lc_base
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from humanllm.cli import _exit
from humanllm.errors import BackendUnavailable, ConfigError, MissingCredentials
from humanllm.llm import ModelSettings, backend_statuses, build_chat_model, build_role_model, canonical_spec, parse_spec
from humanllm.llm._providers import PROVIDER_PACKAGES, module_of
from humanllm.testing import SchemaChatModel
from tests.test_cli_process import cli


class FakeProviderModel(SchemaChatModel):
    """Stands in for a provider's chat model: records the constructor's arguments."""

    model: str
    temperature: float = 0.8
    max_tokens: int | None = None
    api_key: SecretStr | None = None
    base_url: str | None = None


@pytest.fixture
def fake_anthropic(monkeypatch: pytest.MonkeyPatch) -> type[FakeProviderModel]:
    """A `langchain_anthropic` module with a fake `ChatAnthropic`, for init_chat_model to find."""
    module = types.ModuleType("langchain_anthropic")
    module.ChatAnthropic = FakeProviderModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain_anthropic", module)
    lc_base._get_chat_model_creator.cache_clear()
    yield FakeProviderModel
    lc_base._get_chat_model_creator.cache_clear()


@pytest.mark.parametrize(
    ("text", "provider", "model"),
    [
        ("anthropic:claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        ("Google_GenAI:gemini-2.5-flash", "google_genai", "gemini-2.5-flash"),
        ("google-genai:gemini-2.5-flash", "google_genai", "gemini-2.5-flash"),
        ("ollama:qwen3:8b", "ollama", "qwen3:8b"),  # the model keeps its own colon
    ],
)
def test_provider_specs_parse_and_print_canonically(text: str, provider: str, model: str) -> None:
    spec = parse_spec(text)
    assert (spec.backend, spec.provider, spec.model) == ("langchain", provider, model)
    assert canonical_spec(text) == f"{provider}:{model}"


def test_our_own_forms_are_unchanged() -> None:
    assert [canonical_spec(s) for s in ("local", "OpenAI: gpt-4o", "hf:/m", "vllm:q/q", "fake:schema")] == [
        "local",
        "openai:gpt-4o",
        "hf:/m",
        "vllm:q/q",
        "fake:schema",
    ]
    assert parse_spec("openai:gpt-4o").provider == ""


def test_a_provider_needs_a_model_and_unknown_ones_list_the_forms() -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        parse_spec("anthropic:")
    with pytest.raises(ConfigError, match="<provider>:<model>"):
        parse_spec("nosuchprovider:m")


def test_our_provider_table_matches_langchains() -> None:
    """Every provider we accept is one init_chat_model builds, from the package we tell users to install."""
    builtin = lc_base._BUILTIN_PROVIDERS
    for provider, package in PROVIDER_PACKAGES.items():
        assert provider in builtin, provider
        assert builtin[provider][0].split(".")[0] == module_of(package), provider
    assert set(builtin) - set(PROVIDER_PACKAGES) <= {"openai", "langsmith"}  # openai: is our own backend


def test_a_missing_integration_package_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # import fails as if not installed
    lc_base._get_chat_model_creator.cache_clear()
    with pytest.raises(BackendUnavailable) as info:
        build_chat_model("anthropic:claude-sonnet-4-5")
    message = str(info.value)
    assert "pip install langchain-anthropic" in message and "\n" not in message


def test_the_provider_gets_our_settings_and_never_the_openai_key(
    fake_anthropic: type[FakeProviderModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-not-for-anthropic")
    chat = build_chat_model("anthropic:claude-x", ModelSettings(temperature=0.2, max_tokens=77))
    assert isinstance(chat, fake_anthropic)
    assert (chat.model, chat.temperature, chat.max_tokens, chat.api_key) == ("claude-x", 0.2, 77, None)
    keyed = build_chat_model("anthropic:claude-x", ModelSettings(api_key=SecretStr("sk-ant-given")))
    assert isinstance(keyed, fake_anthropic) and keyed.api_key is not None
    assert keyed.api_key.get_secret_value() == "sk-ant-given"


def test_a_role_on_a_provider_model_answers(fake_anthropic: type[FakeProviderModel]) -> None:
    role = build_role_model("character", "anthropic:claude-x")
    assert role.text([HumanMessage(content="hi")]) == SchemaChatModel().text
    assert role.usage.usage.calls == 1


def test_a_provider_that_refuses_to_build_fails_in_one_line_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    class NeedsKey(SchemaChatModel):
        model: str

        def __init__(self, **kwargs: Any) -> None:
            raise ValueError(f"invalid api_key {kwargs['api_key'].get_secret_value()}\nmore detail")

    module = types.ModuleType("langchain_anthropic")
    module.ChatAnthropic = NeedsKey  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain_anthropic", module)
    lc_base._get_chat_model_creator.cache_clear()
    secret = "sk-ant-api03-PLANTEDSECRET0123456789"
    with pytest.raises(MissingCredentials) as info:
        build_chat_model("anthropic:claude-x", ModelSettings(api_key=SecretStr(secret)))
    lc_base._get_chat_model_creator.cache_clear()
    assert "PLANTEDSECRET" not in str(info.value) and "\n" not in str(info.value)


def test_models_lists_the_provider_form() -> None:
    rows = {status.backend: status for status in backend_statuses()}
    assert rows["langchain"].form == "<provider>:<model>" and rows["langchain"].available


def test_the_cli_lists_the_provider_form_and_fails_cleanly_on_a_missing_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))  # this checkout's humanllm, from any cwd
    listed = json.loads(cli(tmp_path, "models", "--json", code=_exit.OK).stdout)
    assert "<provider>:<model>" in [row["form"] for row in listed["backends"]]
    if module_of(PROVIDER_PACKAGES["mistralai"]) in sys.modules or _installed("langchain_mistralai"):
        pytest.skip("langchain-mistralai is installed here")
    proc = cli(tmp_path, "simulate", "--model", "mistralai:mistral-small", "--out", str(tmp_path / "e.json"))
    assert proc.returncode == _exit.ERROR, proc.stderr
    assert "pip install langchain-mistralai" in proc.stderr


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
