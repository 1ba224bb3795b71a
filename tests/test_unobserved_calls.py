"""A role's model call inside a LangGraph node: made outside the graph's callback tree when no handler
watches it, and inside it (the caller's callbacks, `stream_mode="messages"`) when one does."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.graph import END, START, StateGraph

from humanllm.llm import RoleModel, parse_spec
from humanllm.testing import ScriptedChatModel


class _State(TypedDict, total=False):
    reply: str


def _graph_over(role: RoleModel) -> Any:
    async def ask(state: _State) -> _State:
        return {"reply": await role.atext([HumanMessage("Say hello.")])}

    graph = StateGraph(_State)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    return graph.compile()


def _recording_role() -> tuple[RoleModel, list[dict[str, Any] | None]]:
    """A role whose fake model notes the runnable config it inherited on each call."""
    seen: list[dict[str, Any] | None] = []

    def reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        seen.append(var_child_runnable_config.get())
        return "hello"

    chat = ScriptedChatModel(function=reply)
    return RoleModel(role="character", spec=parse_spec("fake"), chat=chat, max_retries=0), seen


class _Starts(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.chat_model_starts = 0

    async def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.chat_model_starts += 1


def test_a_call_nobody_watches_runs_without_the_graphs_config() -> None:
    role, seen = _recording_role()
    out = asyncio.run(_graph_over(role).ainvoke({}))
    assert out == {"reply": "hello"}
    assert len(seen) == 1
    assert seen[0] is None or "langgraph_node" not in seen[0].get("metadata", {})


def test_a_callers_handler_still_sees_the_call_with_the_graphs_metadata() -> None:
    role, seen = _recording_role()
    starts = _Starts()
    out = asyncio.run(_graph_over(role).ainvoke({}, {"callbacks": [starts]}))
    assert out == {"reply": "hello"}
    assert starts.chat_model_starts == 1
    assert seen[0] is not None and seen[0]["metadata"]["langgraph_node"] == "ask"


def test_streaming_the_graphs_messages_still_gets_the_models_reply() -> None:
    role, _ = _recording_role()

    async def stream() -> list[Any]:
        return [chunk async for chunk in _graph_over(role).astream({}, stream_mode="messages")]

    chunks = asyncio.run(stream())
    messages = [message for message, _meta in chunks if isinstance(message, AIMessage)]
    assert "".join(m.text for m in messages) == "hello"
    assert chunks[0][1]["langgraph_node"] == "ask"
