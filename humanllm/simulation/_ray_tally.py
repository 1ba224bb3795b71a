"""The progress of a `generate --ray` run, counted from what its tasks report (a Ray actor in a run).

Its own small module (pydantic only) so that the actor's worker process starts without importing
the model stack: on a small machine that start competes with the tasks for the CPUs.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field


class TallySnapshot(BaseModel):
    """Progress of a run, summed over its tasks."""

    done: int = Field(default=0, description="Episodes finished (each id once, whichever attempt wrote it).")
    failed: int = Field(default=0, description="Episodes whose last attempt failed and that no retry finished.")
    tokens: int = Field(default=0, description="Tokens of finished episodes (a redone episode counts twice).")
    starts: dict[str, int] = Field(default_factory=dict, description="Shard -> task starts (above 1: retried).")


class ProgressTally:
    """Counts what the tasks report; a Ray actor in a run (`ray.remote(ProgressTally)`), plain in tests."""

    def __init__(self) -> None:
        self._done: set[str] = set()
        self._failed: set[str] = set()
        self._tokens = 0
        self._starts: Counter[str] = Counter()

    def started(self, shard: str) -> None:
        self._starts[shard] += 1

    def found(self, episode_ids: list[str]) -> None:
        """Episodes a task found in its shard (an earlier attempt wrote them, its reports may be lost)."""
        self._done.update(episode_ids)

    def event(self, kind: str, episode_id: str, tokens: int) -> None:
        if kind == "done":
            self._done.add(episode_id)
            self._tokens += tokens
        elif kind == "failed":
            self._failed.add(episode_id)

    def flush(self) -> None:
        """Nothing: a task waits for it, so that the events it sent before are counted when it ends."""

    def snapshot(self) -> TallySnapshot:
        return TallySnapshot(
            done=len(self._done),
            failed=len(self._failed - self._done),
            tokens=self._tokens,
            starts=dict(self._starts),
        )
