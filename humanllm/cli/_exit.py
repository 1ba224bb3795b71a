"""The exit codes of `humanllm`, one place for the code, the README and the tests."""

from __future__ import annotations

OK = 0
"""Success: everything asked for is done (or was done already)."""
ERROR = 1
"""An error, shown as one `error: ...` line (or a check that found problems, e.g. `graph check`)."""
USAGE = 2
"""A usage error: unknown command or option, missing argument, bad option value."""
PARTIAL = 3
"""A batch (`generate`, `eval score`, `eval run`) finished, but some of its units failed."""
NOTHING_DONE = 4
"""A batch where every requested unit failed: nothing new and nothing done before."""
INTERRUPTED = 130
"""Interrupted (Ctrl-C)."""


def batch_code(*, failed: int, finished: int) -> int:
    """The exit code of a batch: `failed` units failed (or were never run), `finished` are done (new or before)."""
    if failed <= 0:
        return OK
    return PARTIAL if finished > 0 else NOTHING_DONE


__all__ = ["ERROR", "INTERRUPTED", "NOTHING_DONE", "OK", "PARTIAL", "USAGE", "batch_code"]
