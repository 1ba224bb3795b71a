"""In-process vLLM for GPU batch work. vllm is imported only when this backend is used."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field, PrivateAttr

from humanllm.errors import BackendUnavailable
from humanllm.llm._base import HumanChatModel
from humanllm.llm._messages import json_schema_of, to_chat_dicts


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


class VLLMChatModel(HumanChatModel):
    """One `vllm.LLM` engine per model; JSON schemas become vLLM structured-output constraints.

    For many concurrent episodes, a vLLM *server* (`openai:<model> --base-url`) batches across
    requests; this in-process engine suits single-process batch jobs.
    """

    model: str
    temperature: float = 0.8
    max_tokens: int = 512
    seed: int | None = None
    engine_args: dict[str, Any] = Field(default_factory=dict)

    _engine: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "vllm"

    def engine(self) -> Any:
        if self._engine is None:
            if not vllm_available():
                raise BackendUnavailable(
                    f"vllm:{self.model} needs vLLM and a GPU: pip install -e '.[gpu]' on a CUDA machine"
                )
            from vllm import LLM

            self._engine = LLM(model=self.model, seed=self.seed or 0, **self.engine_args)
        return self._engine

    def _sampling_params(self, kwargs: dict[str, Any], stop: list[str] | None) -> Any:
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
        if schema:
            try:
                from vllm.sampling_params import StructuredOutputsParams

                params["structured_outputs"] = StructuredOutputsParams(json=schema)
            except ImportError:  # older vLLM
                from vllm.sampling_params import GuidedDecodingParams

                params["guided_decoding"] = GuidedDecodingParams(json=schema)
        return SamplingParams(**params)

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        with self._lock:
            engine = self.engine()
            outputs = engine.chat([to_chat_dicts(messages)], self._sampling_params(kwargs, stop), use_tqdm=False)
        result = outputs[0]
        completion = result.outputs[0]
        prompt_tokens = len(result.prompt_token_ids or [])
        completion_tokens = len(completion.token_ids or [])
        message = AIMessage(
            content=completion.text,
            usage_metadata={
                "input_tokens": prompt_tokens,
                "output_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        )
        return message
