"""Every backend that runs offline here, through the same LangChain chat-model contract.

invoke / ainvoke / stream / astream / batch, usage metadata, and `with_structured_output` by
json_schema, json_mode and function_calling with include_raw=True.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain.chat_models import base as lc_base
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from pydantic import BaseModel, Field

from humanllm.llm import LlamaCppChatModel, VLLMChatModel, build_chat_model, json_schema_of, shutdown_vllm_engines
from humanllm.llm._local import _Engine
from humanllm.testing import SchemaChatModel, ScriptedChatModel
from tests._fake_vllm import install_fake_vllm


class Mood(BaseModel):
    mood: str = Field(max_length=20)
    intensity: int = Field(ge=1, le=5)


MOOD = {"mood": "calm", "intensity": 2}
METHODS = ("json_schema", "json_mode", "function_calling")


def _scripted_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str | AIMessage:
    if kwargs.get("tools"):  # a scripted model answers tool calls itself
        name = kwargs["tools"][0]["function"]["name"]
        usage = {"input_tokens": 4, "output_tokens": 6, "total_tokens": 10}
        return AIMessage(content="", tool_calls=[{"name": name, "args": MOOD, "id": "c1"}], usage_metadata=usage)
    return json.dumps(MOOD) if "response_format" in kwargs else "hello there"


class _StubLlama:
    """Stands in for llama.cpp: JSON for a schema, text otherwise, with token counts."""

    def create_chat_completion(self, **request: Any) -> dict[str, Any]:
        content = json.dumps(MOOD) if "response_format" in request else "hello there"
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        return {"choices": [{"message": {"content": content}, "finish_reason": "stop"}], "usage": usage}


class _MoodModel(SchemaChatModel):
    """A provider's chat model, as a fake integration package would bring it."""

    model: str
    max_tokens: int | None = None


def _scripted() -> BaseChatModel:
    return ScriptedChatModel(function=_scripted_reply)


def _local_stub() -> BaseChatModel:
    model = LlamaCppChatModel(model_path="stub.gguf")
    model._engine = _Engine(llama=_StubLlama(), lock=threading.Lock())
    return model


@pytest.fixture
def provider_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], BaseChatModel]]:
    module = types.ModuleType("langchain_mistralai")
    module.ChatMistralAI = _MoodModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain_mistralai", module)
    lc_base._get_chat_model_creator.cache_clear()
    yield lambda: build_chat_model("mistralai:mistral-small")
    lc_base._get_chat_model_creator.cache_clear()


BACKENDS: dict[str, Callable[[], BaseChatModel]] = {
    "fake:schema": lambda: SchemaChatModel(seed=1),
    "fake scripted": _scripted,
    "local (stub engine)": _local_stub,
}


VLLM = "vllm (fake engine)"


@pytest.fixture(params=[*BACKENDS, "mistralai: (init_chat_model)", VLLM])
def chat(
    request: pytest.FixtureRequest, provider_model: Callable[[], BaseChatModel], monkeypatch: pytest.MonkeyPatch
) -> Iterator[BaseChatModel]:
    if request.param != VLLM:
        yield BACKENDS.get(request.param, provider_model)()
        return
    install_fake_vllm(monkeypatch)  # the vLLM API in sys.modules: no GPU here (tests/_fake_vllm.py)
    yield VLLMChatModel(model="fake/model")
    shutdown_vllm_engines()


def _has_usage(message: AIMessage) -> bool:
    meta = message.usage_metadata
    return meta is not None and meta["total_tokens"] == meta["input_tokens"] + meta["output_tokens"] > 0


def test_invoke_and_ainvoke(chat: BaseChatModel) -> None:
    reply = chat.invoke([HumanMessage(content="hi")])
    assert isinstance(reply, AIMessage) and reply.text and _has_usage(reply)
    again = asyncio.run(chat.ainvoke([HumanMessage(content="hi")]))
    assert isinstance(again, AIMessage) and again.text and _has_usage(again)


def test_stream_and_astream(chat: BaseChatModel) -> None:
    chunks = list(chat.stream("hi"))
    assert chunks and all(isinstance(c, AIMessageChunk) for c in chunks)
    whole = sum(chunks[1:], chunks[0])
    assert whole.text and whole.usage_metadata and whole.usage_metadata["total_tokens"] > 0

    async def collect() -> list[AIMessageChunk]:
        return [c async for c in chat.astream("hi")]  # type: ignore[misc]

    assert "".join(c.text for c in asyncio.run(collect())) == whole.text


def test_batch(chat: BaseChatModel) -> None:
    replies = chat.batch(["one", "two"])
    assert len(replies) == 2 and all(isinstance(r, AIMessage) and _has_usage(r) for r in replies)


@pytest.mark.parametrize("method", METHODS)
def test_structured_output_with_raw(chat: BaseChatModel, method: str) -> None:
    structured = chat.with_structured_output(Mood, method=method, include_raw=True)  # type: ignore[arg-type]
    out = structured.invoke([HumanMessage(content="How do you feel? Answer in JSON.")])
    assert isinstance(out, dict) and set(out) == {"raw", "parsed", "parsing_error"}
    assert isinstance(out["raw"], AIMessage) and _has_usage(out["raw"])
    assert out["parsing_error"] is None and isinstance(out["parsed"], Mood)
    if method == "function_calling":
        assert out["raw"].tool_calls and out["raw"].tool_calls[0]["name"] == "Mood"


@pytest.mark.parametrize("method", METHODS)
def test_structured_output_async_and_with_a_dict_schema(chat: BaseChatModel, method: str) -> None:
    structured = chat.with_structured_output(Mood.model_json_schema(), method=method, include_raw=True)  # type: ignore[arg-type]
    out = asyncio.run(structured.ainvoke("How do you feel? Answer in JSON."))
    assert isinstance(out, dict) and isinstance(out["parsed"], dict)
    assert Mood.model_validate(out["parsed"])


def test_an_unparseable_reply_is_kept_raw_with_the_error() -> None:
    chat = ScriptedChatModel(replies=["not json"])
    out = chat.with_structured_output(Mood, include_raw=True).invoke("?")
    assert isinstance(out, dict) and out["parsed"] is None and out["parsing_error"] is not None
    assert out["raw"].text == "not json"


def test_each_method_asks_our_backends_for_the_schema() -> None:
    chat = ScriptedChatModel(function=_scripted_reply)
    for method in METHODS:
        chat.with_structured_output(Mood, method=method).invoke("?")  # type: ignore[arg-type]
    by_schema, by_json_mode, by_tool = chat.call_kwargs
    assert by_schema["response_format"]["json_schema"]["name"] == "Mood"
    assert json_schema_of(by_json_mode["response_format"]) == Mood.model_json_schema()
    assert by_tool["tools"][0]["function"]["parameters"] == Mood.model_json_schema()


def test_a_forced_tool_becomes_a_schema_for_backends_without_tools() -> None:
    sent: list[dict[str, Any]] = []

    class Recording(_StubLlama):
        def create_chat_completion(self, **request: Any) -> dict[str, Any]:
            sent.append(request)
            return super().create_chat_completion(**request)

    model = LlamaCppChatModel(model_path="stub.gguf")
    model._engine = _Engine(llama=Recording(), lock=threading.Lock())
    reply = model.bind_tools([Mood], tool_choice="Mood").invoke("?")
    assert sent[0]["response_format"]["schema"]["title"] == "Mood"  # llama.cpp's grammar form
    assert reply.tool_calls[0]["args"] == MOOD  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_real_local_model_keeps_the_contract_in_one_small_call() -> None:
    from humanllm.llm import ModelSettings

    chat = build_chat_model("local", ModelSettings(max_tokens=24, temperature=0.0, seed=0))
    out = chat.with_structured_output(Mood, method="function_calling", include_raw=True).invoke("Your mood, as JSON?")
    assert isinstance(out, dict) and isinstance(out["raw"], AIMessage) and _has_usage(out["raw"])
    assert out["raw"].tool_calls or out["raw"].invalid_tool_calls  # grammar-constrained, maybe cut by max_tokens
