"""The OpenAI backend's HTTP client: one per event loop (a second asyncio.run works), closed with its loop."""

from __future__ import annotations

import asyncio
import gc

from langchain_core.messages import HumanMessage

from humanllm.core import run_bounded
from humanllm.llm import ModelSettings, build_role_model
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
