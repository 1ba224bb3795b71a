"""`data verify`: recompute every id of a store from the specs stored on its records.

Reads only (the stores' readers: no lock, no repair). A record without a spec is a legacy record,
written before specs were stored: it cannot be checked and is counted, not reported as a mismatch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import spec_id
from humanllm.errors import DataError
from humanllm.evaluation._spec import JudgementSpec, PlaySpec
from humanllm.simulation import CellSpec, EpisodeSpec, ForkSpec, read_lines

SPEC_KINDS: dict[str, type[BaseModel]] = {
    "episode": EpisodeSpec,
    "study": CellSpec,
    "fork": ForkSpec,
    "play": PlaySpec,
    "judgement": JudgementSpec,
}
"""Every kind of spec a record may hold, by its `kind` field."""

_JUDGEMENT_FIELDS = ("episode_id", "character", "run", "batch_size", "prompt_version", "judge")
"""Fields a judgement record repeats from its spec: they must agree with it."""


class Mismatch(BaseModel):
    """A record whose id is not the hash of its stored spec (or whose spec is not a spec)."""

    where: str = Field(description="file:line")
    stored: str = Field(description="The id on the record.")
    recomputed: str = Field(description="The hash of its stored spec ('' when the spec is not valid).")
    problem: str = ""

    def line(self) -> str:
        why = f" ({self.problem})" if self.problem else ""
        return f"{self.where}: stored id {self.stored}, recomputed {self.recomputed or '-'}{why}"


class VerifyReport(BaseModel):
    """What `verify_store` checked."""

    episodes: int = 0
    judgements: int = 0
    legacy: int = Field(default=0, description="Records without a spec: unverifiable, not mismatches.")
    mismatches: list[Mismatch] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        checked = self.episodes + self.judgements - self.legacy
        return (
            f"{checked} ids verified ({self.episodes} episodes, {self.judgements} judgements), "
            f"{len(self.mismatches)} mismatches, {self.legacy} legacy records without a spec (unverifiable)"
        )


def _records(root: Path, pattern: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(root.rglob(pattern)):
        if path.name.endswith(".torn") or not path.is_file():
            continue
        for number, raw in read_lines(path):
            where = f"{path}:{number}"
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise DataError(f"{where}: not a record (a JSON object)")
            yield where, record


def check_record(where: str, record: dict[str, Any]) -> Mismatch | Literal["ok", "legacy"]:
    """The mismatch of one record; "ok" when its id is its spec's hash, "legacy" when it has no spec."""
    raw = record.get("spec")
    if raw is None:
        return "legacy"
    stored = str(record.get("id") or "")
    kind = raw.get("kind") if isinstance(raw, dict) else None
    model = SPEC_KINDS.get(str(kind))
    if model is None:
        return Mismatch(where=where, stored=stored, recomputed="", problem=f"unknown spec kind {kind!r}")
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        return Mismatch(where=where, stored=stored, recomputed="", problem=f"invalid spec: {first['msg']}")
    recomputed = spec_id(spec)
    if recomputed != stored:
        return Mismatch(where=where, stored=stored, recomputed=recomputed)
    if isinstance(spec, JudgementSpec):
        differ = [f for f in _JUDGEMENT_FIELDS if record.get(f) != getattr(spec, f)]
        if differ:
            problem = f"record fields disagree with its spec: {', '.join(differ)}"
            return Mismatch(where=where, stored=stored, recomputed=recomputed, problem=problem)
    return "ok"


def verify_store(root: Path) -> VerifyReport:
    """Recompute the id of every episode and judgement under `root` (its subfolders too) from its stored spec."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a store folder")
    report = VerifyReport()
    for pattern in ("episodes-*.jsonl", "judgements-*.jsonl"):
        for where, record in _records(root, pattern):
            if pattern.startswith("episodes"):
                report.episodes += 1
            else:
                report.judgements += 1
            result = check_record(where, record)
            if result == "legacy":
                report.legacy += 1
            elif isinstance(result, Mismatch):
                report.mismatches.append(result)
    return report
