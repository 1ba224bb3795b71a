"""The `fake` backend's slot: the model layer names it, a higher layer fills it.

The offline fakes (`humanllm.testing`) know every role's reply schema, so they sit above the
agents, and this package may not import them. Instead whoever wants `fake[:<variant>]` specs to
build registers a builder here: the CLI does it when it assembles its app, tests do it in their
conftest, a user's script calls `humanllm.testing.register_fakes()`. Importing this package
registers nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from humanllm.errors import BackendUnavailable

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from humanllm.llm._settings import ModelSettings


class FakeBuilder(Protocol):
    """Builds the chat model for `fake[:<variant>]` (variant "" for plain `fake`)."""

    def __call__(self, variant: str, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel: ...


_lock = threading.Lock()
_builder: FakeBuilder | None = None


def register_fake_backend(builder: FakeBuilder | None) -> FakeBuilder | None:
    """Make `builder` the one that builds `fake` specs (None: unregister); returns the previous one."""
    global _builder
    with _lock:
        previous, _builder = _builder, builder
    return previous


def build_fake(variant: str, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
    """The registered fake for `fake[:<variant>]`, or a one-line error saying how to register one."""
    builder = _builder
    if builder is None:
        raise BackendUnavailable(
            "the fake backend is not registered in this process: call humanllm.testing.register_fakes() "
            "first (the humanllm CLI does it for you)"
        )
    return builder(variant, settings, common)


def fake_registered() -> bool:
    """Whether a builder for `fake` specs is registered."""
    return _builder is not None
