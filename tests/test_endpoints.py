"""Real endpoints: the structured-output chain on every kind of server, errors by kind, the breaker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from humanllm.agents.director import TurnRules
from humanllm.errors import EndpointError, PermanentEndpointError
from humanllm.llm import (
    ModelSettings,
    RoleModel,
    StructuredEndpoint,
    build_role_model,
    endpoint_methods,
    parse_spec,
    redact,
    redact_url,
)
from humanllm.llm._endpoint import rejects_method
from humanllm.llm._messages import json_schema_of
from humanllm.llm._schemas import response_format_for
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig
from humanllm.simulation._jobs import plan_jobs, sample_jobs
from humanllm.simulation._runner import RunOptions, run_batch
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import MockOpenAIServer, ScriptedChatModel


class Mood(BaseModel):
    mood: str = Field(max_length=20)
    intensity: int = Field(ge=1, le=5)


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _mood_reply(_messages: object, kwargs: dict) -> str:
    schema = json_schema_of(kwargs.get("response_format")) or {}
    return json.dumps({"mood": "calm", "intensity": 2}) if schema.get("title") == "Mood" else "plain"


@pytest.mark.parametrize("kind", ["json_schema", "json_object", "function_calling", "prompt"])
def test_every_kind_of_server_gives_structured_output(kind: str) -> None:
    with MockOpenAIServer(structured=kind, reply=_mood_reply) as server:  # type: ignore[arg-type]
        model = build_role_model("judge", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=0))
        assert model.structured([HumanMessage(content="how are you?")], Mood) == Mood(mood="calm", intensity=2)
        assert model.structured_method == kind
        # the endpoint remembers: a second call is not rejected again
        rejected = server.counts[f"rejected {kind}"]
        assert model.structured([HumanMessage(content="again?")], Mood).mood == "calm"
        assert server.counts[f"rejected {kind}"] == rejected
        # one probe per endpoint: another role on the same endpoint starts where the first ended
        other = build_role_model("writer", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=0))
        assert other.structured_method == kind
        assert any(method == kind for name, method in endpoint_methods().items() if server.base_url in name)


def test_text_calls_with_a_response_format_follow_the_endpoint_too() -> None:
    """The judge asks with `atext(..., response_format=...)`: it too gets JSON back on a tools-only server."""
    with MockOpenAIServer(structured="function_calling", reply=_mood_reply) as server:
        model = build_role_model("judge", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=0))
        text = asyncio.run(model.atext([HumanMessage(content="?")], response_format=response_format_for(Mood)))
        assert json.loads(text) == {"mood": "calm", "intensity": 2}


def test_llama_cpp_rejection_is_recognised() -> None:
    body = "Input should be 'text' or 'json_object' at body.response_format.type"
    assert rejects_method("json_schema", 422, body)
    assert rejects_method("json_schema", 500, "1 validation error: " + body)  # what the real server sends
    assert not rejects_method("json_schema", 500, "internal error")
    assert not rejects_method("json_schema", 401, body)
    assert not rejects_method("json_schema", 422, "model not found")
    assert rejects_method("function_calling", 400, "tools are not supported")
    assert not rejects_method("prompt", 400, "anything")


@pytest.mark.parametrize("method", ["json_schema", "json_object", "function_calling", "prompt"])
def test_each_way_of_asking_carries_the_schema(method: str) -> None:
    """What our backends are sent each way: the same request fields as before `with_structured_output`."""

    def reply(_messages: object, kwargs: dict) -> str | AIMessage:
        if kwargs.get("tools"):  # a scripted model answers a tool call itself
            return AIMessage(
                content="", tool_calls=[{"name": "Mood", "args": {"mood": "calm", "intensity": 2}, "id": "c"}]
            )
        return json.dumps({"mood": "calm", "intensity": 2})

    chat = ScriptedChatModel(function=reply)
    model = RoleModel(role="judge", spec=parse_spec("fake"), chat=chat, endpoint=StructuredEndpoint("x", method))  # type: ignore[arg-type]
    model.seed = 7
    assert model.structured([HumanMessage(content="?")], Mood) == Mood(mood="calm", intensity=2)
    sent, asked = chat.call_kwargs[0], chat.calls[0]
    assert sent["seed"] == 7  # call options reach the model through the structured runnable
    if method == "json_schema":
        assert sent["response_format"] == response_format_for(Mood)
    elif method == "json_object":
        assert sent["response_format"] == {"type": "json_object", "schema": Mood.model_json_schema()}
    elif method == "function_calling":
        assert sent["tools"][0]["function"]["parameters"] == Mood.model_json_schema()
        assert sent["tool_choice"] == {"type": "function", "function": {"name": "Mood"}}
    else:
        assert set(sent) == {"seed"}
        assert '"intensity"' in asked[-1].text and asked[-1].text.startswith("?")


def test_the_openai_backend_sends_formats_as_raw_fields_and_keeps_chatopenais_cache_key() -> None:
    from langchain_openai import ChatOpenAI

    from humanllm.llm._openai import OpenAICompatibleChat

    fields = {"model": "m", "base_url": "http://127.0.0.1:1/v1", "api_key": "k", "seed": 1}
    ours, theirs = OpenAICompatibleChat(**fields), ChatOpenAI(**fields)  # type: ignore[arg-type]
    assert ours._get_llm_string(seed=2) == theirs._get_llm_string(seed=2)

    def bound(method: str) -> dict:
        structured = ours.with_structured_output(response_format_for(Mood), method=method, include_raw=True)  # type: ignore[arg-type]
        return structured.kwargs  # type: ignore[attr-defined]  # one binding: the model with its parser

    assert bound("json_schema") == {"extra_body": {"response_format": response_format_for(Mood)}}
    grammar = bound("json_mode")["extra_body"]["response_format"]
    assert grammar == {"type": "json_object", "schema": Mood.model_json_schema()}  # llama.cpp's form
    tools = bound("function_calling")
    assert tools["tools"][0]["function"]["parameters"] == Mood.model_json_schema()
    assert tools["tool_choice"] == {"type": "function", "function": {"name": "Mood"}}


def test_scripted_tool_calls_are_read_as_the_json_reply() -> None:
    tool_reply = AIMessage(
        content="", tool_calls=[{"name": "Mood", "args": {"mood": "calm", "intensity": 3}, "id": "c"}]
    )
    chat = ScriptedChatModel(replies=[tool_reply])
    model = RoleModel(
        role="judge", spec=parse_spec("fake"), chat=chat, endpoint=StructuredEndpoint("x", "function_calling")
    )
    assert model.structured([HumanMessage(content="?")], Mood).intensity == 3
    assert "tools" in chat.call_kwargs[0]


@pytest.mark.parametrize(
    ("status", "hint"), [(401, "API key"), (403, "permissions"), (404, "model name"), (400, "400")]
)
def test_permanent_errors_fail_at_once_with_what_to_fix(status: int, hint: str) -> None:
    with MockOpenAIServer(status=status) as server:
        model = build_role_model("writer", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=3))
        with pytest.raises(PermanentEndpointError) as info:
            model.text([HumanMessage(content="hi")])
        assert server.counts["requests"] == 1  # no retries
        message = str(info.value)
        assert str(status) in message and hint in message and "127.0.0.1" in message


def test_transient_errors_are_retried_and_the_count_is_right() -> None:
    with MockOpenAIServer(status=503) as server:
        model = build_role_model("writer", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=2))
        with pytest.raises(EndpointError) as info:
            model.text([HumanMessage(content="hi")])
        assert not isinstance(info.value, PermanentEndpointError)
        assert server.counts["requests"] == 3
        assert "gave up after 3 tries" in str(info.value)


def test_a_timeout_is_called_a_timeout() -> None:
    with MockOpenAIServer(fault_rate=1.0, faults=("timeout",), timeout_sleep_s=1.0) as server:
        model = build_role_model(
            "writer", "openai:mock", ModelSettings(base_url=server.base_url, max_retries=0, timeout_s=0.2)
        )
        with pytest.raises(EndpointError) as info:
            model.text([HumanMessage(content="hi")])
        assert "did not answer in time" in str(info.value) and "--timeout" in str(info.value)


def _planned(graph: InteractionGraph, base_url: str, n: int) -> tuple[SimulationConfig, list]:
    config = SimulationConfig(
        models=RoleSpecs(writer="openai:mock", character="openai:mock"),
        rules=TurnRules(min_turns=2, max_turns=2),
        settings=ModelSettings(base_url=base_url, max_retries=0),
    )
    return config, plan_jobs(config, sample_jobs(graph, n, ["duty", "sociality"], 0), graph)


def test_a_401_stops_the_batch_at_once_and_marks_nothing_failed(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(status=401) as server:
        config, planned = _planned(graph, server.base_url, 8)
        store = EpisodeStore(tmp_path / "store", shard="000of001")
        models = RoleModels.build(config)
        with pytest.raises(PermanentEndpointError, match="401"):
            asyncio.run(run_batch(store, planned, graph, models, RunOptions(concurrency=2, backoff_s=0)))
        assert server.counts["requests"] <= 2  # one per episode in flight, then nothing
        assert not list((tmp_path / "store").glob("attempts-*.jsonl")) or not (
            (tmp_path / "store" / "attempts-000of001.jsonl").read_text().strip()
        )


def test_the_circuit_breaker_stops_starting_episodes(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(status=500) as server:
        config, planned = _planned(graph, server.base_url, 10)
        store = EpisodeStore(tmp_path / "store", shard="000of001")
        options = RunOptions(concurrency=1, episode_retries=0, backoff_s=0, max_consecutive_failures=3)
        report = asyncio.run(run_batch(store, planned, graph, RoleModels.build(config), options))
    assert report.failed == 3 and report.done == 0
    assert report.stopped_reason is not None and "3 endpoint failures in a row" in report.stopped_reason
    assert not report.stopped_by_budget


def test_redaction_removes_userinfo_query_keys_and_key_shapes() -> None:
    url = "http://user:sk-SECRETKEY123456@127.0.0.1:8000/v1?api_key=abc&x=1"
    clean = redact_url(url)
    assert "SECRETKEY" not in clean and "abc" not in clean and "127.0.0.1:8000/v1" in clean and "x=1" in clean
    assert "sk-proj-ABCDEFGH12345678" not in redact("failed with key sk-proj-ABCDEFGH12345678 at " + url)


def test_error_messages_never_carry_the_key_in_the_url() -> None:
    with MockOpenAIServer(status=401) as server:
        leaky = server.base_url.replace("http://", "http://user:sk-PLANTED0123456789@")
        model = build_role_model("writer", "openai:mock", ModelSettings(base_url=leaky, max_retries=0))
        with pytest.raises(PermanentEndpointError) as info:
            model.text([HumanMessage(content="hi")])
        assert "PLANTED" not in str(info.value)
        assert all("PLANTED" not in name for name in endpoint_methods())


def test_the_budget_counts_failed_attempts_and_failures_name_their_cause(
    graph: InteractionGraph, tmp_path: Path
) -> None:
    with MockOpenAIServer(fault_rate=1.0, faults=("truncated",)) as server:
        config, planned = _planned(graph, server.base_url, 6)
        store = EpisodeStore(tmp_path / "store", shard="000of001")
        options = RunOptions(concurrency=1, episode_retries=3, backoff_s=0, budget_tokens=50)
        report = asyncio.run(run_batch(store, planned, graph, RoleModels.build(config), options))
        requests = server.counts["requests"]
    assert report.done == 0 and report.stopped_by_budget
    assert report.usage.total_tokens >= 50 and report.usage == report.usage_failed
    assert requests <= 3  # one failed attempt (a reply and its repairs) spends the budget
    assert {failure.cause for failure in store.failures()} == {"invalid output"}
