"""Which failures are worth retrying, and the backoff between tries."""

from __future__ import annotations

import random

_TRANSIENT_NAMES = frozenset(
    {"RateLimitError", "APITimeoutError", "APIConnectionError", "InternalServerError", "TimeoutError"}
)
_TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def error_kinds(exc: BaseException) -> set[str]:
    """The class names in the error's hierarchy (providers wrap each other's errors)."""
    return {cls.__name__ for cls in type(exc).__mro__}


def is_transient(exc: BaseException) -> bool:
    """429, 5xx, timeouts and dropped connections: worth another try."""
    if error_kinds(exc) & _TRANSIENT_NAMES or isinstance(exc, TimeoutError | ConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status in _TRANSIENT_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's Retry-After hint, when the error carries an HTTP response."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def backoff_seconds(attempt: int, rng: random.Random, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0, min(cap, base * 2**attempt))
