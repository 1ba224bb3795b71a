"""A model call that no callback handler watches is made outside the graph's callback tree.

Inside a LangGraph node every runnable inherits the graph's config through a context variable:
its callback manager (with LangGraph's metadata: node, step, path, checkpoint namespace) is copied,
merged and handed on at each layer of the call, binding and chat model both, and each layer fires
its start and end events through it. When that manager carries no handler (no tracer, no
`stream_mode="messages"` listener, no callbacks of the caller's) nothing receives any of it, and
the copying is waste (the manager's copies and handler lists: about 3% of a mock batch's py-spy
profile, `benchmarks/profile_layers.py`). Such a call runs with the inherited config cleared, as a
root run: LangChain still configures its own manager for it (environment tracing, debug and
verbose handlers, registered hooks apply as ever). A call with anyone listening keeps the
inherited config as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.runnables.config import var_child_runnable_config


def _watched(callbacks: object) -> bool:
    """Whether inherited callbacks would reach any handler (a manager with handlers, a non-empty list)."""
    if callbacks is None:
        return False
    if isinstance(callbacks, BaseCallbackManager):
        return bool(callbacks.handlers or callbacks.inheritable_handlers)
    return bool(callbacks)


@contextlib.contextmanager
def unobserved_call() -> Iterator[None]:
    """Clear the inherited runnable config for the call inside, when no handler would see it."""
    inherited = var_child_runnable_config.get()
    if inherited is None or _watched(inherited.get("callbacks")):
        yield
        return
    token = var_child_runnable_config.set(None)
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)
