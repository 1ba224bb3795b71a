"""Driving the episode graph: progress as it goes, a person's lines at its pauses, an optional checkpoint file.

A person's turn pauses the graph with `interrupt()` (see `humanllm.agents.human`); the driver shows
the request's prompt through the reader, outside the graph, and resumes with `Command(resume=line)`.
Pausing needs a checkpointer: the one given (SQLite, `--checkpoint FILE`), else one in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import importlib.util
import logging
import typing
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Command
from pydantic import BaseModel

from humanllm.agents.human import HumanRequest, Reader
from humanllm.core import Conversation, Scenario, Turn
from humanllm.errors import ConfigError
from humanllm.graphs.episode import EpisodeContext, episode_graph

logger = logging.getLogger(__name__)

Progress = Callable[[str, object], None]
"""Called with ("scenario", Scenario) once it is written, then ("turn", Turn) for each turn."""

TURN_NODES = ("speak", "human_turn")


def _reachable(kind: Any, found: set[type]) -> None:
    """Every pydantic model and enum `kind` holds, at any depth."""
    for arg in typing.get_args(kind):
        _reachable(arg, found)
    if not isinstance(kind, type) or kind in found:
        return
    if issubclass(kind, enum.Enum):
        found.add(kind)
    elif issubclass(kind, BaseModel):
        found.add(kind)
        for field in kind.model_fields.values():
            _reachable(field.annotation, found)


def serializer() -> JsonPlusSerializer:
    """LangGraph's serializer, told which of our types the episode's checkpoints may hold.

    Without the list, reading a `Turn` back from a checkpoint logs a warning (and a future LangGraph
    blocks it); with it, exactly these types come back as themselves.
    """
    found: set[type] = set()
    for kind in (Scenario, Conversation, Turn):
        _reachable(kind, found)
    allowed = sorted((kind.__module__, kind.__qualname__) for kind in found)
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def check_checkpointing() -> None:
    """Fail at once, before any model call, when the SQLite checkpointer is not installed."""
    if importlib.util.find_spec("langgraph.checkpoint.sqlite") is None or importlib.util.find_spec("aiosqlite") is None:
        raise ConfigError("--checkpoint needs the langgraph-checkpoint-sqlite package: pip install 'humanllm[studio]'")


@contextlib.asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[BaseCheckpointSaver]:
    """LangGraph's SQLite saver on `path` (the optional langgraph-checkpoint-sqlite package)."""
    check_checkpointing()
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as connection:
        yield AsyncSqliteSaver(connection, serde=serializer())


def _request(interrupts: Any) -> HumanRequest:
    (pause, *_rest) = interrupts
    return HumanRequest.model_validate(pause.value)


async def drive_episode(
    graph_input: dict,
    context: EpisodeContext,
    *,
    progress: Progress | None = None,
    human: Reader | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
    thread: str = "",
) -> dict:
    """Run the episode graph to its end; returns the final state (scenario and conversation)."""
    if human is not None and checkpointer is None:
        checkpointer = InMemorySaver(serde=serializer())
    pipeline: Any = episode_graph()  # LangGraph's overloads do not type `context=` for subgraph streams
    config: dict[str, Any] = {}
    if checkpointer is not None:
        pipeline = pipeline.copy(update={"checkpointer": checkpointer})
        thread_id = f"{thread or 'episode'}-{uuid.uuid4().hex[:8]}"  # a fresh thread: never on top of an old run
        config = {"configurable": {"thread_id": thread_id}}
        logger.info("checkpointing the run as thread %s", thread_id)
    final: dict = {}
    step: Any = graph_input
    # the subgraphs' own updates (each turn) are for progress and a person's pauses; a batch run watches
    # neither, and streaming them out of every nested step is a measurable share of a cheap call's CPU
    watched = progress is not None or human is not None
    while True:
        pause = None
        async for namespace, update in _updates(
            pipeline.astream(step, config, context=context, stream_mode="updates", subgraphs=watched), nested=watched
        ):
            for node, values in update.items():
                if node == "__interrupt__":
                    pause = pause or values
                elif not isinstance(values, dict):
                    continue
                elif not namespace:
                    final.update(values)
                    if node == "scenario" and progress is not None:
                        progress("scenario", values["scenario"])
                elif node in TURN_NODES and progress is not None:
                    for turn in values.get("turns", []):
                        progress("turn", turn)
        if pause is None:
            return final
        if human is None:
            raise ConfigError("the episode paused for a person's line, but no one was asked: run with --interactive")
        request = _request(pause)
        step = Command(resume=await asyncio.to_thread(human, request.prompt))


async def _updates(stream: AsyncIterator[Any], *, nested: bool) -> AsyncIterator[tuple[tuple[str, ...], Any]]:
    """(namespace, update) pairs, whether the stream was asked for subgraphs' updates or not."""
    async for item in stream:
        yield item if nested else ((), item)
