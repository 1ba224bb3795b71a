"""One bounded concurrent runner (at most N jobs in flight, stopped by a permanent endpoint error), and a
way to run a coroutine from synchronous code anywhere."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from humanllm.errors import PermanentEndpointError, cause_of_kind

T = TypeVar("T")


async def run_bounded(
    items: Iterable[T],
    work: Callable[[T], Awaitable[None]],
    *,
    limit: int,
    stop: asyncio.Event | None = None,
) -> None:
    """Run `work(item)` for every item with at most `limit` in flight; returns when all have ended.

    A job whose error has a `PermanentEndpointError` in its chain of causes (the endpoint refuses
    us: every other job would fail too) sets `stop`; no job starts once `stop` is set (the caller
    may set it too: a budget, a circuit breaker), the jobs in flight run to their end, and then
    that permanent error is raised. Any other error propagates as from `asyncio.gather`; jobs
    handle the errors they record themselves. Cancelling the caller cancels every job.
    """
    gate = asyncio.Semaphore(limit)
    halt = stop if stop is not None else asyncio.Event()
    fatal: list[PermanentEndpointError] = []

    async def one(item: T) -> None:
        async with gate:
            if halt.is_set():
                return
            try:
                await work(item)
            except Exception as exc:
                permanent = cause_of_kind(exc, PermanentEndpointError)
                if permanent is None:
                    raise
                fatal.append(permanent)
                halt.set()

    with frozen_heap():
        await asyncio.gather(*(one(item) for item in items))
    if fatal:
        raise fatal[0]


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects that exist now out of the garbage collector's scans while the block runs.

    A batch allocates short-lived cycles (graph runs, messages, per-call schemas) on top of a large
    long-lived heap (the pattern library and its graph, pydantic's and LangGraph's compiled
    structures): every full collection rescanned all of it, about a third of a 64-episode run's CPU.
    `gc.freeze()` moves the existing objects to the permanent generation; the block's own garbage
    is still collected as usual, and `gc.unfreeze()` hands the old objects back at the end. Blocks
    may nest or overlap (batches run side by side in one process): only the last one to end unfreezes.
    """
    global _frozen_blocks
    with _frozen_lock:
        if _frozen_blocks == 0:  # an inner block freezes nothing more: the outer batch's own garbage stays collectable
            gc.freeze()
        _frozen_blocks += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_blocks -= 1
            if _frozen_blocks == 0:
                gc.unfreeze()


_frozen_blocks = 0
"""How many `frozen_heap` blocks are running (the heap is unfrozen when none is)."""
_frozen_lock = threading.Lock()


def run_sync(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous code, also where an event loop is already running (a
    Jupyter notebook): there it runs on its own loop in a worker thread, so the caller's loop is untouched."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="humanllm-sync") as pool:
        return pool.submit(asyncio.run, main).result()
