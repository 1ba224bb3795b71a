"""Offline fake chat models for tests and demos: scripted replies, or schema-valid JSON."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from pydantic import Field, PrivateAttr

from humanllm.llm import HumanChatModel, json_schema_of
from humanllm.testing._schema import example_for_schema

Reply = str | AIMessage | BaseException
Script = Callable[[list[BaseMessage], dict[str, Any]], Reply]
"""A reply function: (messages, call kwargs) -> reply text, a full AIMessage (tool calls), or an error."""


def _usage(messages: Sequence[BaseMessage], reply: str) -> UsageMetadata:
    prompt = sum(len(m.text.split()) for m in messages)
    completion = len(reply.split())
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


class ScriptedChatModel(HumanChatModel):
    """Replies from a list (in order) or a function; records every call it gets (unless told not to).

    `calls` holds the messages of each call, so tests can assert on exactly what a role saw.
    Replies that are exceptions are raised, to script failures; AIMessages are returned as they are.
    The `fake` spec users run (`--model fake`) sets `record_calls=False`: a long batch would
    otherwise keep every prompt it ever sent.
    """

    native_tools: ClassVar[bool] = True  # scripts see `tools` as sent and answer with tool calls themselves

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

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
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
        return message


class SchemaChatModel(HumanChatModel):
    """Always answers with JSON valid for the requested schema, else a fixed line: the generic fake.

    The offline stand-in for a model in pipeline tests and `--model fake:schema` demos. Each reply
    is drawn from a generator seeded with `seed`, the requested schema and the messages, so the
    same request gets the same reply whatever the order or concurrency of the calls.
    """

    seed: int = 0
    text: str = "[I should answer.] (nods) All right."

    @property
    def _llm_type(self) -> str:
        return "schema-fake"

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        schema = json_schema_of(kwargs.get("response_format"))
        if schema is None:
            reply = self.text
        else:
            reply = json.dumps(example_for_schema(schema, _request_rng(self.seed, schema, messages)))
        message = AIMessage(content=reply, usage_metadata=_usage(messages, reply))
        return message


def _request_rng(seed: int, schema: dict[str, Any], messages: Sequence[BaseMessage]) -> random.Random:
    """A generator fixed by the seed, the schema and the conversation (not by the call's order)."""
    digest = hashlib.sha256(json.dumps([seed, schema, [m.text for m in messages]], sort_keys=True).encode())
    return random.Random(digest.hexdigest())
