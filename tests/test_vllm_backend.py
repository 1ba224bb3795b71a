"""The in-process vLLM backend against a fake `vllm` package (tests/_fake_vllm.py): no GPU, no vLLM here.

One engine is shared by every role naming the same model and engine arguments; calls are not
serialised (concurrent `ainvoke`s and a threaded `batch` are in flight together); structured output
uses the installed version's parameters; usage, seeds and prefix-cache figures come through.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from humanllm.errors import BackendUnavailable, ConfigError
from humanllm.llm import (
    VLLM_ARGS_ENV,
    VLLMChatModel,
    build_chat_model,
    build_role_model,
    shutdown_vllm_engines,
    vllm_prefix_cache_stats,
)
from humanllm.llm._vllm import structured_output_kwargs
from humanllm.llm._vllm_engine import vllm_engine_count
from tests._fake_vllm import FakeVLLM, Request, install_fake_vllm

ROOT = Path(__file__).resolve().parents[1]


class Mood(BaseModel):
    mood: str = Field(max_length=20)
    intensity: int = Field(ge=1, le=5)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVLLM]:
    state = install_fake_vllm(monkeypatch)
    yield state
    shutdown_vllm_engines()


@pytest.fixture
def old_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVLLM]:
    state = install_fake_vllm(monkeypatch, old=True)
    yield state
    shutdown_vllm_engines()


def test_every_role_naming_the_model_shares_one_engine(fake: FakeVLLM) -> None:
    roles = [build_role_model(role, "vllm:org/model") for role in ("writer", "character", "judge")]
    for role in roles:
        assert role.text([HumanMessage(content=f"hello {role.role}")]) == "hello there"
    assert len(fake.engines) == 1 and vllm_engine_count() == 1
    engines = {id(role.chat.engine()) for role in roles}  # type: ignore[attr-defined]
    assert len(engines) == 1
    args = fake.engines[0].engine_args
    assert args.model == "org/model" and args.kwargs == {"enable_prefix_caching": True}
    assert len({r.request_id for r in fake.requests}) == 3  # one unique request id per call


def test_engine_args_come_from_the_environment_and_key_the_engine(
    fake: FakeVLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_chat_model("vllm:m").invoke("a")
    monkeypatch.setenv(VLLM_ARGS_ENV, json.dumps({"gpu_memory_utilization": 0.5, "enable_prefix_caching": False}))
    other = build_chat_model("vllm:m")
    other.invoke("b")
    build_chat_model("vllm:m").invoke("c")  # same arguments: the second engine again
    assert len(fake.engines) == 2
    assert fake.engines[1].engine_args.kwargs == {"gpu_memory_utilization": 0.5, "enable_prefix_caching": False}


@pytest.mark.parametrize("value", ["{not json", "[1, 2]"])
def test_bad_engine_args_are_one_clear_error(monkeypatch: pytest.MonkeyPatch, fake: FakeVLLM, value: str) -> None:
    monkeypatch.setenv(VLLM_ARGS_ENV, value)
    with pytest.raises(ConfigError, match=VLLM_ARGS_ENV):
        build_chat_model("vllm:m")


def test_concurrent_ainvokes_are_in_flight_together(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m")
    n = 8
    fake.gate = n  # a serialising backend would leave each call waiting alone

    async def run() -> list[str]:
        replies = await asyncio.gather(*(chat.ainvoke(f"episode {i}") for i in range(n)))
        return [r.text for r in replies]

    assert asyncio.run(run()) == ["hello there"] * n
    assert fake.max_in_flight == n and len(fake.engines) == 1


def test_threaded_batch_calls_overlap_too(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m")
    fake.gate = 4
    replies = chat.batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert [r.text for r in replies] == ["hello there"] * 4
    assert fake.max_in_flight == 4


def test_calls_from_several_event_loops_use_the_engines_own_loop(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m")
    for _ in range(3):  # each asyncio.run is a new loop; the fake asserts one loop per engine
        assert asyncio.run(chat.ainvoke("hi")).text == "hello there"
    assert chat.invoke("sync after async").text == "hello there"


def test_structured_output_carries_the_schema(fake: FakeVLLM) -> None:
    fake.reply = lambda request: json.dumps({"mood": "calm", "intensity": 3})
    chat = VLLMChatModel(model="m")
    out = chat.with_structured_output(Mood).invoke("How do you feel?")
    assert out == Mood(mood="calm", intensity=3)
    params = fake.requests[-1].params
    assert params.structured_outputs.json == Mood.model_json_schema()
    assert params.output_kind.name == "FINAL_ONLY"  # one output per request, not one per token
    tool = chat.with_structured_output(Mood, method="function_calling").invoke("?")
    assert tool == Mood(mood="calm", intensity=3)
    assert fake.requests[-1].params.structured_outputs.json == Mood.model_json_schema()


def test_a_schemaless_json_request_asks_for_any_json_object(fake: FakeVLLM) -> None:
    constraint = structured_output_kwargs({})["structured_outputs"]
    assert constraint.json_object is True and constraint.json is None


def test_plain_text_has_no_constraint_and_the_chat_template_renders_the_prompt(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m", temperature=0.3, max_tokens=40)
    chat.invoke([SystemMessage(content="be brief"), HumanMessage(content="hi")], stop=["\n\n"])
    request = fake.requests[-1]
    assert request.prompt_text == "<system>be brief\n<user>hi\n<assistant>"  # no special tokens added again
    params = request.params.kwargs
    assert "structured_outputs" not in params and "guided_decoding" not in params
    assert (params["temperature"], params["max_tokens"], params["stop"]) == (0.3, 40, ["\n\n"])


def test_usage_metadata_counts_prompt_completion_and_cached_tokens(fake: FakeVLLM) -> None:
    fake.reply = lambda request: "abcde"
    chat = VLLMChatModel(model="m")
    first = chat.invoke([HumanMessage(content="a shared opening")])
    second = chat.invoke([HumanMessage(content="a shared opening"), HumanMessage(content="and more")])
    prompt = len("<user>a shared opening\n<assistant>")
    assert first.usage_metadata is not None and second.usage_metadata is not None
    assert (first.usage_metadata["input_tokens"], first.usage_metadata["output_tokens"]) == (prompt, 5)
    assert first.usage_metadata["total_tokens"] == prompt + 5
    assert first.usage_metadata["input_token_details"] == {"cache_read": 0}
    assert second.usage_metadata["input_token_details"]["cache_read"] == len("<user>a shared opening\n<")  # type: ignore[typeddict-item]
    assert first.response_metadata["finish_reason"] == "stop"


def test_seeds_per_call_over_the_models_own(fake: FakeVLLM) -> None:
    role = build_role_model("character", "vllm:m")
    role.text([HumanMessage(content="x")])
    assert "seed" not in fake.requests[-1].params.kwargs
    role.with_seed(7).text([HumanMessage(content="x")])
    assert fake.requests[-1].params.seed == 7
    VLLMChatModel(model="m", seed=3).invoke("x")
    assert fake.requests[-1].params.seed == 3


def test_prefix_cache_stats_read_the_engines_counters(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m")
    chat.invoke([HumanMessage(content="turn one")])
    chat.invoke([HumanMessage(content="turn one"), HumanMessage(content="turn two")])
    stats = vllm_prefix_cache_stats()
    assert stats is not None
    queries = sum(len(r.prompt_token_ids) for r in fake.requests)
    assert stats["queries"] == queries and stats["hits"] == fake.prefix_hits > 0
    assert stats["hit_rate"] == pytest.approx(fake.prefix_hits / queries)


def test_an_older_vllm_with_guided_decoding_works(old_fake: FakeVLLM) -> None:
    old_fake.reply = lambda request: json.dumps({"mood": "ok", "intensity": 1})
    chat = VLLMChatModel(model="m")
    assert asyncio.run(chat.with_structured_output(Mood).ainvoke("?")) == Mood(mood="ok", intensity=1)
    params = old_fake.requests[-1].params
    assert params.guided_decoding.json == Mood.model_json_schema()
    assert "structured_outputs" not in params.kwargs and "output_kind" not in params.kwargs
    assert chat.engine().engine_class == "vllm.AsyncLLMEngine"
    old_fake.reply = None
    assert chat.invoke("plain").text == "hello there"  # the streamed (cumulative) outputs end in the final one
    assert vllm_prefix_cache_stats() is None  # no metrics reader in that version


def test_an_installed_vllm_without_an_async_engine_names_the_versions(
    monkeypatch: pytest.MonkeyPatch, old_fake: FakeVLLM
) -> None:
    monkeypatch.delattr(sys.modules["vllm"], "AsyncLLMEngine")
    with pytest.raises(BackendUnavailable, match=r"vLLM 0\.11 or newer") as info:
        VLLMChatModel(model="m").invoke("?")
    assert "\n" not in str(info.value)
    assert vllm_engine_count() == 0  # a failed start is not kept


def test_without_vllm_the_error_names_the_gpu_extra() -> None:
    assert "vllm" not in sys.modules
    with pytest.raises(BackendUnavailable, match=r"\.\[gpu\]") as info:
        VLLMChatModel(model="m").invoke("?")
    assert "\n" not in str(info.value)
    with pytest.raises(BackendUnavailable, match=r"\.\[gpu\]"):
        build_chat_model("vllm:m")


def test_shutdown_stops_the_engines_and_a_later_call_starts_afresh(fake: FakeVLLM) -> None:
    chat = VLLMChatModel(model="m")
    chat.invoke("x")
    shutdown_vllm_engines()
    assert fake.shutdowns == 1 and fake.engines[0].shut and vllm_engine_count() == 0
    assert VLLMChatModel(model="m").invoke("y").text == "hello there"
    assert len(fake.engines) == 2


def test_requests_are_recorded_with_their_text(fake: FakeVLLM) -> None:
    seen: list[Request] = []

    def reply(request: Request) -> str:
        seen.append(request)
        return "ok"

    fake.reply = reply
    VLLMChatModel(model="m").invoke("ping")
    assert [r.prompt_text for r in seen] == ["<user>ping\n<assistant>"]


def _benchmark() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_generate", ROOT / "benchmarks" / "gpu_generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gpu_benchmark_runs_episodes_through_one_shared_engine(
    fake: FakeVLLM, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bench = _benchmark()
    monkeypatch.setattr(bench, "missing_requirements", lambda: None)
    monkeypatch.setattr("humanllm.training.bundled_hf_model", lambda: tmp_path / "model")
    for name, value in (("HUMANLLM_VLLM_ARGS", '{"dtype": "bfloat16"}'), ("VLLM_WORKER_MULTIPROC_METHOD", "spawn")):
        monkeypatch.setenv(name, value)  # the benchmark sets them unless set: restored after the test
    out = tmp_path / "figures.json"
    argv = ["gpu_generate.py", "--episodes", "3", "--concurrency", "3", "--turns", "2", "--json", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    assert bench.main() == 0
    figures = json.loads(out.read_text())
    (run,) = figures["runs"]
    assert (run["backend"], run["concurrency"], run["episodes"], run["failed"]) == ("in-process", 3, 3, 0)
    assert run["calls"] == 3 * (2 + 2) == len(fake.requests)  # draft + checklist + one call per turn
    assert run["episodes_per_hour"] > 0 and run["prompt_tokens_per_s"] > run["completion_tokens_per_s"] > 0
    assert run["prefix_cache"]["queries"] == sum(len(r.prompt_token_ids) for r in fake.requests)
    assert 0 < run["prefix_cache"]["hit_rate"] < 1
    assert len(fake.engines) == 1
    assert fake.engines[0].engine_args.kwargs == {"enable_prefix_caching": True, "dtype": "bfloat16"}
    assert figures["engine"]["class"] == "vllm.v1.engine.async_llm.AsyncLLM"


def test_the_gpu_benchmark_without_vllm_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_generate.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "vLLM" in done.stderr and "[gpu]" in done.stderr
