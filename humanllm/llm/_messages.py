"""Converting LangChain messages to the plain role/content dicts engines take."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

_ROLES: dict[type[BaseMessage], str] = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}


def to_chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Plain `{role, content}` dicts; consecutive same-role messages are kept as they are."""
    out = []
    for message in messages:
        role = next((r for cls, r in _ROLES.items() if isinstance(message, cls)), "user")
        out.append({"role": role, "content": message.text})
    return out


def json_schema_of(response_format: object) -> dict | None:
    """The JSON schema inside an OpenAI-style `response_format`, if there is one."""
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema") or {}
        schema = inner.get("schema")
        return schema if isinstance(schema, dict) else None
    if response_format.get("type") == "json_object":
        schema = response_format.get("schema")
        return schema if isinstance(schema, dict) else {}
    return None
