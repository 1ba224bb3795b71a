"""Stand-ins for other providers' chat models: LangChain's surface only, structured output one way.

Not humanllm's own models (no `response_format` of ours): what `anthropic:...`, `ollama:...` and
the like look like to a role. `ToolCallingChatModel` has `bind_tools` and LangChain's default
`with_structured_output` (tool calling only); `JsonModeChatModel` takes only `method="json_mode"`
and, like ChatOpenAI's JSON mode, sends no schema (the prompt must carry it); `PlainChatModel`
has neither, so `with_structured_output` raises NotImplementedError. Replies come from `reply`
(`role_reply`: every humanllm role) for the schema the request carries (its tool, or the schema
in the prompt); `garble` cuts the first n schema'd replies in half, to exercise repairs.
"""

from __future__ import annotations

import json
import threading
from operator import itemgetter
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from humanllm.testing._roles import TextReply, role_reply
from humanllm.testing._server import _schema_in_prompt


class _ProviderLike(BaseChatModel):
    reply: TextReply = Field(default=role_reply, description="(messages, {'response_format': ...}) -> reply text.")
    garble: int = Field(default=0, description="How many schema'd replies to cut in half first.")
    requests: list[dict[str, Any]] = Field(default_factory=list, description="Each call's keyword arguments.")
    prompts: list[str] = Field(default_factory=list, description="Each call's last message.")

    _garbled: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "provider-like-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self.requests.append(dict(kwargs))
            self.prompts.append(messages[-1].text if messages else "")
        tools = kwargs.get("tools") or []
        schema = None
        if tools:
            function = tools[0]["function"]
            schema = {**function.get("parameters", {}), "title": function["name"]}
        elif (found := _schema_in_prompt(messages)) is not None:
            schema = found
        fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}} if schema else None
        text = self.reply(list(messages), {"response_format": fmt})
        if schema is not None:
            with self._lock:
                if self._garbled < self.garble:
                    self._garbled += 1
                    text = text[: max(1, len(text) // 2)]
        usage = {"input_tokens": 3, "output_tokens": max(1, len(text.split())), "total_tokens": 0}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        message = AIMessage(content=text, usage_metadata=usage)
        if tools:
            message = _tool_reply(text, tools[0]["function"]["name"], message)
        return ChatResult(generations=[ChatGeneration(message=message)])


def _tool_reply(text: str, name: str, message: AIMessage) -> AIMessage:
    try:
        args = json.loads(text)
    except json.JSONDecodeError as exc:
        call = {"name": name, "args": text, "id": "call-1", "error": exc.msg, "type": "invalid_tool_call"}
        return AIMessage(content="", invalid_tool_calls=[call], usage_metadata=message.usage_metadata)
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": "call-1"}], usage_metadata=message.usage_metadata
    )


class ToolCallingChatModel(_ProviderLike):
    """Tools, and LangChain's default `with_structured_output` (by tool calling, no `method`)."""

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)


class JsonModeChatModel(_ProviderLike):
    """JSON mode only, with no schema sent: `with_structured_output` refuses every other method."""

    def with_structured_output(
        self, schema: Any, *, method: str = "json_mode", include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        if method != "json_mode":
            raise ValueError(f"{type(self).__name__} supports method='json_mode' only, not {method!r}")
        llm = self.bind(response_format={"type": "json_object"})
        if not include_raw:
            return llm | JsonOutputParser()
        parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | JsonOutputParser(), parsing_error=lambda _: None)
        unparsed = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([unparsed], exception_key="parsing_error")


class PlainChatModel(_ProviderLike):
    """Text only: no tools, so LangChain's default `with_structured_output` raises NotImplementedError."""
