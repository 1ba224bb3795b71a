"""A model bound to a role: retries, error translation, structured output and token usage."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from humanllm.errors import EndpointError, HumanLLMError, PermanentEndpointError, StructuredOutputError
from humanllm.llm._asking import Ask, MethodUnsupported, ask_for, reply_of
from humanllm.llm._call_stats import CallStats
from humanllm.llm._endpoint import StructuredEndpoint, StructuredMethod, rejects_method
from humanllm.llm._retry import (
    backoff_seconds,
    error_kinds,
    error_text,
    is_permanent,
    is_transient,
    retry_after_seconds,
    status_of,
)
from humanllm.llm._schemas import response_format_for
from humanllm.llm._settings import GenerationSpec, ModelSettings
from humanllm.llm._spec import ModelSpec
from humanllm.llm._structured import parse_reply, repair_messages
from humanllm.llm._unobserved import unobserved_call
from humanllm.llm._usage import UsageMeter
from humanllm.redaction import redact

if TYPE_CHECKING:
    from humanllm.llm._keyed import KeyedReply

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

Role = Literal["character", "writer", "director", "judge"]
ROLES: tuple[Role, ...] = ("character", "writer", "director", "judge")


@dataclass
class RoleModel:
    """What an agent talks to: a chat model for one role, with the policies around each call.

    A call with `response_format` (an OpenAI-style JSON-schema format) is asked for in the way
    its endpoint takes (`StructuredEndpoint`: json_schema, json_object + schema, tool calling, or
    the schema in the prompt), through the chat model's own `with_structured_output(...,
    include_raw=True)` for the first three, and returns the reply's JSON text whichever way was
    used; `structured` parses it and asks for repairs around that.
    """

    role: str
    spec: ModelSpec
    chat: BaseChatModel
    max_retries: int = 4
    client_retries: int = 0
    """Retries the client library makes by itself inside one call (OpenAI's SDK), for messages."""
    repairs: int = 2
    where: str = ""
    """Human-readable endpoint (base URL, redacted) for error messages; never holds a secret."""
    endpoint: StructuredEndpoint = field(default_factory=lambda: StructuredEndpoint("in-process"))
    usage: UsageMeter = field(default_factory=UsageMeter)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    settings: ModelSettings = field(default_factory=ModelSettings)
    """The settings the chat model was built with (what `generation()` reports for specs)."""
    seed: int | None = None
    """Sampling seed sent with every call that does not give its own (`with_seed` sets it per episode)."""
    stats: CallStats | None = None
    """The endpoint's figures (calls, tokens, errors, latency), shared by the role models that talk to it."""

    def with_seed(self, seed: int | None) -> RoleModel:
        """The same chat model (same engine, rate limiter and meter) sampling with `seed` on every call."""
        return replace(self, seed=seed)

    def generation(self) -> GenerationSpec:
        """Every setting that shapes this model's replies, as stored in specs: no key, the base URL redacted."""
        return self.settings.generation(remote=self.spec.backend == "openai")

    @property
    def structured_method(self) -> StructuredMethod:
        """How this role's endpoint is asked for structured output right now."""
        return self.endpoint.method

    # --- plain text -------------------------------------------------------------------------
    def text(self, messages: Sequence[BaseMessage], **kwargs: Any) -> str:
        return self._call(list(messages), kwargs)

    async def atext(self, messages: Sequence[BaseMessage], **kwargs: Any) -> str:
        return await self._acall(list(messages), kwargs)

    # --- structured ---------------------------------------------------------------------------
    def structured(self, messages: Sequence[BaseMessage], schema: type[T] | KeyedReply[T], **kwargs: Any) -> T:
        """A validated instance of `schema`; repairs invalid replies, then fails clearly."""
        history, problem = list(messages), ""
        for _attempt in range(self.repairs + 1):
            reply = self._call(history, {**kwargs, "response_format": response_format_for(schema)})
            result, history, problem = self._check(reply, schema, messages)
            if result is not None:
                return result
        raise self._invalid(schema, problem)

    async def astructured(self, messages: Sequence[BaseMessage], schema: type[T] | KeyedReply[T], **kwargs: Any) -> T:
        """`structured`, for async callers (the same repair rules)."""
        history, problem = list(messages), ""
        for _attempt in range(self.repairs + 1):
            reply = await self._acall(history, {**kwargs, "response_format": response_format_for(schema)})
            result, history, problem = self._check(reply, schema, messages)
            if result is not None:
                return result
        raise self._invalid(schema, problem)

    def _check(
        self, reply: str, schema: type[T] | KeyedReply[T], messages: Sequence[BaseMessage]
    ) -> tuple[T | None, list[BaseMessage], str]:
        """The parsed reply, or None with the repair conversation and the problem."""
        try:
            return parse_reply(reply, schema), list(messages), ""
        except ValueError as exc:
            problem = str(exc)
            logger.info("%s: invalid %s (%s); asking for a repair", self.role, schema.__name__, problem)
            return None, repair_messages(list(messages), reply, problem), problem

    def _invalid(self, schema: type[BaseModel] | KeyedReply[Any], problem: str) -> StructuredOutputError:
        return StructuredOutputError(
            f"{self.role} model {self.spec} kept returning invalid {schema.__name__} after "
            f"{self.repairs + 1} tries (last problem: {problem}); use a stronger model for this role "
            f"(--{self.role}-model) or raise --max-tokens"
        )

    # --- the call itself ------------------------------------------------------------------------
    def _call(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        response_format = kwargs.pop("response_format", None)
        options = self._request(kwargs)
        if response_format is None:
            return self._record(self._invoke(Ask(self.chat, messages, options, structured=False)), plain=True)
        while True:
            method = self.endpoint.method
            try:
                return self._record(self._invoke(ask_for(self.chat, method, messages, response_format, options)))
            except MethodUnsupported as exc:
                self.endpoint.step_down(method, str(exc))
            except EndpointError as exc:
                self._step_down_or_raise(method, exc)

    async def _acall(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        response_format = kwargs.pop("response_format", None)
        options = self._request(kwargs)
        if response_format is None:
            return self._record(await self._ainvoke(Ask(self.chat, messages, options, structured=False)), plain=True)
        while True:
            method = self.endpoint.method
            try:
                ask = ask_for(self.chat, method, messages, response_format, options)
                return self._record(await self._ainvoke(ask))
            except MethodUnsupported as exc:
                self.endpoint.step_down(method, str(exc))
            except EndpointError as exc:
                self._step_down_or_raise(method, exc)

    def _step_down_or_raise(self, method: StructuredMethod, exc: EndpointError) -> None:
        said = error_text(exc.__cause__ or exc)
        if not rejects_method(method, exc.status, said):
            raise exc
        self.endpoint.step_down(method, said)

    def _request(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None and "seed" not in kwargs:
            return {**kwargs, "seed": self.seed}
        return kwargs

    def _record(self, out: Any, *, plain: bool = False) -> str:
        """The reply's text (a schema'd call's JSON text, `plain`: the content), its tokens counted."""
        message, text = reply_of(out)
        self.usage.record(message)
        if self.stats is not None and (meta := message.usage_metadata):
            self.stats.tokens(meta["input_tokens"], meta["output_tokens"])
        return message.text if plain else text

    def _timed(self, started: float, *, ok: bool) -> None:
        if self.stats is not None:
            self.stats.call(time.monotonic() - started, ok=ok)

    def _invoke(self, ask: Ask) -> Any:
        for attempt in range(self.max_retries + 1):
            started = time.monotonic()
            try:
                with unobserved_call():
                    out = ask.runnable.invoke(ask.messages, **ask.options)
                self._timed(started, ok=True)
                return out
            except NotImplementedError as exc:
                if ask.structured:
                    raise MethodUnsupported(f"{type(self.chat).__name__}: {exc or 'not implemented'}") from exc
                self._timed(started, ok=False)
                time.sleep(self._wait_or_raise(exc, attempt))
            except Exception as exc:
                self._timed(started, ok=False)
                time.sleep(self._wait_or_raise(exc, attempt))
        raise AssertionError("unreachable: the last try returns or raises")

    async def _ainvoke(self, ask: Ask) -> Any:
        for attempt in range(self.max_retries + 1):
            started = time.monotonic()
            try:
                with unobserved_call():
                    out = await ask.runnable.ainvoke(ask.messages, **ask.options)
                self._timed(started, ok=True)
                return out
            except NotImplementedError as exc:
                if ask.structured:
                    raise MethodUnsupported(f"{type(self.chat).__name__}: {exc or 'not implemented'}") from exc
                self._timed(started, ok=False)
                await asyncio.sleep(self._wait_or_raise(exc, attempt))
            except Exception as exc:
                self._timed(started, ok=False)
                await asyncio.sleep(self._wait_or_raise(exc, attempt))
        raise AssertionError("unreachable: the last try returns or raises")

    def _wait_or_raise(self, exc: Exception, attempt: int) -> float:
        """Seconds to wait before the next try, or raise a clear error when it is over."""
        if isinstance(exc, HumanLLMError):
            raise exc
        status = status_of(exc)
        cause = _cause_label(exc, status)
        if is_permanent(exc):
            raise PermanentEndpointError(self._describe(exc), status=status, cause=cause) from exc
        if not is_transient(exc):
            raise EndpointError(self._describe(exc), status=status, cause=cause) from exc
        if attempt >= self.max_retries:
            tries = (attempt + 1) * (self.client_retries + 1)
            message = f"{self._describe(exc)} (gave up after {tries} tries)"
            raise EndpointError(message, status=status, cause=cause) from exc
        wait = retry_after_seconds(exc) or backoff_seconds(attempt, self.rng)
        logger.warning("%s: %s; retrying in %.1fs", self.role, type(exc).__name__, wait)
        return wait

    def _describe(self, exc: Exception) -> str:
        """One line: which endpoint, what it answered, what to do."""
        kinds = error_kinds(exc)
        status = status_of(exc)
        where = f" at {self.where}" if self.where else ""
        model = f"the {self.role} model {self.spec}{where}"
        detail = redact(error_text(exc))[:200]
        if "APITimeoutError" in kinds or isinstance(exc, TimeoutError):
            return f"{model} did not answer in time: raise --timeout, lower --concurrency or check the server's load"
        if "APIConnectionError" in kinds or isinstance(exc, ConnectionError):
            return f"cannot reach {model}: check the server runs and --base-url"
        if status == 401 or "AuthenticationError" in kinds:
            return f"{model} answered 401 (the API key was rejected): check OPENAI_API_KEY"
        if status == 403 or "PermissionDeniedError" in kinds:
            return f"{model} answered 403 (this key may not use that model): check the key's permissions"
        if status == 404 or "NotFoundError" in kinds:
            return f"{model} answered 404 (no such model or path): check the model name and that --base-url ends in /v1"
        if status is not None:
            return f"{model} answered {status}: {detail}"
        return f"{model} failed: {type(exc).__name__}: {detail}"


def _cause_label(exc: Exception, status: int | None) -> str:
    """What went wrong, in a word or two, for grouping failures in `data status`."""
    kinds = error_kinds(exc)
    if "APITimeoutError" in kinds or isinstance(exc, TimeoutError):
        return "timeout"
    if "APIConnectionError" in kinds or isinstance(exc, ConnectionError):
        return "connection"
    if status == 429:
        return "rate limited"
    if status is not None:
        return str(status)
    if kinds & {"APIResponseValidationError", "JSONDecodeError"}:
        return "malformed response"
    return type(exc).__name__
