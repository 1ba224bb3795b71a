"""Running a command's coroutine so that Ctrl-C always ends the command as interrupted (exit 130).

`asyncio.run` turns the first Ctrl-C into a cancellation of the main task, and Python 3.11's
`asyncio.wait_for` (used by the HTTP stack under the OpenAI client) can swallow a cancellation that
arrives as its inner call completes: the command then runs on to the end and exits 0 as if never
interrupted. Here the first Ctrl-C cancels the command and is remembered, so a run that swallowed it
still ends in `KeyboardInterrupt` (the CLI prints "interrupted" and exits 130); a second Ctrl-C
raises at once.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine
    from types import FrameType

T = TypeVar("T")


def run_interruptibly(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where a Ctrl-C during the run always ends in `KeyboardInterrupt`."""
    import asyncio  # here, not at the top: `--help` does not need the event loop

    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(main)
    presses = 0
    task: asyncio.Task[T] | None = None

    with asyncio.Runner() as runner:
        loop = runner.get_loop()

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            nonlocal presses
            presses += 1
            if presses > 1 or task is None:
                raise KeyboardInterrupt
            loop.call_soon_threadsafe(task.cancel)

        async def command() -> T:
            nonlocal task
            task = asyncio.current_task()
            return await main

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            result = runner.run(command())
        except asyncio.CancelledError:
            if presses:
                raise KeyboardInterrupt from None
            raise
        finally:
            signal.signal(signal.SIGINT, previous)
    if presses:
        raise KeyboardInterrupt
    return result
