from __future__ import annotations

import socket
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from humanllm.errors import (
    BackendUnavailable,
    ConfigError,
    EndpointError,
    MissingCredentials,
    StructuredOutputError,
)
from humanllm.llm import (
    ModelSettings,
    RoleModel,
    SQLiteResponseCache,
    build_chat_model,
    build_role_model,
    parse_spec,
)
from humanllm.testing import SchemaChatModel, ScriptedChatModel


class Mood(BaseModel):
    mood: str = Field(max_length=20)
    intensity: int = Field(ge=1, le=5)


class FakeRateLimit(Exception):
    status_code = 429


def _role(chat, **kwargs) -> RoleModel:  # type: ignore[no-untyped-def]
    return RoleModel(role="character", spec=parse_spec("fake"), chat=chat, **kwargs)


@pytest.mark.parametrize(
    ("text", "backend", "model"),
    [
        ("local", "local", ""),
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("vllm:Qwen/Qwen3-8B", "vllm", "Qwen/Qwen3-8B"),
        ("hf:/models/x", "hf", "/models/x"),
        ("fake", "fake", ""),
        (" OpenAI:m ", "openai", "m"),
    ],
)
def test_spec_parsing(text: str, backend: str, model: str) -> None:
    spec = parse_spec(text)
    assert (spec.backend, spec.model) == (backend, model)


@pytest.mark.parametrize("text", ["gpt4", "anthropic_typo:claude", "openai:", "hf", "local:other"])
def test_bad_specs_say_what_to_use(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(text)
    assert (
        "openai:<model>" in str(info.value) or "needs a model" in str(info.value) or "takes no model" in str(info.value)
    )


def test_openai_without_key_or_base_url_fails_clearly() -> None:
    with pytest.raises(MissingCredentials, match="OPENAI_API_KEY"):
        build_chat_model("openai:gpt-4o-mini")


def test_vllm_without_the_extra_names_the_gpu_extra() -> None:
    with pytest.raises(BackendUnavailable, match=r"\.\[gpu\]"):
        build_role_model("character", "vllm:some/model")


def test_unreachable_base_url_is_one_clear_error() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ModelSettings(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout_s=2)
    model = build_role_model("writer", "openai:test-model", settings)
    with pytest.raises(EndpointError, match="cannot reach the writer model"):
        model.text([HumanMessage(content="hi")])


def test_secrets_never_serialised() -> None:
    settings = ModelSettings(api_key="sk-secret-value")  # type: ignore[arg-type]
    assert "sk-secret-value" not in settings.model_dump_json()
    assert "sk-secret-value" not in str(settings.public_dict())
    assert "sk-secret-value" not in repr(settings)


def test_transient_errors_are_retried_then_succeed() -> None:
    chat = ScriptedChatModel(replies=[FakeRateLimit("slow down"), TimeoutError("late"), "fine"])
    model = _role(chat, max_retries=3)
    model.rng.seed(1)
    import humanllm.llm._role as role_module

    waits: list[float] = []
    original = role_module.time.sleep
    role_module.time.sleep = waits.append  # type: ignore[assignment]
    try:
        assert model.text([HumanMessage(content="hi")]) == "fine"
    finally:
        role_module.time.sleep = original  # type: ignore[assignment]
    assert len(chat.calls) == 3 and len(waits) == 2
    assert model.usage.usage.calls == 1


def test_retries_are_bounded() -> None:
    chat = ScriptedChatModel(replies=[FakeRateLimit("no")] * 5)
    model = _role(chat, max_retries=1)
    import humanllm.llm._role as role_module

    role_module_sleep = role_module.time.sleep
    role_module.time.sleep = lambda _s: None  # type: ignore[assignment]
    try:
        with pytest.raises(EndpointError, match="gave up after 2 tries"):
            model.text([HumanMessage(content="hi")])
    finally:
        role_module.time.sleep = role_module_sleep  # type: ignore[assignment]
    assert len(chat.calls) == 2


def test_structured_output_is_repaired() -> None:
    chat = ScriptedChatModel(replies=["not json at all", '```json\n{"mood": "calm", "intensity": 3}\n```'])
    mood = _role(chat).structured([HumanMessage(content="how are you?")], Mood)
    assert mood == Mood(mood="calm", intensity=3)
    assert "does not fit" in chat.calls[1][-1].text  # the repair request names the problem
    assert chat.call_kwargs[0]["response_format"]["json_schema"]["name"] == "Mood"


def test_structured_output_gives_up_clearly() -> None:
    chat = ScriptedChatModel(replies=['{"mood": "calm", "intensity": 9}'] * 3)
    with pytest.raises(StructuredOutputError, match=r"invalid Mood after 3 tries .*intensity"):
        _role(chat, repairs=2).structured([HumanMessage(content="?")], Mood)


def test_schema_fake_always_returns_valid_objects() -> None:
    model = _role(SchemaChatModel(seed=3))
    for _ in range(20):
        assert isinstance(model.structured([HumanMessage(content="?")], Mood), Mood)


def test_response_cache_serves_repeats(tmp_path: Path) -> None:
    cache = SQLiteResponseCache(tmp_path / "cache.sqlite")
    chat = ScriptedChatModel(replies=["first", "second"], cache=cache)
    assert chat.invoke("same prompt").text == "first"
    assert chat.invoke("same prompt").text == "first"
    assert len(chat.calls) == 1 and len(cache) == 1


class SchemaRejected(Exception):
    status_code = 400


def test_server_without_json_schema_falls_back_to_function_calling() -> None:
    from langchain_core.messages import AIMessage

    class ToolModel(ScriptedChatModel):
        def bind_tools(self, tools, **kwargs):  # type: ignore[no-untyped-def, override]
            return self

    tool_reply = AIMessage(
        content="", tool_calls=[{"name": "Mood", "args": {"mood": "calm", "intensity": 2}, "id": "call-1"}]
    )

    def reply(_messages, kwargs):  # type: ignore[no-untyped-def]
        if "response_format" in kwargs:
            return SchemaRejected("response_format json_schema is not supported")
        return tool_reply

    chat = ToolModel(function=reply)
    model = _role(chat, max_retries=0)
    assert model.structured([HumanMessage(content="?")], Mood) == Mood(mood="calm", intensity=2)
    assert model.structured_method == "function_calling"


def test_local_backend_sends_llama_cpp_a_grammar_it_can_compile() -> None:
    import threading

    from humanllm.agents.scenario_writer import CastMember, draft_schema
    from humanllm.llm import LlamaCppChatModel
    from humanllm.llm._local import _Engine
    from humanllm.llm._schemas import response_format_for

    sent: list[dict] = []

    class Engine:
        def create_chat_completion(self, **request):  # type: ignore[no-untyped-def]
            sent.append(request)
            return {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}], "usage": {}}

    model = LlamaCppChatModel(model_path="unused.gguf")
    model._engine = _Engine(llama=Engine(), lock=threading.Lock())
    schema = draft_schema([CastMember(name=n) for n in ("Ann", "Ben", "Cid")])
    model.invoke("hi", response_format=response_format_for(schema))
    grammar = sent[0]["response_format"]["schema"]
    assert sent[0]["response_format"]["type"] == "json_object"
    profiles = grammar["$defs"][grammar["properties"]["profiles"]["$ref"].split("/")[-1]]
    assert profiles["required"] == ["Ann", "Ben", "Cid"]  # the model must write every profile, each once
    assert grammar["properties"]["analysis"]["maxLength"] <= 1000  # the compiler refuses longer bounds
