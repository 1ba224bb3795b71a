"""One schema'd call, asked the endpoint's current way through the chat model's own structured output.

For json_schema, json_object and function_calling the request is the chat model's
`with_structured_output(schema, method=..., include_raw=True)` (LangChain's `json_mode` for our
`json_object`), so any LangChain chat model, a provider's included, is asked the way it knows.
For `prompt` the schema goes into the last message and the reply is plain text. Either way the
reply comes back as the JSON text the model wrote, which the role model parses and repairs.

A chat model that cannot ask one way (its `with_structured_output` raises NotImplementedError or
ValueError for that method, or the call raises NotImplementedError) makes `MethodUnsupported`:
the endpoint steps down, as it does on a server's 400 for the format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableParallel,
    RunnableSequence,
    RunnableWithFallbacks,
)
from langchain_core.runnables.passthrough import RunnableAssign
from pydantic import BaseModel

from humanllm.llm._endpoint import StructuredMethod, reply_json_text, with_schema_instruction
from humanllm.llm._messages import json_schema_of

logger = logging.getLogger(__name__)

LANGCHAIN_METHOD: dict[StructuredMethod, str] = {
    "json_schema": "json_schema",
    "json_object": "json_mode",
    "function_calling": "function_calling",
}
"""Our method names -> LangChain's `with_structured_output(method=...)`."""

_WARNED: set[str] = set()


class MethodUnsupported(Exception):
    """The chat model cannot ask for structured output this way (not an endpoint error)."""


@dataclass
class Ask:
    """What to invoke for one schema'd call, with what, and whether it is a structured runnable."""

    runnable: Runnable[Any, Any]
    messages: list[BaseMessage]
    options: dict[str, Any] = field(default_factory=dict)
    structured: bool = True


def ask_for(
    chat: BaseChatModel,
    method: StructuredMethod,
    messages: Sequence[BaseMessage],
    response_format: dict[str, Any],
    options: dict[str, Any],
) -> Ask:
    """The call that asks `chat` for `response_format`'s schema by `method`; raises MethodUnsupported."""
    schema = json_schema_of(response_format) or {}
    if method == "prompt":
        return Ask(chat, with_schema_instruction(list(messages), schema), dict(options), structured=False)
    ours = bool(getattr(type(chat), "takes_response_format", False))
    name = str((response_format.get("json_schema") or {}).get("name") or schema.get("title") or "reply")
    # ours take the response_format itself (what they sent before: same request, same cache key);
    # anyone else gets a titled JSON schema, the form every LangChain integration reads
    target: dict[str, Any] = response_format if ours else {**schema, "title": name}
    wanted = LANGCHAIN_METHOD[method]
    try:
        if type(chat).with_structured_output is BaseChatModel.with_structured_output:
            # LangChain's default: tool calling by bind_tools, and no `method` argument at all
            if method != "function_calling":
                raise MethodUnsupported(f"{type(chat).__name__} does structured output by tool calling only")
            structured = chat.with_structured_output(target, include_raw=True)
        else:
            structured = chat.with_structured_output(target, method=wanted, include_raw=True)
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise MethodUnsupported(f"{type(chat).__name__}.with_structured_output(method={wanted!r}): {exc}") from exc
    asked = list(messages)
    if method == "json_object" and not ours:  # a provider's JSON mode knows no schema: say it in the prompt
        asked = with_schema_instruction(asked, schema)
    return Ask(with_call_options(structured, chat, options), asked)


def with_call_options(runnable: Runnable[Any, Any], chat: BaseChatModel, options: dict[str, Any]) -> Runnable[Any, Any]:
    """`runnable` with `options` (a call's seed, ...) added to every binding of `chat` inside it.

    `with_structured_output(include_raw=True)` runs the model inside a parallel step, which does
    not pass a call's keyword arguments on; bound, they reach the model as they did before (and
    make the same cache key).
    """
    if not options:
        return runnable
    found = False

    def visit(node: Runnable[Any, Any]) -> Runnable[Any, Any]:
        nonlocal found
        if isinstance(node, RunnableBinding):
            if node.bound is chat:
                found = True
                return node.model_copy(update={"kwargs": {**node.kwargs, **options}})
            return node.model_copy(update={"bound": visit(node.bound)})
        if isinstance(node, RunnableSequence):
            return node.model_copy(
                update={"first": visit(node.first), "middle": [visit(s) for s in node.middle], "last": visit(node.last)}
            )
        if isinstance(node, RunnableParallel):
            return node.model_copy(update={"steps__": {k: visit(s) for k, s in node.steps__.items()}})
        if isinstance(node, RunnableAssign):
            return node.model_copy(update={"mapper": visit(node.mapper)})
        if isinstance(node, RunnableWithFallbacks):
            return node.model_copy(
                update={"runnable": visit(node.runnable), "fallbacks": [visit(f) for f in node.fallbacks]}
            )
        if node is chat:
            found = True
            return chat.bind(**options)
        return node

    out = visit(runnable)
    if not found and type(chat).__name__ not in _WARNED:
        _WARNED.add(type(chat).__name__)
        logger.warning(
            "%s: cannot pass call options %s through its structured output; they are not sent",
            type(chat).__name__,
            sorted(options),
        )
    return out


def reply_of(out: Any) -> tuple[AIMessage, str]:
    """The model's message and the JSON text it wrote, from a plain reply or a structured result.

    The text is what the model wrote (a tool call's arguments, else the content), so the role
    model's strict parse and repair decide; LangChain's `parsed` is used only when the message
    carries no text (its JSON parsers complete a cut-off reply, which must be repaired instead).
    """
    if isinstance(out, AIMessage):
        return out, reply_json_text(out)
    if not isinstance(out, dict) or not isinstance(out.get("raw"), AIMessage):
        raise TypeError(f"structured output should come with its raw message (include_raw=True), not {out!r}")
    message: AIMessage = out["raw"]
    text = reply_json_text(message)
    parsed = out.get("parsed")
    if not text.strip() and parsed is not None and out.get("parsing_error") is None:
        text = json.dumps(parsed.model_dump(mode="json") if isinstance(parsed, BaseModel) else parsed)
    return message, text
