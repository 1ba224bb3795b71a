"""A study folder's judgements as the tidy table: the cell episodes' specs say the levels and who was given what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humanllm.agents.judge import prompt_version
from humanllm.evaluation import JudgementStore
from humanllm.llm import canonical_spec
from humanllm.simulation import CellSpec, EpisodeStore
from humanllm.study._design import Cell, StudyDesign
from humanllm.study._table import frame, judgement_rows

if TYPE_CHECKING:
    import pandas as pd


def _cells(folder: Path) -> dict[str, CellSpec]:
    """Episode id -> its cell spec, for every study episode of the folder (other records are not the study's)."""
    out: dict[str, CellSpec] = {}
    for episode in EpisodeStore.open_for_reading(folder).iter_episodes():
        spec = episode.spec or {}
        if spec.get("kind") == "study":
            out[episode.id] = CellSpec.model_validate(spec)
    return out


def table_rows(folder: Path, design: StudyDesign) -> Iterator[dict[str, Any]]:
    """The rows of every judgement of this design's judge and judge settings on the folder's cell episodes
    (every replicate and judge run stored: a run that asked for fewer adds nothing and hides nothing)."""
    cells = _cells(folder)
    judge = canonical_spec(design.models.judge)
    version = prompt_version()
    for judgement in JudgementStore.open_for_reading(folder):
        spec = cells.get(judgement.episode_id)
        if spec is None or canonical_spec(judgement.judge) != judge:
            continue
        if judgement.prompt_version != version or judgement.batch_size != design.judge.batch_size:
            continue
        if set(spec.levels) != set(design.factor_names):
            continue
        levels = {name: spec.levels[name] for name in design.factor_names}
        yield from judgement_rows(
            judgement,
            study=design.name,
            cell=Cell(levels=levels).label,
            levels=levels,
            replicate=spec.replicate,
            given=spec.assignment.get(judgement.character, []),
        )


def study_table(folder: Path, design: StudyDesign) -> pd.DataFrame:
    """The tidy table (see `_table.py`) of what the study folder holds for its design."""
    return frame(table_rows(folder, design), design.factor_names)
