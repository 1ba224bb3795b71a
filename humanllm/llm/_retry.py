"""Which failures are worth retrying, and the backoff between tries."""

from __future__ import annotations

import contextlib
import json
import random

_TRANSIENT_NAMES = frozenset(
    {
        "RateLimitError",
        "APITimeoutError",
        "APIConnectionError",
        "InternalServerError",
        "TimeoutError",
        # a 200 whose body is not the JSON it should be (a proxy cut it, the server crashed mid-reply)
        "APIResponseValidationError",
        "JSONDecodeError",
        "RemoteProtocolError",
    }
)
_TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_PERMANENT_NAMES = frozenset(
    {"AuthenticationError", "PermissionDeniedError", "NotFoundError", "BadRequestError", "UnprocessableEntityError"}
)
_PERMANENT_STATUS = frozenset({400, 401, 403, 404, 405, 413, 415, 422})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an error carries, if any."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def error_text(exc: BaseException) -> str:
    """Everything an error says: its message and, for HTTP errors, the body the server sent."""
    parts = [str(exc)]
    body = getattr(exc, "body", None)
    if body is not None:
        parts.append(body if isinstance(body, str) else json.dumps(body, default=str))
    response = getattr(exc, "response", None)
    if body is None and response is not None:
        with contextlib.suppress(Exception):
            parts.append(str(response.text)[:2000])
    return " ".join(parts)


def is_permanent(exc: BaseException) -> bool:
    """401, 403, 404, 400, 422: asking again gives the same answer; the user has to fix something."""
    status = status_of(exc)
    if status is not None:
        return status in _PERMANENT_STATUS
    return bool(error_kinds(exc) & _PERMANENT_NAMES)


def error_kinds(exc: BaseException) -> set[str]:
    """The class names in the error's hierarchy (providers wrap each other's errors)."""
    return {cls.__name__ for cls in type(exc).__mro__}


def is_transient(exc: BaseException) -> bool:
    """429, 5xx, timeouts and dropped connections: worth another try."""
    if error_kinds(exc) & _TRANSIENT_NAMES or isinstance(exc, TimeoutError | ConnectionError):
        return True
    status = status_of(exc)
    return status is not None and status in _TRANSIENT_STATUS


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
