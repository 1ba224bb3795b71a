"""Getting schema-valid objects out of any chat model: constrain, parse, validate, repair."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from humanllm.llm._prompts import render

if TYPE_CHECKING:
    from humanllm.llm._keyed import KeyedReply

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> str:
    """The JSON object in a reply that may wrap it in prose or code fences."""
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    end = text.rfind("}")
    if start == -1 or end < start:
        return text.strip()
    return text[start : end + 1]


def parse_reply(text: str, schema: type[T] | KeyedReply[T]) -> T:
    """Validate a reply against the schema; raises ValueError with a readable reason."""
    candidate = extract_json(text)
    try:
        # strict=False: raw newlines and tabs inside strings are common in model output and harmless
        data = json.loads(candidate, strict=False)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'reply'}: {err['msg']}" for err in exc.errors()[:6]
        )
        raise ValueError(problems) from exc


def repair_messages(messages: list[BaseMessage], reply: str, problem: str) -> list[BaseMessage]:
    """The conversation extended with the bad reply and a request to fix it."""
    return [
        *messages,
        AIMessage(content=reply),
        HumanMessage(content=render("repair", problem=problem)),
    ]
