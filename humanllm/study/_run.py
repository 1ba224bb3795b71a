"""Running a study: freeze the scenario, play every cell x replicate into the study's episode store, judge them.

The study folder is an ordinary episode store (the cells' episodes, with their judgements beside them), so
a study resumes where it stopped, a second writer fails at once, and `humanllm data`, `eval` and the viewer
read it like any store. `DIR/design.json` keeps the design the store was made with; a run with a design
that would mix in other cells (another scenario, factors, models or turn rules) is refused, while more
replicates or judge runs only add what is missing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from humanllm import __version__
from humanllm.agents import template_version
from humanllm.core import Episode, TokenUsage, sampling_seed, write_text_atomic
from humanllm.errors import ConfigError
from humanllm.evaluation import JudgeOptions, Tracker, find_source, judge_source
from humanllm.graphs import ModelChoice
from humanllm.graphs.episode import EpisodeContext, EpisodeParts, EpisodeState, episode_graph
from humanllm.llm import (
    ModelSettings,
    RoleModel,
    build_role_model,
    canonical_spec,
    model_template_versions,
    rate_limiter_for,
)
from humanllm.patterns import InteractionGraph
from humanllm.simulation import EpisodeStore, OnEvent, RoleModels, RunOptions, RunReport, finished_manifest, run_jobs
from humanllm.study._design import StudyDesign
from humanllm.study._plan import STUDY_TEMPLATES, CellPlan, plan_study
from humanllm.study._scenario import FrozenScenario, freeze_scenario

logger = logging.getLogger(__name__)

DESIGN_FILE = "design.json"
STUDY_SHARD = "study"
GROWABLE = ("replicates", "judge", "question", "max_cells")
"""Design fields a study may change between runs: they add episodes or judgements, never change one (the
judge's model, `models.judge`, may change too: another judge adds its own judgements)."""


class StudyRunReport(BaseModel):
    """What `study run` did."""

    folder: str
    cells: int
    replicates: int
    scenario: str = Field(default="", description="Where the frozen scenario came from.")
    measured: dict[str, list[str]] = Field(
        default_factory=dict, description="Character -> the patterns it is judged on in every cell."
    )
    episodes: RunReport
    judged: int = 0
    judge_failed: int = 0
    judge_usage: TokenUsage = Field(default_factory=TokenUsage)
    elapsed_s: float = 0.0


def study_templates() -> dict[str, str]:
    return {**{name: template_version(name) for name in STUDY_TEMPLATES}, **model_template_versions()}


def settings_for(design: StudyDesign, base: ModelSettings | None = None) -> ModelSettings:
    """The models' settings: the design's temperature and max tokens over `base` (endpoint, key, timeouts)."""
    settings = base or ModelSettings()
    updates = {
        key: value
        for key, value in (("temperature", design.temperature), ("max_tokens", design.max_tokens))
        if value is not None
    }
    return settings.model_copy(update=updates)


@dataclass(frozen=True)
class CellJob:
    """One cell x replicate: the frozen scenario, as this cell gives it, played by the episode graph."""

    plan: CellPlan
    graph: InteractionGraph
    study: str

    @property
    def id(self) -> str:
        return self.plan.id

    async def run(self, models: RoleModels) -> Episode:
        plan, spec = self.plan, self.plan.spec
        seeded = models.for_episode(sampling_seed(spec))
        context = EpisodeContext(
            character=ModelChoice.of(spec.model, seeded.character.settings),
            rules=spec.rules,
            characters=len(plan.scenario.characters),
            seed=plan.director_seed,
            guidance=spec.guidance,
        ).prebuilt(EpisodeParts(writer=seeded.writer, character=seeded.character, graph=self.graph))
        state: EpisodeState = {
            "scenario": plan.scenario,
            "patterns": plan.scenario.patterns,
            "situation": plan.scenario.situation,
        }
        result = await episode_graph().ainvoke(state, context=context)
        return Episode(
            id=plan.id,
            scenario=plan.scenario,
            conversation=result["conversation"],
            mode="agents",
            seed=plan.director_seed,
            models={"character": spec.model},
            spec=spec.model_dump(mode="json"),
            usage={"character": seeded.character.usage.usage},
            config={
                "study": self.study,
                "cell": plan.cell.label,
                "replicate": plan.replicate,
                "characters": len(plan.scenario.characters),
                "min_turns": spec.rules.min_turns,
                "max_turns": spec.rules.max_turns,
                "guidance": spec.guidance,
            },
        )


def _identity(design: StudyDesign) -> dict[str, object]:
    """What decides the study's episodes: everything but the growable fields and the judge's model."""
    data = design.model_dump(mode="json", exclude=set(GROWABLE))
    data["models"].pop("judge", None)
    return data


def check_design_file(design: StudyDesign, folder: Path) -> None:
    """Refuse a folder made by a design whose cells differ; save the design there otherwise (with the most
    replicates and judge runs any run asked for: what the folder holds)."""
    path = folder / DESIGN_FILE
    saved = design
    if path.exists():
        try:
            stored = StudyDesign.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ConfigError(f"{path} is not a study design ({exc}); is {folder} a study folder?") from exc
        before, now = _identity(stored), _identity(design)
        changed = sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))
        if changed:
            raise ConfigError(
                f"{folder} holds the study {stored.name!r} made with another {', '.join(changed)}: use another --out "
                f"(only {', '.join(GROWABLE)} may change between runs of one study)"
            )
        judge = design.judge.model_copy(update={"runs": max(design.judge.runs, stored.judge.runs)})
        saved = design.model_copy(update={"replicates": max(design.replicates, stored.replicates), "judge": judge})
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, saved.model_dump_json(indent=2) + "\n")


def read_design_file(folder: Path) -> StudyDesign:
    path = folder / DESIGN_FILE
    if not path.exists():
        raise ConfigError(
            f"{folder} is not a study folder (no {DESIGN_FILE}): run `humanllm study run DESIGN --out DIR`"
        )
    try:
        return StudyDesign.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ConfigError(f"{path} is not a study design: {exc}") from exc


def role_models(design: StudyDesign, settings: ModelSettings) -> RoleModels:
    limiter = rate_limiter_for(settings)
    return RoleModels(
        writer=build_role_model("writer", design.models.writer, settings, rate_limiter=limiter),
        character=build_role_model("character", design.models.character, settings, rate_limiter=limiter),
    )


async def prepare_study(
    design: StudyDesign, folder: Path, graph: InteractionGraph, models: RoleModels
) -> tuple[FrozenScenario, list[CellPlan]]:
    """Validate the design against the library (before any model call), freeze its scenario, plan its cells."""
    design.check_size()
    design.check_patterns(graph.library)  # an unknown pattern fails here, in one line, before anything is written
    check_design_file(design, folder)
    frozen = await freeze_scenario(design, folder, graph, models.writer)
    character = canonical_spec(design.models.character)
    plans = plan_study(
        design,
        frozen,
        graph,
        model=character,
        generation=models.character.generation(),
        templates=study_templates(),
    )
    return frozen, plans


async def play_cells(
    design: StudyDesign,
    folder: Path,
    plans: list[CellPlan],
    graph: InteractionGraph,
    models: RoleModels,
    options: RunOptions,
    on_event: OnEvent | None = None,
) -> RunReport:
    """Every planned cell episode not yet in the study's store (the store's lock is held while it runs)."""
    store = EpisodeStore.open_for_writing(folder, shard=STUDY_SHARD)
    try:
        store.update_manifest(
            {
                "humanllm": __version__,
                "study": design.name,
                "requested": len(plans),
                "requested_ids": [plan.id for plan in plans],  # `data status` counts what remains
                "options": options.model_dump(),
                "started_at": time.time(),
            }
        )
        jobs = [CellJob(plan=plan, graph=graph, study=design.name) for plan in plans]
        report = await run_jobs(store, jobs, models, options, on_event, seed=design.seed)
        store.update_manifest(finished_manifest(report))
        return report
    finally:
        store.close()


def judge_model(design: StudyDesign, settings: ModelSettings) -> RoleModel:
    """The judge, with the design's judge temperature and completion limit over the run's settings."""
    judge = design.judge
    return build_role_model(
        "judge",
        design.models.judge,
        settings.model_copy(update={"temperature": judge.temperature, "max_tokens": judge.max_tokens}),
    )


async def run_study(
    design: StudyDesign,
    folder: Path,
    graph: InteractionGraph,
    *,
    settings: ModelSettings | None = None,
    judge_settings: ModelSettings | None = None,
    options: RunOptions | None = None,
    on_event: OnEvent | None = None,
    tracker: Tracker | None = None,
) -> StudyRunReport:
    """Freeze, play and judge the whole study; a second run adds only what is missing.

    `settings` (endpoint, timeouts, threads) serve the writer and the characters, with the design's
    temperature and max tokens; `judge_settings` (default: the same endpoint) the judge, with the design's
    judge temperature and completion limit.
    """
    start = time.monotonic()
    judge_base = judge_settings or settings or ModelSettings()
    settings = settings_for(design, settings)
    models = role_models(design, settings)
    frozen, plans = await prepare_study(design, folder, graph, models)
    played = await play_cells(design, folder, plans, graph, models, options or RunOptions(), on_event)
    report = StudyRunReport(
        folder=str(folder),
        cells=len(design.cells()),
        replicates=design.replicates,
        scenario=frozen.describe(),
        measured=plans[0].spec.measure if plans else {},
        episodes=played,
    )
    if EpisodeStore.open_for_reading(folder).done:
        judge_options = JudgeOptions(runs=design.judge.runs, batch_size=design.judge.batch_size, holistic="off")
        judged = await judge_source(
            find_source(folder),
            model=judge_model(design, judge_base),
            graph=graph,
            options=judge_options,
            tracker=tracker,
        )
        report.judged, report.judge_failed, report.judge_usage = judged.judged, judged.failed, judged.usage
    report.elapsed_s = time.monotonic() - start
    return report
