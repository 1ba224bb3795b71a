"""Judge a source of stored episodes, then score it: the body of `eval score` and of each benchmark model."""

from __future__ import annotations

import functools
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from humanllm.agents.judge import judged_characters, prompt_version
from humanllm.core import Episode, TokenUsage
from humanllm.errors import DataError
from humanllm.evaluation._agreement import AgreementReport, AgreementTally
from humanllm.evaluation._desirability import desirability_groups
from humanllm.evaluation._judging import JUDGE_PHASE, JudgeOptions, JudgeRunReport, judge_episodes, judgement_key
from humanllm.evaluation._progress import SilentTracker, Tracker
from humanllm.evaluation._records import Judgement, JudgementKey, JudgementStore
from humanllm.evaluation._results import EvalResults, EvalSource
from humanllm.evaluation._scoring import SampleInfo, SampleKey, ScoreReport, ScoreTally, sample_info_of
from humanllm.evaluation._sources import EpisodeSource
from humanllm.llm import GenerationSpec, RoleModel
from humanllm.patterns import InteractionGraph


def slug(spec: str) -> str:
    """A file-name-safe form of a model spec."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "model"


def results_name(judge: str, data: str | None = None) -> str:
    """File name of the scores `eval score` writes for one judge (and one data file, when given)."""
    return f"scores-{slug(data)}-{slug(judge)}.json" if data else f"scores-{slug(judge)}.json"


class SampleInfos(Mapping[SampleKey, SampleInfo]):
    """(episode id, character) -> `SampleInfo` of every judged character of a source, held compactly.

    A `SampleInfo` takes about 1.7 KB; one per sample would grow with the store. This holds each
    sample's split and pattern names only (interned, equal tuples shared: a store plays each bundle
    in several situations) and builds the info when asked, remembering the most recent ones.
    """

    def __init__(self, source: EpisodeSource, graph: InteractionGraph) -> None:
        self._graph = graph
        self._shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._entries: dict[SampleKey, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        self._built = functools.lru_cache(maxsize=1024)(self._build)
        for episode, split in source.episodes():
            bundle = self._share(episode.scenario.patterns)
            for character in judged_characters(episode):
                held = self._share(episode.scenario.char2pattern.get(character, []))
                self._entries[(sys.intern(episode.id), sys.intern(character))] = (sys.intern(split), held, bundle)

    def _share(self, names: list[str]) -> tuple[str, ...]:
        shared = tuple(sys.intern(name) for name in names)
        return self._shared.setdefault(shared, shared)

    def _build(self, split: str, held: tuple[str, ...], bundle: tuple[str, ...]) -> SampleInfo:
        return sample_info_of(split, held, bundle, self._graph)

    def __getitem__(self, key: SampleKey) -> SampleInfo:
        return self._built(*self._entries[key])

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[SampleKey]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def score_source(
    source: EpisodeSource,
    *,
    judge: str,
    options: JudgeOptions,
    graph: InteractionGraph,
    generation: GenerationSpec | None = None,
    expected_splits: Sequence[str] | None = None,
) -> tuple[ScoreReport, TokenUsage]:
    """Score what is stored for this judge, prompt version, batch size and holistic baseline (runs below
    `options.runs`); with `generation`, only judgements made with those judge settings (temperature, max
    tokens, base URL). A split of `expected_splits` (default: the source's own) without a scored sample is
    named in the report's `empty_splits`.

    Streams the judgements into running sums: memory does not grow with the number judged.
    """
    infos = SampleInfos(source, graph)
    version = prompt_version()
    tally = ScoreTally(na_as_zero=options.na_as_zero, bootstrap=options.bootstrap, seed=options.seed)
    usage = TokenUsage()
    for judgement in JudgementStore.open_for_reading(source.judgements):
        if not _scored_here(judgement, judge, version, options, generation):
            continue
        info = infos.get((judgement.episode_id, judgement.character))
        if info is None:  # a judgement of an episode not in this source (another split file, say)
            continue
        tally.add(judgement, info)
        usage = usage.add(judgement.usage)
    return tally.report(source.split_labels() if expected_splits is None else expected_splits), usage


def _scored_here(
    judgement: Judgement, judge: str, version: str, options: JudgeOptions, generation: GenerationSpec | None
) -> bool:
    """Whether `score_source` counts this judgement for this judge setting."""
    return (
        judgement.judge == judge
        and judgement.prompt_version == version
        and judgement.batch_size == options.batch_size
        and judgement.run < options.runs
        and (generation is None or judgement.generation == generation)
        and judgement.holistic_choice in (None, options.holistic)
    )


def agreement_source(
    source: EpisodeSource,
    *,
    judges: Sequence[tuple[str, GenerationSpec | None]],
    options: JudgeOptions,
    graph: InteractionGraph,
) -> AgreementReport:
    """The agreement of several judges (spec, sampling settings) on a source: over exactly the judgements
    `score_source` scores for each of them, with the social-desirability probe per judge."""
    infos = SampleInfos(source, graph)
    version = prompt_version()
    settings = dict(judges)
    tally = AgreementTally([judge for judge, _ in judges], runs=options.runs, na_as_zero=options.na_as_zero)
    for judgement in JudgementStore.open_for_reading(source.judgements):
        if judgement.judge not in settings:
            continue
        if not _scored_here(judgement, judgement.judge, version, options, settings[judgement.judge]):
            continue
        if (judgement.episode_id, judgement.character) in infos:
            tally.add(judgement)
    return tally.report(infos, source.split_labels(), desirability_groups(graph.library))


def data_label(data: Path) -> str:
    """The name a data set is reported under: a file's stem, a folder's name."""
    return data.stem if data.is_file() else data.name


def score_results(
    data: Path,
    source: EpisodeSource,
    *,
    judge: str,
    options: JudgeOptions,
    graph: InteractionGraph,
    generation: GenerationSpec | None = None,
) -> EvalResults:
    """`eval score`'s results: the scores of what is stored for this judge setting, under the data's label."""
    report, usage = score_source(source, judge=judge, options=options, graph=graph, generation=generation)
    label = data_label(data)
    return EvalResults(
        kind="score",
        judge=judge,
        generation=generation,
        prompt_version=prompt_version(),
        options=options,
        config={"data": str(data)},
        reports={label: report},
        sources={label: EvalSource(data=str(data), judgements=str(source.judgements))},
        usage={"judge": usage},
    )


def scores_path(data: Path, source: EpisodeSource, judge: str) -> Path:
    """Where `eval score` saves its results: scores-<judge>[-<file stem>].json beside the judgements."""
    return source.judgements / results_name(judge, data.stem if data.is_file() else None)


async def judge_source(
    source: EpisodeSource,
    *,
    model: RoleModel,
    graph: InteractionGraph,
    options: JudgeOptions,
    tracker: Tracker | None = None,
) -> JudgeRunReport:
    """Judge every stored episode of the source that is not judged yet; judgements go next to the episodes.

    Holds the judgement folder's writer lock while judging: a second run on it fails at once (the CLI's
    `--wait` takes the lock first and waits), so no key is judged twice. Episodes are read as they
    are judged, a bounded batch at a time (`judge_batch(options)` episodes with work left), so memory
    does not grow with the store; a first pass counts the work for the progress bar.
    """
    tracker = tracker or SilentTracker()
    with JudgementStore(source.judgements) as store:
        requested = stored = 0
        for episode, _split in source.episodes():
            keys = _keys(episode, model, options)
            requested += len(keys)
            stored += sum(key in store for key in keys)
        if not requested:
            raise DataError(
                f"{source.describe()} holds no episodes to judge: give a store, split folder or JSONL file with "
                "episodes in it (`humanllm generate` writes them)"
            )
        report = JudgeRunReport(requested=requested, already_done=stored)
        tracker.start(JUDGE_PHASE, total=requested, done=stored)
        start = time.monotonic()
        reasons: Counter[str] = Counter()
        pending = (e for e, _split in source.episodes() if not all(k in store for k in _keys(e, model, options)))
        for batch in _batches(pending, judge_batch(options)):
            part = await judge_episodes(
                batch, store, model=model, library=graph.library, options=options, tracker=_Advance(tracker)
            )
            report.judged += part.judged
            report.failed += part.failed
            report.usage = report.usage.add(part.usage)
            reasons.update(part.failures)
        report.failures = dict(reasons.most_common())
        report.elapsed_s = time.monotonic() - start
        return report


def judge_batch(options: JudgeOptions) -> int:
    """Episodes held at once while judging: enough to keep `concurrency` judges busy past a batch's tail."""
    return max(64, 16 * options.concurrency)


def _keys(episode: Episode, model: RoleModel, options: JudgeOptions) -> list[JudgementKey]:
    return [
        judgement_key(episode.id, character, run, model, options)
        for character in judged_characters(episode)
        for run in range(options.runs)
    ]


def _batches(episodes: Iterable[Episode], size: int) -> Iterator[list[Episode]]:
    batch: list[Episode] = []
    for episode in episodes:
        batch.append(episode)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Advance:
    """Passes progress on to a tracker started for the whole source (each batch would restart it)."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker

    def start(self, phase: str, total: int, done: int = 0) -> None:
        return None

    def advance(self, phase: str, amount: int = 1) -> None:
        self._tracker.advance(phase, amount)
