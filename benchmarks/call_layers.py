"""CPU per model call, one layer added at a time, against the loopback mock OpenAI server.

Run:  python benchmarks/call_layers.py [--concurrency 64] [--calls 20] [--latency 0.2] [--repeat 3]

Each level runs `--concurrency` workers making `--calls` sequential calls each, the way episodes
do, and prints the process CPU per call (median of `--repeat` rounds, the levels interleaved so a
noisy neighbour hits all of them alike):

  sdk post      the OpenAI SDK's client on its aiohttp transport, `post("/chat/completions")`
  chat model    + LangChain's chat-model interface (`OpenAICompatibleChat.ainvoke`)
  role model    + humanllm's role model (retries, a JSON-schema reply parsed and validated)
  graph step    + one LangGraph super-step per call (a node that calls the role model, looping)

The differences are what each layer adds per call; `benchmarks/throughput.py` gives the whole
episode's figure (a scenario writer's calls, turns, the director, the store).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from humanllm.llm import ModelSettings, RoleModel, build_role_model
from humanllm.testing.mock_server import mock_server_process

_PROMPT = "You are Mira, a nurse at the end of a night shift. Say what you do next, in one sentence."


class _Line(BaseModel):
    speech: str


class _Loop(TypedDict, total=False):
    left: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--calls", type=int, default=20, help="Sequential calls per worker.")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with mock_server_process(args.latency) as base_url:
        asyncio.run(_measure(args, base_url))


async def _measure(args: argparse.Namespace, base_url: str) -> None:
    role = build_role_model("character", "openai:mock", ModelSettings(base_url=base_url, timeout_s=60))
    levels = _levels(role)
    total = args.concurrency * args.calls
    print(f"{args.concurrency} workers x {args.calls} calls, {args.latency * 1000:.0f} ms per call")
    for work in levels.values():  # warm-up: imports, the client's connections, the first schemas
        await _run(work, args.concurrency, 2)
    figures: dict[str, list[float]] = {name: [] for name in levels}
    for _ in range(args.repeat):
        for name, work in levels.items():
            figures[name].append(await _run(work, args.concurrency, args.calls) / total * 1000)
    print(f"{'layer':<12} {'cpu ms/call':>11} {'added':>7}")
    previous = 0.0
    for name, runs in figures.items():
        median = statistics.median(runs)
        print(f"{name:<12} {median:>11.2f} {median - previous:>+7.2f}")
        previous = median


def _levels(role: RoleModel) -> dict[str, Callable[[int], Awaitable[Any]]]:
    chat: Any = role.chat
    messages = [HumanMessage(_PROMPT)]
    body = {"model": "mock", "messages": [{"role": "user", "content": _PROMPT}]}

    async def sdk(n: int) -> None:
        await chat._use_loop_client()  # the client the chat model posts through
        for _ in range(n):
            await chat.root_async_client.post("/chat/completions", cast_to=object, body=body)

    async def chat_model(n: int) -> None:
        for _ in range(n):
            await chat.ainvoke(messages)

    async def role_model(n: int) -> None:
        for _ in range(n):
            await role.astructured(messages, _Line)

    async def step(state: _Loop) -> _Loop:
        await role.astructured(messages, _Line)
        return {"left": state["left"] - 1}

    loop = StateGraph(_Loop)
    loop.add_node("step", step)
    loop.add_edge(START, "step")
    loop.add_conditional_edges("step", _again, ["step", END])
    compiled = loop.compile()

    async def graph_step(n: int) -> None:
        await compiled.ainvoke({"left": n}, {"recursion_limit": n + 10})

    return {"sdk post": sdk, "chat model": chat_model, "role model": role_model, "graph step": graph_step}


async def _again(state: _Loop) -> str:
    return "step" if state["left"] > 0 else END


async def _run(work: Callable[[int], Awaitable[Any]], workers: int, calls: int) -> float:
    """Process CPU seconds of `workers` concurrent runs of `work(calls)`."""
    started = time.process_time()
    await asyncio.gather(*(work(calls) for _ in range(workers)))
    return time.process_time() - started


if __name__ == "__main__":
    main()
