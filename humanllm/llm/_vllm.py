"""In-process vLLM for GPU batch work: a LangChain chat model over one shared async engine.

Every `vllm:<model>` chat model in the process (writer, characters, judge) with the same engine
arguments talks to the same engine (see `_vllm_engine`), so one copy of the weights serves every
role and vLLM batches all of their calls together. JSON schemas become vLLM's structured-output
constraints, in the form the installed version takes. vllm is imported only when this backend is used.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

from humanllm.errors import BackendUnavailable, ConfigError
from humanllm.llm._base import HumanChatModel, _as_tool_call, _forced_tool, json_schema_format
from humanllm.llm._messages import json_schema_of, to_chat_dicts
from humanllm.llm._vllm_engine import SharedVLLMEngine, shared_vllm_engine, vllm_available

VLLM_ARGS_ENV = "HUMANLLM_VLLM_ARGS"


def vllm_engine_args_from_env() -> dict[str, Any]:
    """vLLM engine arguments from `HUMANLLM_VLLM_ARGS`, a JSON object (e.g. '{"gpu_memory_utilization": 0.8}')."""
    raw = os.environ.get(VLLM_ARGS_ENV, "").strip()
    if not raw:
        return {}
    try:
        args = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{VLLM_ARGS_ENV} must be a JSON object of vLLM engine arguments, e.g. "
            f"'{{\"max_model_len\": 8192}}': {exc.msg} at character {exc.pos}"
        ) from None
    if not isinstance(args, dict):
        raise ConfigError(f"{VLLM_ARGS_ENV} must be a JSON object of vLLM engine arguments, not {type(args).__name__}")
    return args


def structured_output_kwargs(schema: dict[str, Any]) -> dict[str, Any]:
    """SamplingParams keyword arguments constraining the reply to `schema` ({} = any JSON object).

    `StructuredOutputsParams` (vLLM 0.11 on) when the installed vLLM has it, else the older
    `GuidedDecodingParams`.
    """
    constraint: dict[str, Any] = {"json": schema} if schema else {"json_object": True}
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:
        pass
    else:
        return {"structured_outputs": StructuredOutputsParams(**constraint)}
    try:
        from vllm.sampling_params import GuidedDecodingParams
    except ImportError:
        raise BackendUnavailable(
            "the installed vLLM has neither StructuredOutputsParams nor GuidedDecodingParams: install vLLM 0.11+"
        ) from None
    return {"guided_decoding": GuidedDecodingParams(**constraint)}


class VLLMChatModel(HumanChatModel):
    """A chat model over the process's shared vLLM async engine for `model` and `engine_args`.

    Calls are not serialised: `ainvoke` awaits the engine with its own request id, so concurrent
    episodes are batched by vLLM; `invoke` waits on the engine's background loop from any thread.
    """

    model: str = Field(description="A Hugging Face model id or a local transformers folder.")
    temperature: float = Field(default=0.8, description="Sampling temperature.")
    max_tokens: int = Field(default=512, description="Completion token limit per call.")
    seed: int | None = Field(default=None, description="Sampling seed, overridden by a call's own `seed`.")
    engine_args: dict[str, Any] = Field(
        default_factory=dict,
        description="vLLM engine arguments (AsyncEngineArgs fields); enable_prefix_caching defaults to true.",
    )

    _engine: SharedVLLMEngine | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "vllm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def engine(self) -> SharedVLLMEngine:
        """The shared engine, started on first use (the model loads once per process)."""
        if self._engine is None:
            if not vllm_available():
                raise BackendUnavailable(
                    f"vllm:{self.model} needs vLLM and a GPU: pip install -e '.[gpu]' on a CUDA machine"
                )
            self._engine = shared_vllm_engine(self.model, self.engine_args)
        return self._engine

    def sampling_params(self, kwargs: dict[str, Any], stop: list[str] | None) -> Any:
        """vLLM SamplingParams for one call: its temperature, limit, seed and structured output."""
        from vllm import SamplingParams

        params: dict[str, Any] = {
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "stop": stop,
        }
        seed = kwargs.get("seed", self.seed)  # per call (an episode's own seed) over the model's
        if seed is not None:
            params["seed"] = int(seed)
        schema = json_schema_of(kwargs.get("response_format"))
        if schema is not None:
            params.update(structured_output_kwargs(schema))
        try:  # only the finished output, not one per token (the async engine streams by default)
            from vllm.sampling_params import RequestOutputKind

            params["output_kind"] = RequestOutputKind.FINAL_ONLY
        except ImportError:
            pass
        return SamplingParams(**params)

    def _prepare(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """A forced tool becomes a JSON schema (as in HumanChatModel); returns the call's options and the tool."""
        tool = None if self.native_tools else _forced_tool(kwargs)
        if tool is None:
            return kwargs, None
        name, parameters = tool
        kwargs = {k: v for k, v in kwargs.items() if k not in ("tools", "tool_choice", "parallel_tool_calls")}
        kwargs["response_format"] = json_schema_format(name, parameters)
        return kwargs, name

    def _result(self, output: Any, tool: str | None) -> ChatResult:
        message = self._message(output)
        if tool is not None:
            message = _as_tool_call(message, tool)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _message(self, output: Any) -> AIMessage:
        completion = output.outputs[0]
        prompt_tokens = len(output.prompt_token_ids or [])
        completion_tokens = len(completion.token_ids or [])
        usage: dict[str, Any] = {
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        cached = getattr(output, "num_cached_tokens", None)
        if isinstance(cached, int):  # tokens served from the prefix cache (vLLM v1)
            usage["input_token_details"] = {"cache_read": cached}
        return AIMessage(
            content=completion.text,
            usage_metadata=usage,
            response_metadata={"finish_reason": getattr(completion, "finish_reason", None), "model_name": self.model},
        )

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        output = self.engine().generate(to_chat_dicts(messages), self.sampling_params(kwargs, stop))
        return self._message(output)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        kwargs, tool = self._prepare(kwargs)
        output = self.engine().generate(to_chat_dicts(messages), self.sampling_params(kwargs, stop))
        return self._result(output, tool)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        kwargs, tool = self._prepare(kwargs)
        params = self.sampling_params(kwargs, stop)
        # the first call loads the model: in a thread, so the caller's event loop keeps running
        engine = self._engine if self._engine is not None else await asyncio.to_thread(self.engine)
        output = await engine.agenerate(to_chat_dicts(messages), params)
        return self._result(output, tool)
