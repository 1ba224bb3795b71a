"""Calls, tokens, errors and latency of one endpoint, across every role model that talks to it."""

from __future__ import annotations

import random
import threading

from pydantic import BaseModel, Field

_RESERVOIR = 4096
"""Latencies kept for the percentiles: a uniform sample of this many, so memory stays flat on long runs."""


class EndpointUsage(BaseModel):
    """What one endpoint served in a run (a manifest entry; the URL it is filed under is redacted)."""

    calls: int = Field(default=0, description="Model calls sent to it, failed ones included.")
    errors: int = Field(default=0, description="Calls that failed (after the client's own retries).")
    prompt_tokens: int = Field(default=0, description="Prompt tokens it reported.")
    completion_tokens: int = Field(default=0, description="Completion tokens it reported.")
    latency_mean_s: float | None = Field(default=None, description="Mean seconds per call; None before any call.")
    latency_p50_s: float | None = Field(default=None, description="Median seconds per call (from a sample).")
    latency_p95_s: float | None = Field(default=None, description="95th percentile seconds per call (from a sample).")


def _quantile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, by linear interpolation."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class CallStats:
    """Thread-safe running figures of one endpoint; `RoleModel.stats` records into it."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._calls = self._errors = self._prompt = self._completion = 0
        self._consecutive_errors = 0
        self._latency_sum = 0.0
        self._sample: list[float] = []

    def call(self, seconds: float, *, ok: bool) -> None:
        """One call ended, after `seconds`, answered (`ok`) or failed."""
        with self._lock:
            self._calls += 1
            self._latency_sum += seconds
            if ok:
                self._consecutive_errors = 0
            else:
                self._errors += 1
                self._consecutive_errors += 1
            if len(self._sample) < _RESERVOIR:
                self._sample.append(seconds)
            else:  # reservoir sampling: every call equally likely to be kept
                slot = self._rng.randrange(self._calls)
                if slot < _RESERVOIR:
                    self._sample[slot] = seconds

    def tokens(self, prompt: int, completion: int) -> None:
        with self._lock:
            self._prompt += prompt
            self._completion += completion

    @property
    def consecutive_errors(self) -> int:
        """Calls failed in a row, up to now (0 after any answered call)."""
        with self._lock:
            return self._consecutive_errors

    def usage(self) -> EndpointUsage:
        with self._lock:
            ordered = sorted(self._sample)
            calls, latency = self._calls, self._latency_sum
            figures = EndpointUsage(
                calls=calls,
                errors=self._errors,
                prompt_tokens=self._prompt,
                completion_tokens=self._completion,
            )
        if ordered:
            figures.latency_mean_s = round(latency / calls, 4)
            figures.latency_p50_s = round(_quantile(ordered, 0.5), 4)
            figures.latency_p95_s = round(_quantile(ordered, 0.95), 4)
        return figures
