"""The study's fixed scenario: taken from a stored episode or a released record, or written once, then frozen.

The frozen scenario lives in `DIR/scenario.json` with the source it came from. A later run of the same study
reads it back (the writer is never asked twice); a design whose scenario source changed is refused, since
its cells would no longer share one scene.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.director import TurnRules
from humanllm.core import Episode, Scenario, write_text_atomic
from humanllm.errors import ConfigError, DataError
from humanllm.evaluation import find_source
from humanllm.graphs import ModelChoice
from humanllm.graphs.scenario import ScenarioContext, ScenarioParts, scenario_graph
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph
from humanllm.simulation import import_released
from humanllm.study._design import ScenarioSource, StudyDesign
from humanllm.study._roles import slot_of

SCENARIO_FILE = "scenario.json"
DEFAULT_TURNS = TurnRules(min_turns=4, max_turns=8)


class FrozenScenario(BaseModel):
    """The scene every cell plays, with where it came from and the turn bounds its source had."""

    model_config = ConfigDict(extra="forbid")

    source: ScenarioSource
    scenario: Scenario
    source_episode: str | None = Field(default=None, description="Id of the episode it was taken from.")
    rules: TurnRules | None = Field(default=None, description="The source episode's turn bounds, when known.")

    def describe(self) -> str:
        """Where the scene came from and who is in it, in one line."""
        source = self.source
        if source.episode is not None:
            where = f"episode {self.source_episode} of {source.episode}"
        elif source.released is not None:
            where = f"record {source.index} of {source.released}"
        else:
            where = "written once by the writer model"
        cast = ", ".join(
            [f"{self.scenario.protagonist.name} (protagonist)", *(p.name for p in self.scenario.supporting)]
        )
        return f"{where}; cast: {cast}"


def _rules_of(episode: Episode) -> TurnRules | None:
    low, high = episode.config.get("min_turns"), episode.config.get("max_turns")
    if isinstance(low, int) and isinstance(high, int) and 2 <= low <= high:
        return TurnRules(min_turns=low, max_turns=high)
    turns = len(episode.conversation.turns)
    return TurnRules(min_turns=max(2, turns), max_turns=max(2, turns)) if turns else None


def _from_store(source: ScenarioSource) -> FrozenScenario:
    assert source.episode is not None
    if not source.episode.exists():
        raise ConfigError(f"scenario.episode: {source.episode} does not exist: give a store folder or JSONL file")
    wanted = source.id or ""
    found = [e for e, _split in find_source(source.episode).episodes() if e.id.startswith(wanted)]
    if not found:
        raise ConfigError(f"scenario: no episode {wanted!r} in {source.episode}: `humanllm data status` lists them")
    if len(found) > 1 and len({e.id for e in found}) > 1:
        ids = ", ".join(e.id for e in found[:3])
        raise ConfigError(
            f"scenario: {len(found)} episodes in {source.episode} match {wanted!r} ({ids}, ...): "
            "give scenario.id (a longer prefix)"
        )
    episode = found[0]
    return FrozenScenario(source=source, scenario=episode.scenario, source_episode=episode.id, rules=_rules_of(episode))


def _from_released(source: ScenarioSource) -> FrozenScenario:
    assert source.released is not None
    if not source.released.exists():
        raise ConfigError(f"scenario.released: {source.released} does not exist")
    episodes, _report = import_released([source.released])
    if source.index >= len(episodes):
        raise ConfigError(
            f"scenario.index {source.index} is past the {len(episodes)} readable records of {source.released}"
        )
    episode = episodes[source.index]
    return FrozenScenario(source=source, scenario=episode.scenario, source_episode=episode.id, rules=_rules_of(episode))


async def _written(design: StudyDesign, graph: InteractionGraph, writer: RoleModel) -> FrozenScenario:
    """The writer writes the scene once with every factor given (level 1) to the character it names."""
    spec = design.scenario.write
    assert spec is not None
    slots: list[list[str]] = [[] for _ in range(spec.characters)]
    placements = [(p.pattern, p.character) for p in spec.fixed] + [(f.pattern, f.character) for f in design.factors]
    for pattern, character in placements:
        slots[slot_of(character, spec.characters)].append(graph.library.get(pattern).name)
    patterns = [name for slot in slots for name in slot]
    result = await scenario_graph().ainvoke(
        {"patterns": patterns, "situation": spec.situation or "sociality", "assignment": slots},
        context=ScenarioContext(
            writer=ModelChoice.of(str(writer.spec), writer.settings), characters=spec.characters, seed=spec.seed
        ).prebuilt(ScenarioParts(writer=writer, graph=graph)),
    )
    return FrozenScenario(source=design.scenario, scenario=result["scenario"])


def read_frozen(folder: Path) -> FrozenScenario | None:
    path = folder / SCENARIO_FILE
    if not path.exists():
        return None
    try:
        return FrozenScenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not a frozen study scenario ({exc}); move it away and run again") from exc


async def freeze_scenario(
    design: StudyDesign, folder: Path, graph: InteractionGraph, writer: RoleModel | None
) -> FrozenScenario:
    """The study's scenario: read back from `folder`, or taken / written now and saved there (atomically)."""
    frozen = read_frozen(folder)
    if frozen is not None:
        if frozen.source != design.scenario:
            raise ConfigError(
                f"{folder} holds a study frozen on another scenario source ({folder / SCENARIO_FILE}): use another "
                "--out, or restore the design's scenario section"
            )
        return frozen
    source = design.scenario
    if source.episode is not None:
        frozen = _from_store(source)
    elif source.released is not None:
        frozen = _from_released(source)
    else:
        if writer is None:
            raise ConfigError("scenario.write needs a writer model (models.writer)")
        frozen = await _written(design, graph, writer)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / SCENARIO_FILE, frozen.model_dump_json(indent=2) + "\n")
    return frozen
