"""Judgements: one record per `JudgementSpec` (episode, character, judge and its settings, run, ...), append-only.

A judgement folder holds `judgements-<shard>.jsonl` files next to the episodes they judge. Lines are
written whole, flushed and fsynced; a key that is stored already is never written twice (nor read
twice), so re-running a scoring command only adds what is missing. As for episodes, opening is
explicit: `JudgementStore.open_for_reading(folder)` writes nothing; a writer (`JudgementStore(folder)`,
a context manager) holds the folder's writer lock, so two scoring runs never judge the same key at
once, and moves a torn last line to `<shard>.jsonl.torn`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.judge import HolisticScores
from humanllm.core import ChecklistItem, Metric, TokenUsage, Verdict, spec_id
from humanllm.evaluation._spec import JudgementSpec
from humanllm.llm import GenerationSpec
from humanllm.simulation import RecordStore

logger = logging.getLogger(__name__)


JudgementKey = str
"""What makes a judgement unique: the id of its spec (judging the same spec again adds nothing); a
legacy record (stored without a spec) has a `legacy:` key that no new judgement has."""


def legacy_key(episode_id: str, character: str, judge: str, run: int, prompt_version: str, batch_size: int) -> str:
    """The key of a judgement stored before specs: what it says, which is not every setting it was made with."""
    return "legacy:" + ":".join(str(f) for f in (episode_id, character, judge, run, prompt_version, batch_size))


class Judgement(BaseModel):
    """The judge's verdicts on one character of one episode, in one judge run."""

    model_config = ConfigDict(extra="forbid")

    episode_id: str = Field(description="The judged episode.")
    character: str = Field(description="The judged character.")
    judge: str = Field(description="Judge model spec (no secrets).")
    run: int = Field(ge=0, description="Index of the independent judge run (0-based).")
    prompt_version: str = Field(description="Hash of the judge's prompt templates.")
    batch_size: int = Field(ge=1, description="Items per judge call (1 = one call per item).")
    items: list[ChecklistItem] = Field(description="The items asked, IPE then MPD.")
    verdicts: list[Verdict] = Field(description="One verdict per item, in item order; score None = unscored.")
    holistic: HolisticScores | None = Field(default=None, description="Anthropomorphism and fidelity, if asked.")
    rounds: int = Field(default=1, description="Judging rounds (first round plus retries of unscored items).")
    usage: TokenUsage = Field(default_factory=TokenUsage, description="Judge calls and tokens spent.")
    at: float = Field(default_factory=time.time, description="When it was judged (Unix time).")
    id: str | None = Field(default=None, description="Hash of `spec`; None: a legacy record.")
    spec: JudgementSpec | None = Field(default=None, description="The whole spec; None: a legacy record.")

    @property
    def key(self) -> JudgementKey:
        if self.spec is not None:
            return spec_id(self.spec)
        return legacy_key(self.episode_id, self.character, self.judge, self.run, self.prompt_version, self.batch_size)

    @property
    def generation(self) -> GenerationSpec | None:
        """The judge's sampling settings, where the record says (legacy records do not)."""
        return self.spec.generation if self.spec is not None else None

    @property
    def holistic_choice(self) -> str | None:
        """The holistic baseline the judgement was asked for (coser, direct, off); None: not recorded (a record
        made before it was, under an older prompt version: it matches any filter on it)."""
        return self.spec.holistic if self.spec is not None else None

    def scored(self, metric: Metric, *, na_as_zero: bool = False) -> list[tuple[ChecklistItem, int]]:
        """(item, score) of every scored item of one metric; n/a items too, as 0, with `na_as_zero`."""
        by_id = {v.item_id: v for v in self.verdicts}
        out = []
        for item in self.items:
            verdict = by_id.get(item.id)
            value = verdict.value(na_as_zero=na_as_zero) if verdict is not None else None
            if item.metric is metric and value is not None:
                out.append((item, value))
        return out


class JudgementStore(RecordStore):
    """Appends judgements to one shard of a folder (writers, under the folder's lock); reads every shard of it."""

    PREFIXES = ("judgements",)
    WRITE_HINT = "open it with JudgementStore(folder) to add"

    def __init__(self, root: Path, shard: str = "main", *, write: bool = True, wait: bool | float = False) -> None:
        super().__init__(root, shard, write=write, wait=wait)
        self._keys = {j.key for j in self}

    @classmethod
    def open_for_reading(cls, root: Path) -> JudgementStore:
        """Read the judgements of a folder without writing anything; a missing folder reads as empty."""
        return cls(root, write=False)

    def files(self, prefix: str = "judgements") -> list[Path]:
        return super().files(prefix)

    def __iter__(self) -> Iterator[Judgement]:
        """Every stored judgement once per key (the first line wins)."""
        seen: set[JudgementKey] = set()
        invalid = "{where}: not a judgement record ({msg}); move the file aside"
        for judgement in self.records("judgements", Judgement, invalid):
            if judgement.key not in seen:
                seen.add(judgement.key)
                yield judgement

    def __contains__(self, key: object) -> bool:
        with self._mutex:
            return key in self._keys

    def add(self, judgement: Judgement) -> bool:
        """Append unless its key is stored already; returns whether it was written."""
        self.check_writable()
        with self._mutex:
            if judgement.key in self._keys:
                return False
            self.append("judgements", [judgement])
            self._keys.add(judgement.key)
            return True

    def select(
        self,
        *,
        judge: str | None = None,
        prompt_version: str | None = None,
        batch_size: int | None = None,
        runs: int | None = None,
        episode_ids: set[str] | None = None,
        generation: GenerationSpec | None = None,
        holistic: str | None = None,
    ) -> list[Judgement]:
        """The stored judgements that match every given filter (runs: indices below `runs`)."""
        out = []
        for j in self:
            if judge is not None and j.judge != judge:
                continue
            if prompt_version is not None and j.prompt_version != prompt_version:
                continue
            if batch_size is not None and j.batch_size != batch_size:
                continue
            if runs is not None and j.run >= runs:
                continue
            if episode_ids is not None and j.episode_id not in episode_ids:
                continue
            if generation is not None and j.generation != generation:
                continue
            if holistic is not None and j.holistic_choice not in (None, holistic):
                continue
            out.append(j)
        return out
