"""The OpenAI backend's HTTP client: one per event loop (a second asyncio.run works), closed with its loop;
a plain call posts the request LangChain built."""

from __future__ import annotations

import asyncio
import gc
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from humanllm.core import run_bounded
from humanllm.llm import ModelSettings, build_role_model
from humanllm.llm._openai import request_parts
from humanllm.testing import MockOpenAIServer


def _settings(url: str) -> ModelSettings:
    return ModelSettings(base_url=url, timeout_s=5, max_retries=0)


def test_two_event_loops_over_one_base_url() -> None:
    """langchain-openai's process-wide client was bound to its first loop: 'Event loop is closed' from the second."""
    with MockOpenAIServer() as server:
        for _ in range(2):  # a new model per run, the same URL (what benchmarks/throughput.py did per level)
            role = build_role_model("character", "openai:mock", _settings(server.base_url))
            assert asyncio.run(role.atext([HumanMessage(content="hi")]))
        role = build_role_model("character", "openai:mock", _settings(server.base_url))
        for _ in range(2):  # one model, two loops
            assert asyncio.run(role.atext([HumanMessage(content="hi")]))
        assert len(server.requests) == 4


def test_the_loop_client_is_closed_when_its_loop_ends() -> None:
    with MockOpenAIServer() as server:
        role = build_role_model("character", "openai:mock", _settings(server.base_url))

        async def call() -> object:
            await role.atext([HumanMessage(content="hi")])
            client = role.chat.root_async_client  # type: ignore[attr-defined]
            assert not client.is_closed()
            return client

        client = asyncio.run(call())
        assert client.is_closed()  # asyncio.run closed it (shutdown_asyncgens), inside its loop

        async def twice() -> tuple[object, object]:
            await role.atext([HumanMessage(content="hi")])
            first = role.chat.root_async_client  # type: ignore[attr-defined]
            await role.atext([HumanMessage(content="hi")])
            return first, role.chat.root_async_client  # type: ignore[attr-defined]

        first, second = asyncio.run(twice())
        assert first is second and first is not client  # one client per loop, a new one for a new loop


def test_a_batch_keeps_the_existing_heap_out_of_the_collector() -> None:
    seen: list[int] = []

    async def work(_item: int) -> None:
        seen.append(gc.get_freeze_count())

    before = gc.get_freeze_count()
    asyncio.run(run_bounded(range(3), work, limit=2))
    assert min(seen) > before  # frozen while the batch ran ...
    assert gc.get_freeze_count() == before  # ... and handed back after it


def test_overlapping_batches_unfreeze_only_when_the_last_ends() -> None:
    """Two batches side by side: the first to end leaves the heap frozen for the other."""
    after_first: list[int] = []

    async def quick(_item: int) -> None:
        await asyncio.sleep(0)

    async def slow(_item: int) -> None:
        await asyncio.sleep(0.05)
        after_first.append(gc.get_freeze_count())

    async def both() -> None:
        await asyncio.gather(run_bounded(range(1), quick, limit=1), run_bounded(range(1), slow, limit=1))

    before = gc.get_freeze_count()
    asyncio.run(both())
    assert after_first and after_first[0] > before  # still frozen after the quick batch ended
    assert gc.get_freeze_count() == before


def test_structured_output_with_raw_is_one_binding_that_keeps_its_parser_when_rebound() -> None:
    """No RunnableSequence around the model (a task and a callback run per call); a call's seed still reaches it."""
    from langchain_core.messages import AIMessage
    from langchain_core.runnables import RunnableSequence
    from pydantic import BaseModel

    from humanllm.llm._asking import with_call_options
    from humanllm.llm._base import ParsedBinding

    class Reply(BaseModel):
        text: str

    chat = build_role_model("character", "openai:mock", _settings("http://127.0.0.1:9/v1")).chat
    structured = chat.with_structured_output(Reply, include_raw=True)
    assert isinstance(structured, ParsedBinding) and not isinstance(structured, RunnableSequence)
    seeded = with_call_options(structured, chat, {"seed": 7})
    assert isinstance(seeded, ParsedBinding) and seeded.kwargs["seed"] == 7 and seeded.parser is structured.parser
    good, bad = AIMessage(content='{"text": "hi"}'), AIMessage(content="not json")
    from humanllm.llm._base import _with_parsed

    assert _with_parsed(good, structured.parser)["parsed"] == Reply(text="hi")
    failed = _with_parsed(bad, structured.parser)
    assert failed["parsed"] is None and failed["parsing_error"] is not None and failed["raw"] is bad


# --- the plain-call path: LangChain's payload posted as is -------------------------------------------
class _Capture(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    headers_seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        reply = json.dumps({
            "id": "c1", "object": "chat.completion", "created": 0, "model": "mock",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"mood": "calm"}'},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Served-By", "capture")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture
def capture() -> Iterator[str]:
    _Capture.bodies.clear()
    _Capture.headers_seen.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class Mood(BaseModel):
    mood: str


def test_a_structured_call_posts_the_request_langchain_built(capture: str) -> None:
    role = build_role_model("character", "openai:mock", _settings(capture)).with_seed(42)
    assert asyncio.run(role.astructured([HumanMessage(content="hi")], Mood)) == Mood(mood="calm")
    (body,) = _Capture.bodies
    assert body["model"] == "mock" and body["seed"] == 42 and body["stream"] is False
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["response_format"]["json_schema"]["schema"] == Mood.model_json_schema()  # extra_body, merged in
    assert "extra_body" not in body
    assert _Capture.headers_seen[0]["authorization"].startswith("Bearer ")  # the SDK client's auth
    assert role.usage.usage.total_tokens == 10  # usage read from the plain JSON reply


def test_response_headers_still_come_by_chatopenais_own_path(capture: str) -> None:
    role = build_role_model("character", "openai:mock", _settings(capture))
    role.chat.include_response_headers = True  # type: ignore[attr-defined]
    result = asyncio.run(role.chat.ainvoke([HumanMessage(content="hi")]))
    assert result.response_metadata["headers"]["x-served-by"] == "capture"
    assert len(_Capture.bodies) == 1


def test_request_parts_split_create_arguments_as_the_sdk_does() -> None:
    body, options = request_parts(
        {"model": "m", "messages": [], "extra_body": {"top_k": 5}, "extra_headers": {"X-A": "1"}, "timeout": 3.0}
    )
    assert body == {"model": "m", "messages": [], "top_k": 5}
    assert options == {"headers": {"X-A": "1"}, "timeout": 3.0}
