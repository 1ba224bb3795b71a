"""A model bound to a role: retries, error translation, structured output and token usage."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel

from humanllm.errors import EndpointError, HumanLLMError, StructuredOutputError
from humanllm.llm._retry import backoff_seconds, error_kinds, is_transient, retry_after_seconds
from humanllm.llm._spec import ModelSpec
from humanllm.llm._structured import parse_reply, repair_messages, response_format_for
from humanllm.llm._usage import UsageMeter

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

Role = Literal["character", "writer", "director", "judge"]
ROLES: tuple[Role, ...] = ("character", "writer", "director", "judge")
StructuredMethod = Literal["json_schema", "function_calling"]


@dataclass
class RoleModel:
    """What an agent talks to: a chat model for one role, with the policies around each call."""

    role: str
    spec: ModelSpec
    chat: BaseChatModel
    structured_method: StructuredMethod = "json_schema"
    max_retries: int = 4
    repairs: int = 2
    where: str = ""
    """Human-readable endpoint (base URL) for error messages; never holds a secret."""
    schema_in_extra_body: bool = False
    """Send `response_format` as a raw request field (OpenAI-compatible servers): the SDK's typed
    parse path re-validates the whole schema on every call, which costs milliseconds of CPU."""
    usage: UsageMeter = field(default_factory=UsageMeter)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    # --- plain text -------------------------------------------------------------------------
    def text(self, messages: Sequence[BaseMessage], **kwargs: Any) -> str:
        return self._call(list(messages), kwargs).text

    async def atext(self, messages: Sequence[BaseMessage], **kwargs: Any) -> str:
        return (await self._acall(list(messages), kwargs)).text

    # --- structured ---------------------------------------------------------------------------
    def structured(self, messages: Sequence[BaseMessage], schema: type[T]) -> T:
        """A validated instance of `schema`; repairs invalid replies, then fails clearly.

        JSON-schema output first; a server that rejects `response_format` switches this role to
        function calling for good.
        """
        if self.structured_method == "function_calling":
            return self._function_calling(list(messages), schema)
        history, problem = list(messages), ""
        for _attempt in range(self.repairs + 1):
            try:
                reply = self._call(history, {"response_format": response_format_for(schema)}).text
            except EndpointError as exc:
                self._switch_to_function_calling(exc)
                return self._function_calling(list(messages), schema)
            result, history, problem = self._check(reply, schema, messages)
            if result is not None:
                return result
        raise self._invalid(schema, problem)

    async def astructured(self, messages: Sequence[BaseMessage], schema: type[T]) -> T:
        """`structured`, for async callers (the same repair and fallback rules)."""
        if self.structured_method == "function_calling":
            return await asyncio.to_thread(self._function_calling, list(messages), schema)
        history, problem = list(messages), ""
        for _attempt in range(self.repairs + 1):
            try:
                reply = (await self._acall(history, {"response_format": response_format_for(schema)})).text
            except EndpointError as exc:
                self._switch_to_function_calling(exc)
                return await asyncio.to_thread(self._function_calling, list(messages), schema)
            result, history, problem = self._check(reply, schema, messages)
            if result is not None:
                return result
        raise self._invalid(schema, problem)

    def _check(
        self, reply: str, schema: type[T], messages: Sequence[BaseMessage]
    ) -> tuple[T | None, list[BaseMessage], str]:
        """The parsed reply, or None with the repair conversation and the problem."""
        try:
            return parse_reply(reply, schema), list(messages), ""
        except ValueError as exc:
            problem = str(exc)
            logger.info("%s: invalid %s (%s); asking for a repair", self.role, schema.__name__, problem)
            return None, repair_messages(list(messages), reply, problem), problem

    def _switch_to_function_calling(self, exc: EndpointError) -> None:
        """Re-raise unless the server rejected `response_format`; then use function calling for good."""
        if not _rejects_response_format(exc):
            raise exc
        logger.warning("%s: the server rejects response_format; using function calling", self.role)
        self.structured_method = "function_calling"

    def _invalid(self, schema: type[BaseModel], problem: str) -> StructuredOutputError:
        return StructuredOutputError(
            f"{self.role} model {self.spec} kept returning invalid {schema.__name__} after "
            f"{self.repairs + 1} tries (last problem: {problem}); use a stronger model for this role "
            f"(--{self.role}-model) or raise --max-tokens"
        )

    def _function_calling(self, messages: list[BaseMessage], schema: type[T]) -> T:
        runnable = self.chat.with_structured_output(schema, method="function_calling", include_raw=True)
        problem = ""
        for _attempt in range(self.repairs + 1):
            result = self._with_retries(lambda: runnable.invoke(messages))
            raw = result.get("raw") if isinstance(result, dict) else None
            if isinstance(raw, AIMessage):
                self.usage.record(raw)
            parsed = result.get("parsed") if isinstance(result, dict) else None
            if isinstance(parsed, schema):
                return parsed
            problem = str(result.get("parsing_error") if isinstance(result, dict) else "no result")
        raise self._invalid(schema, problem)

    # --- the call itself ------------------------------------------------------------------------
    def _request(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.schema_in_extra_body and "response_format" in kwargs:
            rest = {k: v for k, v in kwargs.items() if k != "response_format"}
            return {**rest, "extra_body": {"response_format": kwargs["response_format"]}}
        return kwargs

    def _call(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        kwargs = self._request(kwargs)
        message = self._with_retries(lambda: self.chat.invoke(messages, **kwargs))
        assert isinstance(message, AIMessage)
        self.usage.record(message)
        return message

    async def _acall(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        kwargs = self._request(kwargs)
        for attempt in range(self.max_retries + 1):
            try:
                message = await self.chat.ainvoke(messages, **kwargs)
                break
            except Exception as exc:
                await asyncio.sleep(self._wait_or_raise(exc, attempt))
        assert isinstance(message, AIMessage)
        self.usage.record(message)
        return message

    def _with_retries(self, call: Callable[[], R]) -> R:
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except Exception as exc:
                time.sleep(self._wait_or_raise(exc, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_or_raise(self, exc: Exception, attempt: int) -> float:
        """Seconds to wait before the next try, or raise a clear error when it is over."""
        if isinstance(exc, HumanLLMError):
            raise exc
        if not is_transient(exc):
            raise EndpointError(self._describe(exc)) from exc
        if attempt >= self.max_retries:
            raise EndpointError(f"{self._describe(exc)} (gave up after {attempt + 1} tries)") from exc
        wait = retry_after_seconds(exc) or backoff_seconds(attempt, self.rng)
        logger.warning("%s: %s; retrying in %.1fs", self.role, type(exc).__name__, wait)
        return wait

    def _describe(self, exc: Exception) -> str:
        name = type(exc).__name__
        kinds = error_kinds(exc)
        where = f" at {self.where}" if self.where else ""
        if "APIConnectionError" in kinds or isinstance(exc, ConnectionError):
            return f"cannot reach the {self.role} model {self.spec}{where}: check the server runs and --base-url"
        if "AuthenticationError" in kinds:
            return f"the {self.role} model {self.spec}{where} rejected the API key: check OPENAI_API_KEY"
        if "NotFoundError" in kinds:
            return f"the {self.role} model {self.spec}{where} does not exist on that server: check the name"
        return f"{self.role} model {self.spec}{where} failed: {name}: {exc}"


def _rejects_response_format(exc: EndpointError) -> bool:
    """A 400 from a server that does not support JSON-schema output."""
    cause = exc.__cause__
    text = str(cause or exc).lower()
    return getattr(cause, "status_code", None) == 400 and ("response_format" in text or "json_schema" in text)
