"""Progress reporting for long evaluation loops: a tiny protocol, a silent default and a rich bar."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Tracker(Protocol):
    """Told how much work a phase has and when a unit of it is done."""

    def start(self, phase: str, total: int, done: int = 0) -> None: ...

    def advance(self, phase: str, amount: int = 1) -> None: ...


class SilentTracker:
    """Reports nothing."""

    def start(self, phase: str, total: int, done: int = 0) -> None:
        return None

    def advance(self, phase: str, amount: int = 1) -> None:
        return None


class RichTracker:
    """One rich progress bar per phase; use as a context manager."""

    def __init__(self, console: Console, *, disable: bool = False) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=disable,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichTracker:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def start(self, phase: str, total: int, done: int = 0) -> None:
        if phase in self._tasks:
            self._progress.update(self._tasks[phase], total=total, completed=done)
        else:
            self._tasks[phase] = self._progress.add_task(phase, total=total, completed=done)

    def advance(self, phase: str, amount: int = 1) -> None:
        if phase in self._tasks:
            self._progress.advance(self._tasks[phase], amount)
