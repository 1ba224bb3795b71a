"""JSON schemas of pydantic reply classes, cached per class (no LangChain here: agents import it at start-up)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from humanllm.llm._keyed import KeyedReply

_FORMATS: weakref.WeakKeyDictionary[type[BaseModel] | KeyedReply[Any], dict[str, Any]] = weakref.WeakKeyDictionary()


def response_format_for(schema: type[BaseModel] | KeyedReply[Any]) -> dict[str, Any]:
    """OpenAI-style `response_format` asking for JSON valid against the schema; do not modify it.

    Cached per schema class (or `KeyedReply`) for as long as it lives (per-call schemas are built for one
    episode and then dropped, so a weak cache keeps memory flat): pydantic's `model_json_schema`
    costs about a millisecond, and the role model asks for the format on every try.
    """
    found = _FORMATS.get(schema)
    if found is None:
        found = {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
        }
        _FORMATS[schema] = found
    return found


def schema_of(schema: type[BaseModel] | KeyedReply[Any]) -> dict[str, Any]:
    """The class's JSON schema, from the same cache as `response_format_for` (do not modify it)."""
    inner: dict[str, Any] = response_format_for(schema)["json_schema"]["schema"]
    return inner
