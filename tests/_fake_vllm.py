"""A stand-in `vllm` package, injected into sys.modules, with the names humanllm's vLLM backend imports.

`install_fake_vllm(monkeypatch)` gives the current API (vllm.v1.engine.async_llm.AsyncLLM,
StructuredOutputsParams, RequestOutputKind, a synchronous get_tokenizer, the metrics reader);
`old=True` an older one (vllm.AsyncLLMEngine only, GuidedDecodingParams, an async get_tokenizer,
no metrics reader). The engine's `generate` is an async generator that answers after `latency_s`
(and, with `gate`, once that many requests have been in flight together, or after 5 s), so calls
made together overlap. It records every request and the most in flight at once, and simulates a
prefix cache (the tokens a prompt shares with an earlier one count as cached).
"""

from __future__ import annotations

import asyncio
import enum
import importlib.machinery
import json
import sys
import threading
import time
import types
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Request:
    prompt_token_ids: list[int]
    params: Any
    request_id: str
    prompt_text: str


@dataclass
class FakeVLLM:
    """What the fake engines saw, shared by every engine of one installation."""

    old: bool = False
    reply: Callable[[Request], str] | None = None
    latency_s: float = 0.0
    gate: int = 0
    """Each request waits (up to 5 s) until this many are in flight: calls that overlap pass at once."""
    engines: list[Any] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    prefix_queries: int = 0
    prefix_hits: int = 0
    shutdowns: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def example_of(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small value that satisfies a JSON schema of the kinds pydantic writes ($refs, bounds, enums, unions)."""
    root = root if root is not None else schema
    if "$ref" in schema:
        return example_of(root.get("$defs", {})[schema["$ref"].rsplit("/", 1)[-1]], root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            options = [o for o in schema[union] if o.get("type") != "null"] or schema[union]
            return example_of(options[0], root)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: example_of(sub, root) for name, sub in schema.get("properties", {}).items()}
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    if kind == "array":
        return [example_of(schema.get("items", {}), root) for _ in range(int(schema.get("minItems", 0)))]
    text = "a calm and even reply"
    length = max(int(schema.get("minLength", 0)), 4)
    return (text * (length // len(text) + 1))[: max(length, min(len(text), int(schema.get("maxLength", 10**6))))]


def _constraint(params: Any) -> Any:
    return getattr(params, "structured_outputs", None) or getattr(params, "guided_decoding", None)


def default_reply(request: Request) -> str:
    constraint = _constraint(request.params)
    if constraint is None:
        return "hello there"
    schema = getattr(constraint, "json", None)
    return json.dumps(example_of(schema) if isinstance(schema, dict) else {})


class Tokenizer:
    """Characters are tokens; the chat template tags each message with its role."""

    def apply_chat_template(
        self, messages: list[dict[str, str]], *, tokenize: bool, add_generation_prompt: bool
    ) -> str:
        assert tokenize is False
        text = "".join(f"<{m['role']}>{m['content']}\n" for m in messages)
        return text + ("<assistant>" if add_generation_prompt else "")

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return ([1] if add_special_tokens else []) + [ord(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i) for i in ids if i != 1)


def _engine_class(state: FakeVLLM, output_kind: Any) -> type:
    class AsyncEngine:
        def __init__(self, engine_args: Any) -> None:
            self.engine_args = engine_args
            self.tokenizer = Tokenizer()
            self.loop: asyncio.AbstractEventLoop | None = None
            self.shut = False

        @classmethod
        def from_engine_args(cls, engine_args: Any) -> AsyncEngine:
            engine = cls(engine_args)
            state.engines.append(engine)
            return engine

        def get_tokenizer(self) -> Any:
            if state.old:

                async def tokenizer() -> Tokenizer:
                    return self.tokenizer

                return tokenizer()
            return self.tokenizer

        async def generate(self, prompt: Any, sampling_params: Any, request_id: str) -> AsyncIterator[Any]:
            if self.loop is None:  # vLLM's output handler is bound to one loop: so is this engine
                self.loop = asyncio.get_running_loop()
            assert asyncio.get_running_loop() is self.loop, "the engine was used from two event loops"
            ids = list(prompt["prompt_token_ids"])
            request = Request(ids, sampling_params, request_id, self.tokenizer.decode(ids))
            with state.lock:
                cached = max((_common_prefix(ids, r.prompt_token_ids) for r in state.requests), default=0)
                state.requests.append(request)
                state.prefix_queries += len(ids)
                state.prefix_hits += cached
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                deadline = time.monotonic() + 5
                while state.max_in_flight < state.gate and time.monotonic() < deadline:  # wait for company
                    await asyncio.sleep(0.002)
                await asyncio.sleep(state.latency_s)
                text = (state.reply or default_reply)(request)
                tokens = self.tokenizer.encode(text, add_special_tokens=False)
                final_only = output_kind is not None and getattr(sampling_params, "output_kind", None) == output_kind
                if not final_only:  # the async engine streams cumulative outputs by default
                    yield _output(request, text[:1], tokens[:1], cached, finished=False)
                yield _output(request, text, tokens, cached, finished=True)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def shutdown(self) -> None:
            self.shut = True
            with state.lock:
                state.shutdowns += 1

    return AsyncEngine


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _output(request: Request, text: str, tokens: list[int], cached: int, *, finished: bool) -> Any:
    completion = types.SimpleNamespace(text=text, token_ids=tokens, finish_reason="stop" if finished else None)
    return types.SimpleNamespace(
        request_id=request.request_id,
        prompt_token_ids=request.prompt_token_ids,
        outputs=[completion],
        finished=finished,
        num_cached_tokens=cached,
    )


class SamplingParams:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        for name, value in kwargs.items():
            setattr(self, name, value)


class AsyncEngineArgs:
    def __init__(self, model: str, **kwargs: Any) -> None:
        self.model = model
        self.kwargs = kwargs


class _Constraint:
    def __init__(self, **kwargs: Any) -> None:
        assert len(kwargs) == 1, f"one kind of structured-output constraint, not {kwargs}"
        self.json = kwargs.get("json")
        self.json_object = kwargs.get("json_object")


class StructuredOutputsParams(_Constraint):
    pass


class GuidedDecodingParams(_Constraint):
    pass


class RequestOutputKind(enum.Enum):
    CUMULATIVE = 0
    DELTA = 1
    FINAL_ONLY = 2


@dataclass
class Counter:
    name: str
    labels: dict[str, str]
    value: int


def _module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def install_fake_vllm(monkeypatch: pytest.MonkeyPatch, *, old: bool = False) -> FakeVLLM:
    """Put a fake vllm into sys.modules (undone by monkeypatch); returns what its engines record."""
    state = FakeVLLM(old=old)
    for name in [n for n in sys.modules if n == "vllm" or n.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    modules: dict[str, types.ModuleType] = {}
    if old:
        engine = _engine_class(state, output_kind=None)
        modules["vllm"] = _module(
            "vllm", AsyncLLMEngine=engine, AsyncEngineArgs=AsyncEngineArgs, SamplingParams=SamplingParams
        )
        modules["vllm.sampling_params"] = _module(
            "vllm.sampling_params", SamplingParams=SamplingParams, GuidedDecodingParams=GuidedDecodingParams
        )
    else:
        engine = _engine_class(state, output_kind=RequestOutputKind.FINAL_ONLY)
        modules["vllm"] = _module(
            "vllm", AsyncLLMEngine=engine, AsyncEngineArgs=AsyncEngineArgs, SamplingParams=SamplingParams
        )
        modules["vllm.sampling_params"] = _module(
            "vllm.sampling_params",
            SamplingParams=SamplingParams,
            StructuredOutputsParams=StructuredOutputsParams,
            RequestOutputKind=RequestOutputKind,
        )
        modules["vllm.v1"] = _module("vllm.v1")
        modules["vllm.v1.engine"] = _module("vllm.v1.engine")
        modules["vllm.v1.engine.async_llm"] = _module("vllm.v1.engine.async_llm", AsyncLLM=engine)
        modules["vllm.v1.metrics"] = _module("vllm.v1.metrics")

        def get_metrics_snapshot() -> list[Counter]:
            with state.lock:
                return [
                    Counter("vllm:prefix_cache_queries", {"engine": "0"}, state.prefix_queries),
                    Counter("vllm:prefix_cache_hits", {"engine": "0"}, state.prefix_hits),
                ]

        modules["vllm.v1.metrics.reader"] = _module(
            "vllm.v1.metrics.reader", get_metrics_snapshot=get_metrics_snapshot, Counter=Counter
        )
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return state
