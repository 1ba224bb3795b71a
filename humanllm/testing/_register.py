"""Plug the fakes into the model layer's `fake` backend slot (`humanllm.llm.register_fake_backend`)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from humanllm.llm import FakeBuilder, ModelSettings, register_fake_backend
from humanllm.testing._models import SchemaChatModel, ScriptedChatModel
from humanllm.testing._roles import TextReply, role_reply


def fake_builder(reply: TextReply = role_reply) -> FakeBuilder:
    """The builder of `fake` specs: `fake:schema` a `SchemaChatModel`, any other `fake` the scripted `reply`."""

    def build(variant: str, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
        if variant == "schema":
            return SchemaChatModel(seed=settings.seed or 0, **common)
        return ScriptedChatModel(function=reply, record_calls=False, **common)  # a long run keeps no prompts

    return build


def register_fakes(reply: TextReply = role_reply) -> None:
    """Make `fake` specs build here: `fake:schema` a `SchemaChatModel`, any other `fake` the scripted `reply`.

    `reply` defaults to the role router (`role_reply`); pass `role_router().with_route(...)` to add
    your own schemas. Calling it again replaces the earlier registration.
    """
    register_fake_backend(fake_builder(reply))
