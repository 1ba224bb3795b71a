"""The saved result of an evaluation: scores per label (a model, or a data set) and where they came from."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, ValidationError, model_serializer

from humanllm.core import TokenUsage, read_text_file, write_text_atomic
from humanllm.errors import DataError
from humanllm.evaluation._agreement import AgreementReport
from humanllm.evaluation._judging import JudgeOptions
from humanllm.evaluation._records import Judgement, JudgementStore
from humanllm.evaluation._scoring import ScoreReport
from humanllm.llm import GenerationSpec

ConfigValue = str | int | float | bool | None | list[str]


class EvalSource(BaseModel):
    """Where one label's episodes and judgements are."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="Episodes: a store folder, a split folder or a JSONL file.")
    judgements: str = Field(description="The folder holding judgements-*.jsonl.")


class EvalResults(BaseModel):
    """Everything a table, plot or report needs; saved as JSON next to the outputs."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["score", "benchmark"] = Field(description="`eval score` of stored episodes, or `eval run`.")
    judge: str = Field(description="Judge model spec.")
    prompt_version: str = Field(description="Hash of the judge's prompt templates.")
    generation: GenerationSpec | None = Field(
        default=None, description="The judge's sampling settings (None in results written before they were kept)."
    )
    options: JudgeOptions
    config: dict[str, ConfigValue] = Field(default_factory=dict, description="Run settings (no secrets).")
    reports: dict[str, ScoreReport] = Field(description="Label (model under test, or data set) -> scores.")
    sources: dict[str, EvalSource] = Field(default_factory=dict)
    usage: dict[str, TokenUsage] = Field(default_factory=dict, description="Role or model -> tokens spent.")
    notes: list[str] = Field(default_factory=list, description="What went wrong on the way (failed plays, ...).")
    created_at: float = Field(default_factory=time.time)
    agreement: AgreementReport | None = Field(
        default=None,
        description="`eval score` with several judges: their agreement (written into each judge's scores); "
        "left out of the JSON when None, so one judge's results read as before.",
    )

    @model_serializer(mode="wrap")
    def _without_empty_agreement(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        if data.get("agreement", False) is None:
            del data["agreement"]
        return data

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, self.model_dump_json(indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> EvalResults:
        text = read_text_file(path, what="evaluation result")
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "top level"
            raise DataError(
                f"{path} is not an evaluation result ({where}: {first['msg']}); give the scores-*.json written by "
                "`humanllm eval score` or the results-<mode>.json written by `humanllm eval run`"
            ) from exc


def _read_jsonl(path: Path) -> list[Judgement]:
    out = []
    for number, line in enumerate(read_text_file(path, what="judgements file").splitlines(), 1):
        if line.strip():
            try:
                out.append(Judgement.model_validate_json(line))
            except ValidationError as exc:
                raise DataError(f"{path}:{number}: not a judgement record ({exc.errors()[0]['msg']})") from exc
    return out


def load_judgements(path: Path, *, judge: str | None = None) -> list[Judgement]:
    """The judgements behind an evaluation: its results JSON, a judgement folder or a judgements JSONL file.

    A folder or file may hold several judges, prompt versions or batch sizes; exactly one such
    setting must remain after the `judge` filter, so scores of different judges are never mixed.
    """
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        results = EvalResults.load(path)
        out = []
        for where in results.sources.values():
            out += JudgementStore.open_for_reading(Path(where.judgements)).select(
                judge=results.judge,
                prompt_version=results.prompt_version,
                batch_size=results.options.batch_size,
                runs=results.options.runs,
                generation=results.generation,
                holistic=results.options.holistic,
            )
        return out
    if path.is_dir():
        found = list(JudgementStore.open_for_reading(path))
    elif path.is_file():
        found = _read_jsonl(path)
    else:
        raise DataError(f"{path} does not exist: give a scores/results JSON, a judgement folder or a JSONL file")
    found = [j for j in found if judge is None or j.judge == judge]
    settings = sorted({(j.judge, j.prompt_version, j.batch_size, _settings_text(j)) for j in found})
    if len(settings) > 1:
        listed = "; ".join(f"judge {a}, prompt {b}, batch size {c}{d}" for a, b, c, d in settings)
        raise DataError(
            f"{path} holds judgements of several settings ({listed}): pick one with --judge-spec, or give the "
            "scores JSON of one `eval score` run"
        )
    return found


def _settings_text(judgement: Judgement) -> str:
    generation = judgement.generation
    if generation is None:
        return ""
    where = f", base URL {generation.base_url}" if generation.base_url else ""
    holistic = f", holistic {judgement.holistic_choice}" if judgement.holistic_choice else ""
    return f", temperature {generation.temperature}, max tokens {generation.max_tokens}{where}{holistic}"
