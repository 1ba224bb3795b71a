"""The base of humanllm's own chat models: structured output, tool calls and streaming for every backend.

A backend implements `_reply` (messages -> one AIMessage with usage) and reads an OpenAI-style
`response_format` from the call's options. This base turns LangChain's three structured-output
methods into that: `json_schema` sends the schema, `json_mode` asks for JSON (with the schema
attached, llama.cpp's `json_object` form, so grammar backends still constrain it), and
`function_calling` asks for the tool's arguments as JSON and returns them as a tool call. Backends
that cannot stream yield their whole reply as one chunk; async runs in an executor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import (
    BaseOutputParser,
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
)
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig, RunnableSerializable
from langchain_core.tools import BaseTool
from pydantic import BaseModel

StructuredMethod = Literal["json_schema", "json_mode", "function_calling"]


def schema_parts(schema: dict[str, Any] | type) -> tuple[str, dict[str, Any], type[BaseModel] | None]:
    """(name, JSON schema, pydantic class or None) of a pydantic class, a JSON schema, a response_format or a tool."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.__name__, schema.model_json_schema(), schema
    if not isinstance(schema, dict):
        raise TypeError(f"structured output needs a pydantic class or a JSON schema dict, not {schema!r}")
    if schema.get("type") == "json_schema" and "json_schema" in schema:
        inner = schema["json_schema"]
        return str(inner.get("name") or "reply"), dict(inner.get("schema") or {}), None
    if schema.get("type") == "function" and "function" in schema:
        function = schema["function"]
        return str(function["name"]), dict(function.get("parameters") or {}), None
    return str(schema.get("title") or "reply"), schema, None


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style `response_format` for a JSON schema (strict: False, as every backend takes it)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


class HumanChatModel(BaseChatModel):
    """A LangChain chat model whose backend answers `_reply`; everything else LangChain expects is here."""

    takes_response_format: ClassVar[bool] = True
    """`with_structured_output` takes an OpenAI-style `response_format` dict as its schema (and sends it as is)."""
    native_tools: ClassVar[bool] = False
    """True when `_reply` reads `tools` itself (scripted fakes); else a forced tool becomes a JSON schema."""

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tool = None if self.native_tools else _forced_tool(kwargs)
        if tool is not None:
            name, parameters = tool
            kwargs = {k: v for k, v in kwargs.items() if k not in ("tools", "tool_choice", "parallel_tool_calls")}
            kwargs["response_format"] = json_schema_format(name, parameters)
        message = self._reply(messages, stop, **kwargs)
        if tool is not None:
            message = _as_tool_call(message, tool[0])
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The whole reply as one chunk: these engines do not stream token by token here."""
        message = self._generate(messages, stop, **kwargs).generations[0].message
        assert isinstance(message, AIMessage)
        chunk = AIMessageChunk(
            content=message.content,
            usage_metadata=message.usage_metadata,
            response_metadata=message.response_metadata,
            tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i, "type": "tool_call_chunk"}
                for i, c in enumerate(message.tool_calls)
            ],
        )
        if run_manager is not None:
            run_manager.on_llm_new_token(message.text, chunk=ChatGenerationChunk(message=chunk))
        yield ChatGenerationChunk(message=chunk)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Tools in OpenAI's format; `tool_choice` a tool name, "any"/"required" (the only tool), or a dict."""
        formatted = [_tool(t) for t in tools]
        choice = tool_choice
        if choice in ("any", "required", True) and len(formatted) == 1:
            choice = formatted[0]["function"]["name"]
        if isinstance(choice, str) and choice not in ("auto", "none", "any", "required"):
            choice = {"type": "function", "function": {"name": choice}}
        return self.bind(tools=formatted, tool_choice=choice, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """LangChain's structured output, by `json_schema`, `json_mode` or `function_calling`."""
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        name, json_schema, model = schema_parts(schema)
        llm: Runnable[LanguageModelInput, AIMessage]
        match method:
            case "json_schema":
                fmt = schema if isinstance(schema, dict) and schema.get("type") == "json_schema" else None
                llm = self.bind(response_format=fmt or json_schema_format(name, json_schema))
            case "json_mode":
                llm = self.bind(response_format={"type": "json_object", "schema": json_schema})
            case "function_calling":
                tool = {"type": "function", "function": {"name": name, "parameters": json_schema}}
                llm = self.bind_tools([tool], tool_choice=name)
            case _:
                raise ValueError(
                    f"unknown structured-output method {method!r}: json_schema, json_mode or function_calling"
                )
        return structured_runnable(llm, method, name, model, include_raw=include_raw)


def structured_runnable(
    llm: Runnable[LanguageModelInput, AIMessage],
    method: StructuredMethod,
    name: str,
    model: type[BaseModel] | None,
    *,
    include_raw: bool,
) -> Runnable[LanguageModelInput, Any]:
    """`llm` (already bound to ask by `method`) piped into LangChain's parser for it, as
    `with_structured_output` returns it: with `include_raw`, a dict of raw, parsed and parsing_error."""
    parser: BaseOutputParser
    if method == "function_calling":
        parser = (
            PydanticToolsParser(tools=[model], first_tool_only=True)
            if model
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    else:
        parser = PydanticOutputParser(pydantic_object=model) if model else JsonOutputParser()
    if not include_raw:
        return llm | parser
    if isinstance(llm, RunnableBinding):  # the usual case: one runnable, no sequence step around the model
        return ParsedBinding(bound=llm.bound, kwargs=llm.kwargs, config=llm.config, parser=parser)
    return llm | WithRaw(parser=parser)


def _with_parsed(message: Any, parser: BaseOutputParser) -> dict[str, Any]:
    """`include_raw=True`'s result: raw, parsed (None if it fails) and parsing_error."""
    try:
        parsed = parser.parse_result([ChatGeneration(message=message)])
    except Exception as exc:  # what LangChain's fallback catches: parsed None, the error kept
        return {"raw": message, "parsed": None, "parsing_error": exc}
    return {"raw": message, "parsed": parsed, "parsing_error": None}


class ParsedBinding(RunnableBinding[LanguageModelInput, Any]):
    """A bound chat model whose reply comes back as `include_raw=True` gives it, parsed in place.

    The same result as `llm | WithRaw(parser)`, without the sequence: LangChain runs each step of a
    `RunnableSequence` as its own task with its own callback run, a measurable share of a cheap
    call's CPU. Rebinding (`with_call_options` adds a call's seed to `kwargs`) keeps the parser.
    """

    parser: BaseOutputParser

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return _with_parsed(super().invoke(input, config, **kwargs), self.parser)

    async def ainvoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return _with_parsed(await super().ainvoke(input, config, **kwargs), self.parser)


class WithRaw(RunnableSerializable[BaseMessage, dict[str, Any]]):
    """The reply as `include_raw=True` gives it: raw, parsed (None if it fails) and parsing_error.

    LangChain's own form (a parallel step, an assign and a fallback) costs several executor hops
    and callback managers per call, milliseconds of CPU; this parses in place, with the same result.
    """

    parser: BaseOutputParser

    def invoke(self, input: BaseMessage, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        return _with_parsed(input, self.parser)

    async def ainvoke(self, input: BaseMessage, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.invoke(input, config)


def _tool(tool: dict[str, Any] | type | Callable | BaseTool) -> dict[str, Any]:
    """A tool in OpenAI's format, keeping a pydantic class's full schema (titles and $defs included)."""
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return {"type": "function", "function": {"name": tool.__name__, "parameters": tool.model_json_schema()}}
    if isinstance(tool, dict) and tool.get("type") == "function":
        return tool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return convert_to_openai_tool(tool)


def _forced_tool(kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(name, parameters) of the one tool the call must use, if it names one (or offers only one)."""
    tools = kwargs.get("tools") or []
    if not tools:
        return None
    choice = kwargs.get("tool_choice")
    wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    for tool in tools:
        function = tool["function"]
        if wanted is None or function["name"] == wanted:
            return str(function["name"]), dict(function.get("parameters") or {})
    raise ValueError(f"tool_choice names {wanted!r}, which is not among the tools")


def _as_tool_call(message: AIMessage, name: str) -> AIMessage:
    """The reply's JSON as a call of tool `name` (an invalid call, with the text, when it is not JSON)."""
    text = message.text
    call_id = "call_" + hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()[:12]  # same reply, same id
    error = "not a JSON object"
    try:
        args = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        args, error = None, exc.msg
    if isinstance(args, dict):
        return AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
            usage_metadata=message.usage_metadata,
            response_metadata=message.response_metadata,
        )
    return AIMessage(
        content="",
        invalid_tool_calls=[{"name": name, "args": text, "id": call_id, "error": error, "type": "invalid_tool_call"}],
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
    )
