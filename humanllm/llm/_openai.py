"""The `openai:<model>` backend: ChatOpenAI for OpenAI and any OpenAI-compatible server.

Its `with_structured_output` asks the way such servers take, not the way ChatOpenAI does by
default: the `response_format` goes out as a raw request field (the SDK's typed parse path
re-validates the whole schema on every call, which costs milliseconds of CPU), `json_mode` keeps
the schema (llama.cpp's server constrains `json_object` by it, grammar-friendly bounds), and
`function_calling` forces one plain tool. Cache keys are ChatOpenAI's: same class id, same fields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, PrivateAttr

from humanllm.llm._base import StructuredMethod, json_schema_format, schema_parts, structured_runnable
from humanllm.llm._local import grammar_friendly
from humanllm.llm._loop_client import LoopClients

_REQUEST_OPTIONS = {"extra_headers": "headers", "extra_query": "params", "timeout": "timeout"}
"""`create()`'s keyword arguments that are not body fields -> the SDK's request options."""


def request_parts(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(JSON body, request options) of a `chat.completions.create(**payload)` call, as the SDK splits them."""
    body = {k: v for k, v in payload.items() if k != "extra_body" and k not in _REQUEST_OPTIONS}
    body.update(payload.get("extra_body") or {})
    options = {_REQUEST_OPTIONS[k]: v for k, v in payload.items() if k in _REQUEST_OPTIONS and v is not None}
    return body, options


class OpenAICompatibleChat(ChatOpenAI):
    """ChatOpenAI whose structured output works against vLLM, llama.cpp's server and OpenAI alike.

    A plain (non-streaming) call posts the request LangChain built straight to `/chat/completions`
    through the same SDK client (its retries, auth, errors), reading the reply as JSON: the SDK's
    `create()` first walks every message through its typed transform and then builds a typed
    response that LangChain dumps back to a dict, and ChatOpenAI converts that dict in an executor
    thread; together about a third of a cheap call's CPU (`benchmarks/throughput.py`).
    """

    takes_response_format: ClassVar[bool] = True
    _loop_clients: LoopClients = PrivateAttr(default_factory=LoopClients)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await self._use_loop_client()
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        if not self._plain_chat_request(payload):
            return await super()._agenerate(messages, stop, run_manager, **kwargs)
        body, options = request_parts(payload)
        response = await self.root_async_client.post("/chat/completions", cast_to=object, body=body, options=options)
        return self._create_chat_result(response)

    def _plain_chat_request(self, payload: dict[str, Any]) -> bool:
        """A non-streaming Chat Completions call with nothing for the SDK's typed paths to do."""
        return not (
            payload.get("stream")
            or "response_format" in payload  # a pydantic class: ChatOpenAI's parse path
            or self.include_response_headers
            or self._use_responses_api(payload)
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        await self._use_loop_client()
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk

    async def _use_loop_client(self) -> None:
        """Talk through this event loop's own client (see `humanllm.llm._loop_client`)."""
        root = await self._loop_clients.for_running_loop(self.root_async_client)
        if root is not self.root_async_client:
            self.root_async_client, self.async_client = root, root.chat.completions

    async def aclose(self) -> None:
        """Close the running loop's HTTP connections now (they close by themselves when the loop ends)."""
        await self._loop_clients.aclose()

    @classmethod
    def lc_id(cls) -> list[str]:
        """ChatOpenAI's id: response caches written before this class existed still match."""
        return ChatOpenAI.lc_id()

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """ChatOpenAI's name (in cache keys and traces), unless one is given."""
        return super().get_name(suffix, name=name or self.name or "ChatOpenAI")

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Structured output by `json_schema`, `json_mode` (schema attached) or `function_calling`."""
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        if schema is None:
            raise ValueError("structured output needs a schema")
        name, json_schema, model = schema_parts(schema)
        llm: Runnable[LanguageModelInput, AIMessage]
        match method:
            case "json_schema":
                fmt = schema if isinstance(schema, dict) and schema.get("type") == "json_schema" else None
                llm = self.bind(extra_body={"response_format": fmt or json_schema_format(name, json_schema)})
            case "json_mode":
                fmt = {"type": "json_object", "schema": grammar_friendly(json_schema)}
                llm = self.bind(extra_body={"response_format": fmt})
            case "function_calling":
                tool = {"type": "function", "function": {"name": name, "parameters": json_schema}}
                choice = {"type": "function", "function": {"name": name}}
                llm = self.bind(tools=[tool], tool_choice=choice)
            case _:
                raise ValueError(
                    f"unknown structured-output method {method!r}: json_schema, json_mode or function_calling"
                )
        return structured_runnable(llm, method, name, model, include_raw=include_raw)
