"""The OpenAI backend's async HTTP client, one per event loop, on aiohttp, closed when its loop ends.

langchain-openai shares one httpx client per base URL across the whole process; its connections
belong to the event loop they were opened in, so a second `asyncio.run` over the same URL failed
with "Event loop is closed". Here each loop gets its own client, made on the first call in it.

The transport is the OpenAI SDK's own `DefaultAioHttpClient` (aiohttp under the SDK's httpx
interface): httpcore's connection pool scans every pooled connection on each request (a syscall
each), so its CPU per call grows with the number of concurrent episodes; aiohttp's does not
(`benchmarks/throughput.py`: the HTTP layer's share of a run's CPU, see the README's benchmarks).

An aiohttp session must be closed inside its loop. The client is closed by an async generator
started in that loop: `asyncio.run` (and every runner that calls `loop.shutdown_asyncgens()`)
closes live async generators before it closes the loop, which runs the generator's `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Any


class LoopClients:
    """The async OpenAI client for the running loop: `root.copy(http_client=...)` made once per loop."""

    def __init__(self) -> None:
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._client: Any = None
        self._closer: AsyncIterator[None] | None = None

    async def for_running_loop(self, root: Any) -> Any:
        """The client to use in the running loop (a copy of `root` with its own aiohttp session)."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop() is loop and self._client is not None:
            return self._client
        from openai import DefaultAioHttpClient  # the SDK is imported by the caller already

        client = root.copy(http_client=DefaultAioHttpClient(timeout=root.timeout))
        closer = _close_at_loop_end(client)
        await closer.__anext__()  # started here, so this loop's shutdown_asyncgens closes it
        self._loop, self._client, self._closer = weakref.ref(loop), client, closer
        return client

    async def aclose(self) -> None:
        """Close the running loop's client now (the next call makes a new one)."""
        closer, self._closer, self._client, self._loop = self._closer, None, None, None
        if closer is not None:
            with contextlib.suppress(StopAsyncIteration):
                await closer.__anext__()


async def _close_at_loop_end(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.close()
