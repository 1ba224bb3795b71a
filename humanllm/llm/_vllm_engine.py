"""One vLLM async engine per (model, engine arguments), shared by every role and chat model in the process.

vLLM's async engine (`AsyncLLM` from 0.11 on; `AsyncLLMEngine` before) batches every request in
flight, so concurrent episodes share each forward pass; its output handler is an asyncio task tied
to the loop it started on. Each engine therefore lives on its own event loop in a daemon thread,
and every call, from any thread or event loop, is handed to that loop: `agenerate` awaits it
without blocking its caller's loop, `generate` waits for it from synchronous code. There is no
lock around prompts; vLLM's scheduler decides what runs together.

vllm is imported only when an engine is first asked for.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import importlib.util
import inspect
import json
import logging
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

from humanllm.errors import BackendUnavailable

logger = logging.getLogger(__name__)

SUPPORTED_VLLM = "vLLM 0.11 or newer (vllm.v1.engine.async_llm.AsyncLLM) or an older one with vllm.AsyncLLMEngine"
DEFAULT_ENGINE_ARGS: dict[str, Any] = {"enable_prefix_caching": True}
"""Every episode grows one shared prefix turn by turn: vLLM's prefix cache reuses it across calls."""

PREFIX_QUERIES = "vllm:prefix_cache_queries"
PREFIX_HITS = "vllm:prefix_cache_hits"


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


def async_engine_class() -> tuple[Any, str]:
    """The installed vLLM's async engine class and its dotted name; a one-line error naming the versions supported."""
    if not vllm_available():
        raise BackendUnavailable("vllm: needs vLLM and a GPU: pip install -e '.[gpu]' on a CUDA machine")
    try:
        from vllm.v1.engine.async_llm import AsyncLLM

        return AsyncLLM, "vllm.v1.engine.async_llm.AsyncLLM"
    except ImportError:
        pass
    try:
        from vllm import AsyncLLMEngine

        return AsyncLLMEngine, "vllm.AsyncLLMEngine"
    except ImportError:
        version = _vllm_version()
        raise BackendUnavailable(
            f"the installed vLLM ({version}) has no async engine this backend knows; install {SUPPORTED_VLLM}"
        ) from None


def _vllm_version() -> str:
    try:
        from importlib.metadata import version

        return version("vllm")
    except Exception:
        return "unknown version"


class SharedVLLMEngine:
    """A vLLM async engine on its own event loop thread; `generate`/`agenerate` take chat messages."""

    def __init__(self, model: str, engine_args: dict[str, Any]) -> None:
        self.model = model
        self.engine_args = dict(engine_args)
        self.engine_class = ""
        self.engine: Any = None
        self.tokenizer: Any = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=f"vllm-engine:{model}", daemon=True)
        self._closed = False

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        """Load the model (minutes for a large one) on the engine's own loop; errors come back here."""
        self._thread.start()
        try:
            self._submit(self._load()).result()
        except BaseException:
            self.close()
            raise

    async def _load(self) -> None:
        cls, self.engine_class = async_engine_class()
        from vllm import AsyncEngineArgs

        logger.info("starting %s for %s with %s", self.engine_class, self.model, self.engine_args)
        self.engine = cls.from_engine_args(AsyncEngineArgs(model=self.model, **self.engine_args))
        tokenizer = self.engine.get_tokenizer()  # a coroutine in some versions, a plain call in others
        self.tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer

    def _submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        if self._closed:
            coroutine.close()
            raise RuntimeError(f"the vLLM engine for {self.model} is shut down")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def generate(self, messages: list[dict[str, str]], sampling_params: Any) -> Any:
        """The finished RequestOutput for one chat, from synchronous code (any thread but the engine's)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("the synchronous vLLM call cannot run on the engine's own loop: use agenerate")
        return self._submit(self._run(messages, sampling_params)).result()

    async def agenerate(self, messages: list[dict[str, str]], sampling_params: Any) -> Any:
        """The finished RequestOutput for one chat, awaited from any event loop; cancelling aborts the request."""
        return await asyncio.wrap_future(self._submit(self._run(messages, sampling_params)))

    async def _run(self, messages: list[dict[str, str]], sampling_params: Any) -> Any:
        # rendered on the engine's thread: one tokenizer, never used from two threads at once
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt = {"prompt_token_ids": list(self.tokenizer.encode(text, add_special_tokens=False))}
        final = None
        async for output in self.engine.generate(prompt, sampling_params, f"humanllm-{uuid.uuid4().hex}"):
            final = output
        if final is None:
            raise RuntimeError(f"vLLM returned no output for a request to {self.model}")
        return final

    def close(self) -> None:
        """Shut the engine down (its worker processes with it) and stop its loop."""
        if self._closed:
            return
        self._closed = True
        if self.engine is not None and hasattr(self.engine, "shutdown"):
            try:
                if self._thread.is_alive():
                    asyncio.run_coroutine_threadsafe(_call(self.engine.shutdown), self.loop).result(timeout=60)
                else:
                    self.engine.shutdown()
            except Exception as exc:  # at exit: report, do not raise
                logger.warning("shutting down the vLLM engine for %s: %s", self.model, exc)
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)


async def _call(function: Any) -> None:
    result = function()
    if inspect.isawaitable(result):
        await result


_ENGINES: dict[tuple[str, str], SharedVLLMEngine] = {}
_REGISTRY = threading.Lock()


def engine_key(model: str, engine_args: dict[str, Any]) -> tuple[str, str]:
    return model, json.dumps(engine_args, sort_keys=True, default=repr)


def shared_vllm_engine(model: str, engine_args: dict[str, Any] | None = None) -> SharedVLLMEngine:
    """The one engine for (model, engine args) in this process, started on first use.

    `enable_prefix_caching` defaults to on. Held under a lock while loading, so roles asking at
    once get the same engine, not two copies of the model on the GPU.
    """
    args = {**DEFAULT_ENGINE_ARGS, **(engine_args or {})}
    key = engine_key(model, args)
    with _REGISTRY:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = SharedVLLMEngine(model, args)
            engine.start()
            _register_exit_hook()
            _ENGINES[key] = engine
        return engine


@functools.cache
def _register_exit_hook() -> None:
    atexit.register(shutdown_vllm_engines)


def shutdown_vllm_engines() -> None:
    """Shut down every engine this process started (also run at exit)."""
    with _REGISTRY:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.close()


def vllm_engine_count() -> int:
    with _REGISTRY:
        return len(_ENGINES)


def vllm_prefix_cache_stats() -> dict[str, float] | None:
    """Prefix-cache queries, hits (both in tokens) and hit rate from this process's vLLM metrics; None if unreadable.

    vLLM's stat loggers record `vllm:prefix_cache_queries` and `vllm:prefix_cache_hits` counters
    (one series per engine) in the in-process Prometheus registry, read by `get_metrics_snapshot`.
    """
    try:
        from vllm.v1.metrics.reader import get_metrics_snapshot
    except ImportError:
        return None
    totals = {PREFIX_QUERIES: 0.0, PREFIX_HITS: 0.0}
    for metric in get_metrics_snapshot():
        if metric.name in totals and hasattr(metric, "value"):
            totals[metric.name] += float(metric.value)
    queries, hits = totals[PREFIX_QUERIES], totals[PREFIX_HITS]
    return {"queries": queries, "hits": hits, "hit_rate": hits / queries if queries else 0.0}
