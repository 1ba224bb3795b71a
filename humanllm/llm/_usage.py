"""Token accounting per model role."""

from __future__ import annotations

import threading

from langchain_core.messages import AIMessage

from humanllm.core import TokenUsage


class UsageMeter:
    """Thread-safe running totals of calls and tokens for one role."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = TokenUsage()

    def record(self, message: AIMessage) -> None:
        meta = message.usage_metadata
        step = TokenUsage(
            calls=1,
            prompt_tokens=meta["input_tokens"] if meta else 0,
            completion_tokens=meta["output_tokens"] if meta else 0,
        )
        with self._lock:
            self._usage = self._usage.add(step)

    @property
    def usage(self) -> TokenUsage:
        with self._lock:
            return self._usage.model_copy()
