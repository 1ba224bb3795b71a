"""The public test kit: the `fake` backend slot, the schema-driven fake and the role router."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Literal

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from humanllm.errors import BackendUnavailable
from humanllm.llm import ModelSettings, build_chat_model, register_fake_backend, response_format_for
from humanllm.testing import (
    ReplyRouter,
    SchemaChatModel,
    ScriptedChatModel,
    fake_instance,
    register_fakes,
    role_reply,
    role_router,
)


class Reading(BaseModel):
    label: str = Field(min_length=3, max_length=12)
    level: int = Field(ge=100, le=200)
    share: float = Field(gt=0.5, lt=0.6)
    tags: list[str] = Field(min_length=2, max_length=4)
    kind: Literal["a", "b"]


def test_fake_instance_is_valid_and_fixed_by_the_seed() -> None:
    first = fake_instance(Reading, seed=1)
    assert isinstance(first, Reading)
    assert fake_instance(Reading, seed=1) == first
    assert len({fake_instance(Reading, seed=s).model_dump_json() for s in range(5)}) > 1


def test_schema_fake_gives_the_same_reply_to_the_same_request_in_any_order() -> None:
    kwargs = {"response_format": response_format_for(Reading)}
    one, two = SchemaChatModel(seed=4), SchemaChatModel(seed=4)
    asks = [[HumanMessage(content=f"ask {i}")] for i in range(3)]
    forward = [one.invoke(m, **kwargs).text for m in asks]
    backward = [two.invoke(m, **kwargs).text for m in reversed(asks)][::-1]
    assert forward == backward
    assert all(Reading.model_validate_json(text) for text in forward)


def test_the_fake_spec_needs_a_registration_and_importing_llm_makes_none() -> None:
    previous = register_fake_backend(None)
    try:
        with pytest.raises(BackendUnavailable, match=r"register_fakes\(\)"):
            build_chat_model("fake")
    finally:
        register_fake_backend(previous)
    code = (
        "import humanllm.llm as l, humanllm.testing; from humanllm.llm._fakes import fake_registered as f; print(f())"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_register_fakes_builds_role_aware_and_schema_fakes() -> None:
    register_fakes()
    role = build_chat_model("fake")
    assert isinstance(role, ScriptedChatModel) and role.function is role_reply and not role.record_calls
    schema = build_chat_model("fake:schema", ModelSettings(seed=7))
    assert isinstance(schema, SchemaChatModel) and schema.seed == 7


def test_a_router_takes_extra_routes_without_changing_the_shared_one() -> None:
    kwargs = {"response_format": response_format_for(Reading)}
    router = role_router().with_route("Reading", lambda _m, _k: '{"mine": true}')
    assert isinstance(router, ReplyRouter) and json.loads(router([], kwargs)) == {"mine": True}
    assert Reading.model_validate_json(role_reply([], kwargs))  # the shared router: a schema example
    assert router([], {}) == "All right."
