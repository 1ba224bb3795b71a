"""Offline fake chat models for tests and demos: scripted replies, or schema-valid JSON."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

from humanllm.llm._messages import json_schema_of

Reply = str | AIMessage | BaseException
Script = Callable[[list[BaseMessage], dict[str, Any]], Reply]
"""A reply function: (messages, call kwargs) -> reply text, a full AIMessage (tool calls), or an error."""


def _usage(messages: Sequence[BaseMessage], reply: str) -> UsageMetadata:
    prompt = sum(len(m.text.split()) for m in messages)
    completion = len(reply.split())
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


class ScriptedChatModel(BaseChatModel):
    """Replies from a list (in order) or a function; records every call it gets (unless told not to).

    `calls` holds the messages of each call, so tests can assert on exactly what a role saw.
    Replies that are exceptions are raised, to script failures; AIMessages are returned as they are.
    The `fake` spec users run (`--model fake`) sets `record_calls=False`: a long batch would
    otherwise keep every prompt it ever sent.
    """

    replies: list[Any] = Field(default_factory=list)
    """Each a `Reply`: typed loosely because pydantic would try to coerce exceptions into messages."""
    function: Script | None = None
    record_calls: bool = Field(
        default=True, description="Keep each call's messages and kwargs in `calls` / `call_kwargs` (for tests)."
    )

    _count: int = PrivateAttr(default=0)
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _kwargs: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    @property
    def call_kwargs(self) -> list[dict[str, Any]]:
        return self._kwargs

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            index = self._count
            self._count += 1
            if self.record_calls:
                self._calls.append(list(messages))
                self._kwargs.append(dict(kwargs))
        if self.function is not None:
            reply: Reply = self.function(list(messages), kwargs)
        elif index < len(self.replies):
            reply = self.replies[index]
        else:
            raise RuntimeError(f"ScriptedChatModel ran out of replies after {len(self.replies)} calls")
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, AIMessage):
            message = reply
        else:
            message = AIMessage(content=reply, usage_metadata=_usage(messages, reply))
        return ChatResult(generations=[ChatGeneration(message=message)])


class SchemaChatModel(BaseChatModel):
    """Always answers with JSON valid for the requested schema (random but seeded), else a fixed line.

    The offline stand-in for a model in pipeline tests and `--model fake` demos.
    """

    seed: int = 0
    text: str = "[I should answer.] (nods) All right."

    _rng: random.Random = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any) -> None:
        self._rng = random.Random(self.seed)

    @property
    def _llm_type(self) -> str:
        return "schema-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        schema = json_schema_of(kwargs.get("response_format"))
        with self._lock:
            reply = self.text if schema is None else json.dumps(example_for_schema(schema, self._rng))
        message = AIMessage(content=reply, usage_metadata=_usage(messages, reply))
        return ChatResult(generations=[ChatGeneration(message=message)])


_WORDS = [
    "calm",
    "quick",
    "honest",
    "worried",
    "proud",
    "curious",
    "tired",
    "bright",
    "careful",
    "open",
    "warm",
    "sharp",
]


def example_for_schema(schema: dict[str, Any], rng: random.Random, root: dict | None = None) -> Any:
    """A value that validates against a (pydantic-generated) JSON schema."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return example_for_schema(root.get("$defs", {})[name], rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_for_schema(options[0], rng, root)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example_for_schema(sub, rng, root) for key, sub in props.items()}
    if kind == "array":
        low = schema.get("minItems", 1)
        high = max(low, min(schema.get("maxItems", low + 2), low + 2))
        items = schema.get("items", {"type": "string"})
        return [example_for_schema(items, rng, root) for _ in range(rng.randint(low, high))]
    if kind == "string":
        low, high = schema.get("minLength", 1), schema.get("maxLength", 60)
        text = " ".join(rng.choice(_WORDS) for _ in range(6))
        text = (text * (1 + low // max(1, len(text))))[: max(low, min(high, len(text)))]
        return text
    if kind == "integer":
        return rng.randint(schema.get("minimum", 0), schema.get("maximum", 10))
    if kind == "number":
        return rng.uniform(schema.get("minimum", 0.0), schema.get("maximum", 1.0))
    if kind == "boolean":
        return rng.random() < 0.5
    return None
