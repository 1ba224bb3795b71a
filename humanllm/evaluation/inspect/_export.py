"""Our saved results (`eval score` / `eval run` JSON) as inspect logs that `inspect view` opens.

One log per label (a data set, or a model under test): a sample per judged character and judge run
(epoch = run + 1) with the score `judgement_score` gives it and, where the episodes are still on
disk, the transcript; the log's results are our own headline numbers (mean, SD over runs, the
bootstrap interval), so the log and `eval report` agree. Judge settings and the run config go to the
log's metadata; no key is ever in them (results keep none).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from pathlib import Path

from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalLog,
    EvalMetric,
    EvalPlan,
    EvalPlanStep,
    EvalSample,
    EvalScore,
    EvalSpec,
    EvalStats,
    write_eval_log,
)
from inspect_ai.log import (
    EvalResults as InspectResults,
)
from inspect_ai.model import ModelOutput

from humanllm import __version__
from humanllm.core import Episode
from humanllm.errors import ConfigError
from humanllm.evaluation._records import Judgement, JudgementStore
from humanllm.evaluation._results import EvalResults, EvalSource
from humanllm.evaluation._scoring import METRICS, MetricSummary, ScoreReport
from humanllm.evaluation._sources import find_source
from humanllm.evaluation._tables import headline
from humanllm.evaluation.inspect._scores import SCORER, judgement_score, transcript_messages
from humanllm.evaluation.inspect._task import sample_id


def _judgements(results: EvalResults, where: EvalSource) -> list[Judgement]:
    """The judgements behind one label: its judgement folder, filtered to the results' judge setting."""
    return JudgementStore.open_for_reading(Path(where.judgements)).select(
        judge=results.judge,
        prompt_version=results.prompt_version,
        batch_size=results.options.batch_size,
        runs=results.options.runs,
        generation=results.generation,
        holistic=results.options.holistic,
    )


def _episodes(where: EvalSource) -> dict[str, tuple[Episode, str]] | None:
    """The label's episodes with their split; None when the data is gone (the log then has no transcripts)."""
    data = Path(where.data)
    if not data.exists():
        return None
    return {episode.id: (episode, split) for episode, split in find_source(data).episodes()}


def _metric(name: str, value: float | None) -> dict[str, EvalMetric]:
    return {} if value is None else {name: EvalMetric(name=name, value=value)}


def _score(name: str, summary: MetricSummary, samples: list[EvalSample]) -> EvalScore:
    metrics = {
        **_metric("mean", summary.mean),
        **_metric("sd_over_runs", summary.sd if summary.mean is not None else None),
        **_metric("ci_low", summary.ci.low if summary.ci else None),
        **_metric("ci_high", summary.ci.high if summary.ci else None),
    }
    values = [s.scores[SCORER].as_dict().get(name) for s in samples if s.scores]
    unscored = sum(isinstance(v, float) and math.isnan(v) for v in values)
    return EvalScore(
        name=name,
        scorer=SCORER,
        metrics=metrics,
        scored_samples=len(values) - unscored,
        unscored_samples=unscored,
        metadata={"ci_level": summary.ci.level, "ci_resamples": summary.ci.resamples} if summary.ci else None,
    )


def _samples(results: EvalResults, where: EvalSource) -> list[EvalSample]:
    episodes = _episodes(where)
    out = []
    for judgement in sorted(_judgements(results, where), key=lambda j: (j.episode_id, j.character, j.run)):
        found = episodes.get(judgement.episode_id) if episodes is not None else None
        if episodes is not None and found is None:
            continue  # judged, but not an episode of this label's data (another split file in the folder)
        messages = transcript_messages(found[0], judgement.character) if found else []
        own = "\n".join(m.text for m in messages if m.role == "assistant")
        out.append(
            EvalSample(
                id=sample_id(judgement.episode_id, judgement.character),
                epoch=judgement.run + 1,
                input=messages or f"episode {judgement.episode_id}, character {judgement.character}",
                target="",
                messages=messages,
                output=ModelOutput.from_content(model="humanllm/stored", content=own),
                scores={SCORER: judgement_score(judgement, na_as_zero=results.options.na_as_zero)},
                metadata={
                    "episode_id": judgement.episode_id,
                    "character": judgement.character,
                    "split": found[1] if found else "",
                },
            )
        )
    return out


def _log(results: EvalResults, label: str, report: ScoreReport, where: EvalSource) -> EvalLog:
    samples = _samples(results, where)
    created = datetime.fromtimestamp(results.created_at, UTC).isoformat()
    model = label if results.kind == "benchmark" else "none/none"
    ids = sorted({str(s.id) for s in samples})
    shown = headline(report)
    return EvalLog(
        status="success",
        eval=EvalSpec(
            created=created,
            task="humanllm/roleplay",
            task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{label}/{results.created_at}").hex,
            run_id=uuid.uuid4().hex,
            eval_id=uuid.uuid4().hex,
            task_args={"data": where.data, "judge": results.judge, "runs": results.options.runs},
            dataset=EvalDataset(name=label, location=where.data, samples=len(ids), sample_ids=ids),
            model=model,
            config=EvalConfig(epochs=results.options.runs, epochs_reducer=["mean"]),
            packages={"humanllm": __version__},
            metadata={
                "humanllm": {
                    "kind": results.kind,
                    "label": label,
                    "judge": results.judge,
                    "prompt_version": results.prompt_version,
                    "options": results.options.model_dump(mode="json"),
                    "config": results.config,
                    "headline": "split average" if shown is report.split_average else "all samples",
                    "splits_averaged": report.split_average_of,
                    "empty_splits": report.empty_splits,
                    "coverage": report.coverage.model_dump(mode="json"),
                    "notes": results.notes,
                }
            },
        ),
        plan=EvalPlan(steps=[EvalPlanStep(solver="humanllm/stored_turns")]),
        results=InspectResults(
            total_samples=len(ids),
            completed_samples=len(ids),
            scores=[_score(name, shown[name], samples) for name in METRICS if name in shown],
        ),
        stats=EvalStats(started_at=created, completed_at=created),
        samples=samples,
    )


def inspect_logs(results: EvalResults) -> dict[str, EvalLog]:
    """Label -> its inspect log."""
    return {
        label: _log(results, label, report, results.sources[label])
        for label, report in results.reports.items()
        if label in results.sources
    }


def _path_for(out: Path, label: str, several: bool) -> Path:
    if not several:
        return out
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label).strip("_") or "label"
    return out.with_name(f"{out.stem}-{safe}{out.suffix}")


def export_inspect(results_path: Path, out: Path) -> list[Path]:
    """Write the results at `results_path` as inspect log(s) at `out` (.eval or .json); several labels give one
    file each, named `<out stem>-<label><suffix>`. Returns the files written."""
    if out.suffix not in (".eval", ".json"):
        raise ConfigError(f"{out}: an inspect log ends in .eval or .json; give --out LOG.eval (or LOG.json)")
    results = EvalResults.load(results_path)
    logs = inspect_logs(results)
    if not logs:
        raise ConfigError(
            f"{results_path} names no data for its scores: export the results of `eval score` or `eval run`"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for label, log in logs.items():
        path = _path_for(out, label, len(logs) > 1)
        write_eval_log(log, str(path), format="eval" if path.suffix == ".eval" else "json")
        written.append(path)
    return written
