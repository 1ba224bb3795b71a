"""How each endpoint takes structured output: found on the first call, remembered for the run.

Servers differ: OpenAI and vLLM take `response_format: json_schema`; llama.cpp's server refuses
it (422) and takes `json_object` with a `schema` (grammar-constrained); some servers and providers
only do tool calling; some do none of these. Every schema'd call asks in the endpoint's current
way (`humanllm.llm._asking`: the chat model's own `with_structured_output`, or the schema in the
prompt); a call the server or the chat model rejects for its method steps the endpoint down the
chain once (logged once) and is sent again.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Literal, get_args

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from humanllm.llm._prompts import render

logger = logging.getLogger(__name__)

StructuredMethod = Literal["json_schema", "json_object", "function_calling", "prompt"]
METHOD_CHAIN: tuple[StructuredMethod, ...] = get_args(StructuredMethod)
_REJECTION_STATUS = frozenset({400, 415, 422})
_LOOSE_REJECTION_STATUS = frozenset({500})
"""llama-cpp-python's server answers a json_schema `response_format` with a 500 carrying its
validation error when the field comes as a raw request field: a rejection only if the text says so."""
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema")
_TOOL_WORDS = ("tool", "function")


class StructuredEndpoint:
    """The structured-output method of one endpoint, shared by every role model that talks to it."""

    def __init__(self, name: str, method: StructuredMethod = "json_schema") -> None:
        self.name = name
        self._method: StructuredMethod = method
        self._lock = threading.Lock()

    @property
    def method(self) -> StructuredMethod:
        return self._method

    def step_down(self, failed: StructuredMethod, reason: str) -> StructuredMethod:
        """Move past `failed` (once, even when many calls see the rejection at the same time)."""
        with self._lock:
            if self._method == failed and failed != METHOD_CHAIN[-1]:
                self._method = METHOD_CHAIN[METHOD_CHAIN.index(failed) + 1]
                logger.warning(
                    "%s rejects %s structured output (%s); using %s from now on",
                    self.name,
                    failed,
                    reason[:160],
                    self._method,
                )
            return self._method


_ENDPOINTS: dict[str, StructuredEndpoint] = {}
_ENDPOINTS_LOCK = threading.Lock()


def structured_endpoint(name: str) -> StructuredEndpoint:
    """The process-wide record for an endpoint (a base URL and model, secrets already redacted)."""
    with _ENDPOINTS_LOCK:
        if name not in _ENDPOINTS:
            _ENDPOINTS[name] = StructuredEndpoint(name)
        return _ENDPOINTS[name]


def endpoint_methods() -> dict[str, str]:
    """Endpoint -> structured-output method in use: written to run manifests."""
    with _ENDPOINTS_LOCK:
        return {name: endpoint.method for name, endpoint in sorted(_ENDPOINTS.items())}


def rejects_method(method: StructuredMethod, status: int | None, text: str) -> bool:
    """Whether an error says the server does not take this way of asking for structured output."""
    if method == "prompt":
        return False
    text = text.lower()
    if status in _LOOSE_REJECTION_STATUS:
        return method != "function_calling" and "response_format" in text and "json_object" in text
    if status not in _REJECTION_STATUS:
        return False
    words = _TOOL_WORDS if method == "function_calling" else _FORMAT_WORDS
    return any(word in text for word in words)


def schema_instruction(schema: dict[str, Any]) -> str:
    return render("schema_instruction", schema=json.dumps(schema, separators=(",", ":")))


def with_schema_instruction(messages: list[BaseMessage], schema: dict[str, Any]) -> list[BaseMessage]:
    """The conversation with the schema, and how to answer it, added to its last user message."""
    instruction = schema_instruction(schema)
    if messages and isinstance(messages[-1], HumanMessage):
        last = messages[-1]
        return [*messages[:-1], HumanMessage(content=f"{last.text}\n\n{instruction}")]
    return [*messages, HumanMessage(content=instruction)]


def reply_json_text(message: AIMessage) -> str:
    """The JSON text of a structured reply: a tool call's arguments, else the content."""
    if message.tool_calls:
        return json.dumps(message.tool_calls[0]["args"])
    for call in message.invalid_tool_calls or []:
        if call.get("args"):
            return str(call["args"])
    return message.text
