"""Running a fork: play its continuations into an episode store, then judge them and the original turn by turn.

Layout of a fork folder (DIR): `episodes-fork.jsonl` (the continuations, ordinary episodes whose spec is a
`ForkSpec`), `judgements-*.jsonl` (the judge's verdicts on every truncated transcript), `manifest.json`
(what was forked), and the report, `fork.csv` and `fork.md`. A truncated transcript is judged as an episode
of its own with a derived id, `<id>@<t>` (turns 1..t); the original is judged under `<source>.<hash>@<t>`,
the hash naming the items it is judged on, so forks of one episode that measure other items never share
its judgements. Everything is keyed by spec: a rerun adds only what is missing; a folder that holds
another fork is refused, so one report never mixes two.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from humanllm.agents.judge import prompt_version
from humanllm.core import Conversation, Episode, TokenUsage, read_json_file, spec_id
from humanllm.errors import ConfigError, DataError
from humanllm.evaluation import (
    JudgementStore,
    JudgeOptions,
    JudgeRunReport,
    SilentTracker,
    Tracker,
    find_source,
    judge_episodes,
)
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph
from humanllm.simulation import EpisodeStore, ForkSpec, RoleModels, RunOptions, RunReport, run_jobs
from humanllm.study._fork import ForkInputError, describe_spec, fork_group
from humanllm.study._fork_job import ForkJob
from humanllm.study._fork_report import ForkRow, fork_rows, write_fork_report

logger = logging.getLogger(__name__)

CONTINUE_PHASE = "continuing"
MANIFEST_KEY = "fork"
SHARD = "fork"


class ForkResult(BaseModel):
    """What `fork_episode` did and where it put it."""

    source: str = Field(description="The forked episode.")
    at_turn: int
    change: str = Field(description="The change, in words.")
    out: Path
    original: str = Field(description="The id the original's truncated transcripts are judged under (+ @t).")
    continuations: list[str] = Field(description="Ids of the continuations stored (one per replicate that finished).")
    turns: list[int] = Field(description="The turns judged (t: the transcript up to turn t).")
    run: RunReport
    judging: JudgeRunReport
    files: list[Path] = Field(description="The report files.")
    diverging: list[ForkRow] = Field(description="The items whose continuations end away from the original.")

    @property
    def failed(self) -> int:
        return self.run.failed + self.judging.failed


def find_episode(reference: str, data: Path | None) -> Episode:
    """The episode to fork: `reference` is an id (or a unique start of one) in `data` (a store folder, split
    folder or JSONL file); without `data`, a file holding one episode (`humanllm simulate` writes one as JSON)."""
    if data is None:
        path = Path(reference)
        if not path.is_file():
            raise ForkInputError(
                f"{reference!r} is no file: give --data (a store folder, split folder or JSONL file) to find it in",
                "--data",
            )
        if path.suffix == ".json":
            try:
                return Episode.model_validate(read_json_file(path, what="episode"))
            except DataError as exc:
                raise ForkInputError(str(exc), "EPISODE") from exc
            except ValidationError as exc:
                raise ForkInputError(f"{path} is not an episode ({exc.errors()[0]['msg']})", "EPISODE") from exc
        found = [episode for episode, _split in _episodes(path, "EPISODE")]
        if len(found) != 1:
            raise ForkInputError(f"{path} holds {len(found)} episodes: give --data {path} and one id", "EPISODE")
        return found[0]
    if not data.exists():
        raise ForkInputError(f"{data} does not exist: give the store folder, split folder or JSONL file", "--data")
    matches: dict[str, Episode] = {}
    for episode, _split in _episodes(data, "--data"):
        if episode.id == reference:
            return episode
        if episode.id.startswith(reference) and len(matches) < 3:
            matches[episode.id] = episode
    if len(matches) == 1:
        return next(iter(matches.values()))
    if not matches:
        raise ForkInputError(f"no episode {reference!r} in {data}: give the id of one of its episodes", "EPISODE")
    raise ForkInputError(
        f"{reference!r} starts several episodes in {data} ({', '.join(matches)}, ...): give more of the id", "EPISODE"
    )


def _episodes(path: Path, option: str) -> Iterator[tuple[Episode, str]]:
    try:
        yield from find_source(path).episodes()
    except DataError as exc:
        raise ForkInputError(str(exc), option) from exc


def judged_turns(first: int, last: int, every: int = 1) -> list[int]:
    """first, first + every, ... and always `last`: the transcript lengths judged."""
    if last < first:
        return []
    turns = list(range(first, last + 1, max(1, every)))
    return turns if turns[-1] == last else [*turns, last]


def original_id(source: str, measure: dict[str, list[str]]) -> str:
    """The id the original is judged under: the source id and a hash of the items it is judged on."""
    return f"{source}.{spec_id({'kind': 'fork-original', 'source': source, 'measure': measure})[:8]}"


def truncated(episode: Episode, turns: int, *, base: str, measure: dict[str, list[str]]) -> Episode:
    """The episode's transcript up to turn `turns`, as an episode `<base>@<turns>` judged on `measure`."""
    conversation = Conversation(turns=list(episode.conversation.turns[:turns]), ended_by="truncated")
    spec = {**(episode.spec or {}), "measure": measure}
    return episode.model_copy(update={"id": f"{base}@{turns}", "conversation": conversation, "spec": spec})


def _copies(episode: Episode, base: str, measure: dict[str, list[str]], first: int, every: int) -> list[Episode]:
    last = len(episode.conversation.turns)
    return [truncated(episode, t, base=base, measure=measure) for t in judged_turns(first, last, every)]


def check_fork_folder(out: Path, spec: ForkSpec) -> None:
    """Refuse (`ForkInputError` on --out) a folder that holds another fork, or episodes that are no fork's."""
    store = EpisodeStore.open_for_reading(out)
    held = store.read_manifest().get(MANIFEST_KEY)
    if not isinstance(held, dict):
        if store.done:
            raise ForkInputError(
                f"{out} holds {len(store.done)} episodes that are not a fork's: give an empty or new folder", "--out"
            )
        return
    if held.get("group") != fork_group(spec):
        raise ForkInputError(
            f"{out} holds another fork (of episode {held.get('source')} at turn {held.get('at_turn')}, "
            f"{held.get('change')}): give another folder for the fork of {spec.source} at turn {spec.at_turn}",
            "--out",
        )


async def fork_episode(
    source: Episode,
    specs: Sequence[ForkSpec],
    *,
    out: Path,
    character: RoleModel,
    judge: RoleModel,
    graph: InteractionGraph,
    judge_options: JudgeOptions,
    run_options: RunOptions | None = None,
    judge_every: int = 1,
    data: Path | None = None,
    tracker: Tracker | None = None,
) -> ForkResult:
    """Play every replicate not yet in `out`, judge what is missing, and write `fork.csv` and `fork.md`."""
    if not specs:
        raise ConfigError("a fork needs at least one replicate")
    tracker = tracker or SilentTracker()
    first = specs[0]
    jobs = [ForkJob(spec, source, graph.library) for spec in specs]
    ids = [job.id for job in jobs]
    with EpisodeStore.open_for_writing(out, shard=SHARD) as store:
        check_fork_folder(out, first)  # again under the lock: another run may have written it since
        original = original_id(source.id, first.measure)
        store.update_manifest(
            {
                MANIFEST_KEY: {
                    "group": fork_group(first),
                    "source": source.id,
                    "data": str(data) if data is not None else None,
                    "at_turn": first.at_turn,
                    "change": describe_spec(first),
                    "model": first.model,
                    "replicates": len(specs),
                    "original": original,
                    "measure": first.measure,
                }
            }
        )
        tracker.start(CONTINUE_PHASE, total=len(jobs), done=sum(i in store.done for i in ids))

        def on_event(kind: str, _id: str, _usage: TokenUsage | None) -> None:
            if kind in ("done", "failed"):
                tracker.advance(CONTINUE_PHASE)

        models = RoleModels(writer=character, character=character)
        run = await run_jobs(store, jobs, models, run_options or RunOptions(), on_event)
        wanted = set(ids)
        continuations = sorted((e for e in store.iter_episodes() if e.id in wanted), key=lambda e: ids.index(e.id))
    copies = _copies(source, original, first.measure, first.at_turn, judge_every)
    for episode in continuations:
        copies += _copies(episode, episode.id, first.measure, first.at_turn, judge_every)
    with JudgementStore(out, shard=SHARD) as judgements:
        judging = await judge_episodes(
            copies, judgements, model=judge, library=graph.library, options=judge_options, tracker=tracker
        )
        stored = judgements.select(
            judge=str(judge.spec),
            prompt_version=prompt_version(),
            batch_size=judge_options.batch_size,
            runs=judge_options.runs,
            episode_ids={copy.id for copy in copies},
            generation=judge.generation(),
            holistic=judge_options.holistic,
        )
    rows = fork_rows(
        stored,
        original=original,
        continuations=[e.id for e in continuations],
        na_as_zero=judge_options.na_as_zero,
        characters=list(first.measure),
    )
    files = write_fork_report(
        out,
        rows,
        source=source.id,
        at_turn=first.at_turn,
        change=describe_spec(first),
        continuations=[e.id for e in continuations],
        original=original,
        judge=str(judge.spec),
    )
    return ForkResult(
        source=source.id,
        at_turn=first.at_turn,
        change=describe_spec(first),
        out=out,
        original=original,
        continuations=[e.id for e in continuations],
        turns=sorted({int(c.id.rsplit("@", 1)[1]) for c in copies}),
        run=run,
        judging=judging,
        files=files,
        diverging=[row for row in rows if row.turn is None and row.diverges],
    )
