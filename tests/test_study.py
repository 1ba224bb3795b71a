"""Studies end to end with fakes: design -> frozen scenario -> cells -> judgements -> tidy table; resume; bad designs.

The fakes are wired so the manipulation is visible: a character speaks a code for each pattern whose
guidance its system prompt holds, and the judge scores a pattern's items +1 exactly when the judged
character spoke that pattern's code. So a factor's effect on its own pattern is 1 by construction, and
only a pipeline that gives each cell's agents the right patterns and judges every pattern in every cell
shows it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import BaseMessage

from humanllm.errors import ConfigError, UnknownPatternError
from humanllm.evaluation import JudgementStore
from humanllm.llm import json_schema_of
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import EpisodeStore
from humanllm.study import DesignKind, Study, StudyDesign, read_design, read_tidy_csv
from humanllm.testing import register_fakes, role_router

LIBRARY = load_library()
GRAPH = load_graph(LIBRARY)
STUDIED = ("sunk cost fallacy", "anxious", "assertive")


def code(pattern_id: str) -> str:
    return "K" + hashlib.sha256(pattern_id.encode()).hexdigest()[:6]


def _given_codes(system: str) -> list[str]:
    """Codes of the studied patterns whose first marker the character's system prompt holds."""
    return [code(card.id) for card in LIBRARY.resolve(list(STUDIED)) if card.markers.thought[0] in system]


def marking_character(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    user = messages[-1].text
    closing = "last turn" in user
    codes = " ".join(_given_codes(messages[0].text)) or "none"
    return json.dumps(
        {
            "thought": f"I keep weighing it ({codes}).",
            "action": "leans back" if not closing else "stands up to leave",
            "speech": "Let's wrap this up, goodbye." if closing else f"I see it differently, codes {codes}.",
        }
    )


def _judged_lines(system: str, character: str) -> str:
    """The judged character's own lines in the judge's transcript (a line starts with its name)."""
    return "\n".join(line for line in system.splitlines() if line.lstrip("0123456789. ").startswith(character))


def code_judge(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    schema = json_schema_of(kwargs.get("response_format")) or {}
    system = messages[0].text
    match = re.search(r"## The character you judge: (.+)", system)
    assert match is not None, "the judge's prompt names the judged character"
    lines = _judged_lines(system, match.group(1).strip())
    verdicts = {}
    for item in schema.get("properties", {}):
        parts = item.split(".")
        score = 1 if parts[0] == "ipe" and code(parts[1]) in lines else 0
        verdicts[item] = {"turns": [1], "quote": "codes", "reason": "The codes show it.", "score": score}
    return json.dumps(verdicts)


@pytest.fixture
def marking_fakes() -> Iterator[None]:
    register_fakes(role_router().with_route("TurnReply", marking_character).with_route("JudgeVerdicts", code_judge))
    yield
    register_fakes()


def design_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "anx",
        "question": "Does anxiety amplify the sunk-cost fallacy when a friend pushes back?",
        "scenario": {
            "write": {
                "situation": "a bakery after closing",
                "characters": 2,
                "fixed": [{"pattern": "sunk cost fallacy", "character": "protagonist"}],
            }
        },
        "factors": [
            {"name": "anxiety", "pattern": "anxious", "character": "protagonist"},
            {"name": "pushback", "pattern": "assertive", "character": "supporting"},
        ],
        "replicates": 2,
        "models": {"character": "fake", "writer": "fake", "judge": "fake"},
        "turns": {"min": 4, "max": 4},
    }
    base.update(changes)
    return base


def write_design(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(design_dict(**changes)), encoding="utf-8")
    return path


# --- the design ---------------------------------------------------------------------------------------
def test_cells_of_each_design_kind() -> None:
    design = StudyDesign.model_validate(design_dict())
    assert [c.label for c in design.cells()] == [
        "anxiety=0 pushback=0",
        "anxiety=1 pushback=0",
        "anxiety=0 pushback=1",
        "anxiety=1 pushback=1",
    ]
    loo = design.model_copy(update={"design": DesignKind.LEAVE_ONE_OUT})
    assert [c.label for c in loo.cells()] == ["anxiety=1 pushback=1", "anxiety=0 pushback=1", "anxiety=1 pushback=0"]
    oat = design.model_copy(update={"design": DesignKind.ONE_AT_A_TIME})
    assert [c.label for c in oat.cells()] == ["anxiety=0 pushback=0", "anxiety=1 pushback=0", "anxiety=0 pushback=1"]


def test_bad_design_files_fail_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"factors\.0\.colour: Extra inputs are not permitted"):
        read_design(write_design(tmp_path, factors=[{"pattern": "anxious", "colour": "red"}]))
    with pytest.raises(ConfigError, match="exactly one of episode, released or write"):
        read_design(write_design(tmp_path, scenario={}))
    with pytest.raises(ConfigError, match="is not valid YAML"):
        (tmp_path / "bad.yaml").write_text("name: [unclosed", encoding="utf-8")
        read_design(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="no design file"):
        read_design(tmp_path / "missing.yaml")
    many = [{"pattern": p} for p in ("anxious", "assertive", "critical", "nervous", "cold")]
    design = read_design(write_design(tmp_path, factors=many, max_cells=16))
    with pytest.raises(ConfigError, match="has 32 cells, above the limit of 16"):
        design.check_size()


def test_unknown_pattern_and_excluded_pair_fail_before_any_episode(tmp_path: Path, marking_fakes: None) -> None:
    unknown = read_design(write_design(tmp_path, factors=[{"pattern": "anxiuos"}]))
    with pytest.raises(UnknownPatternError, match="unknown pattern 'anxiuos'; did you mean 'anxious'"):
        Study(unknown, tmp_path / "s1", graph=GRAPH).run()
    assert not (tmp_path / "s1").exists()
    # assertive and unassertive are opposite poles of one aspect: one character cannot carry both
    clash = read_design(
        write_design(tmp_path, factors=[{"pattern": "assertive"}, {"pattern": "unassertive"}], replicates=1)
    )
    with pytest.raises(ConfigError, match=r"cell \[assertive=1 unassertive=1\] would give .* both"):
        Study(clash, tmp_path / "s2", graph=GRAPH).run()
    assert not list((tmp_path / "s2").glob("episodes-*.jsonl"))


# --- end to end -----------------------------------------------------------------------------------------
def test_study_runs_judges_every_pattern_in_every_cell_and_resumes(tmp_path: Path, marking_fakes: None) -> None:
    design = read_design(write_design(tmp_path))
    folder = tmp_path / "study"
    report = Study(design, folder, graph=GRAPH).run()
    assert (report.cells, report.replicates, report.episodes.done, report.episodes.failed) == (4, 2, 8, 0)

    store = EpisodeStore.open_for_reading(folder)
    episodes = list(store.iter_episodes())
    assert len({e.id for e in episodes}) == 8
    assert set(store.read_manifest()["requested_ids"]) == {e.id for e in episodes}  # `data status`: 0 remaining
    frozen = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))["scenario"]
    protagonist, friend = frozen["protagonist"]["name"], frozen["supporting"][0]["name"]
    for episode in episodes:
        # the scene is the frozen one in every cell: only who carries what changes
        assert episode.scenario.background == frozen["background"]
        assert episode.scenario.checklists == [
            type(episode.scenario.checklists[0]).model_validate(c) for c in frozen["checklists"]
        ]
        levels = episode.spec["levels"]  # type: ignore[index]
        given = episode.scenario.char2pattern
        assert ("anxious" in given[protagonist]) == bool(levels["anxiety"])
        assert ("assertive" in given[friend]) == bool(levels["pushback"])
        assert "sunk cost fallacy" in given[protagonist]
        assert episode.spec["measure"] == {  # type: ignore[index]
            protagonist: ["sunk cost fallacy", "anxious"],
            friend: ["assertive"],
        }

    judgements = list(JudgementStore.open_for_reading(folder))
    assert len(judgements) == 8 * 2  # both characters of every episode, even where the friend carries nothing
    for judgement in judgements:
        patterns = {i.pattern for i in judgement.items if i.pattern}
        expected = {"sunk cost fallacy", "anxious"} if judgement.character == protagonist else {"assertive"}
        assert patterns == expected

    table = Study(design, folder, graph=GRAPH).results()
    ipe = table[table.metric == "ipe"]
    by_cell = ipe.groupby(["character", "pattern", "anxiety", "pushback"])["score"].mean()
    # the manipulation check by construction: a pattern is expressed exactly where it was given
    assert by_cell[(protagonist, "anxious", 1, 0)] == 1.0 and by_cell[(protagonist, "anxious", 0, 0)] == 0.0
    assert by_cell[(friend, "assertive", 0, 1)] == 1.0 and by_cell[(friend, "assertive", 0, 0)] == 0.0
    assert (by_cell.xs("sunk cost fallacy", level="pattern") == 1.0).all()
    assert set(table.columns[:4]) == {"study", "cell", "anxiety", "pushback"}
    assert set(table.status) == {"scored"}

    analysis = Study(design, folder, graph=GRAPH).analyse(n_boot=200, n_perm=200)
    effect = {(e.name, e.outcome): e for e in analysis.effects}
    anxious_on_anxious = effect[("anxiety", f"{protagonist}: anxious")]
    assert anxious_on_anxious.estimate == 1.0 and anxious_on_anxious.manipulates
    assert effect[("pushback", f"{friend}: assertive")].estimate == 1.0
    assert effect[("anxiety", f"{protagonist}: sunk cost fallacy")].estimate == 0.0  # no spill-over in the fakes
    assert effect[("anxiety x pushback", f"{protagonist}: anxious")].estimate == 0.0

    again = Study(design, folder, graph=GRAPH).run()
    assert (again.episodes.done, again.episodes.already_done, again.judged) == (0, 8, 0)
    assert len(list(JudgementStore.open_for_reading(folder))) == 16

    more = Study(design.model_copy(update={"replicates": 3}), folder, graph=GRAPH).run()
    assert (more.episodes.done, more.episodes.already_done) == (4, 8)  # one more replicate per cell, nothing else

    files = Study.open(folder, graph=GRAPH).report(n_boot=200, n_perm=200)  # the folder's own design: 3 now
    assert files.report_html.exists() and files.summary_md.exists() and files.tidy_parquet.exists()
    assert len(read_tidy_csv(files.tidy_csv)) == len(Study.open(folder).results())


def test_a_folder_of_another_design_is_refused(tmp_path: Path, marking_fakes: None) -> None:
    folder = tmp_path / "study"
    Study(read_design(write_design(tmp_path, replicates=1)), folder, graph=GRAPH).run()
    other = read_design(write_design(tmp_path, replicates=1, turns={"min": 4, "max": 6}))
    with pytest.raises(ConfigError, match="made with another turns: use another --out"):
        Study(other, folder, graph=GRAPH).run()


def test_study_on_a_stored_episode_keeps_its_scene(tmp_path: Path, marking_fakes: None) -> None:
    from humanllm.simulation import SimulationConfig, simulate

    config = SimulationConfig.model_validate(
        {"patterns": ["sunk cost fallacy", "anxious"], "models": {"writer": "fake", "character": "fake"}, "seed": 3}
    )
    episode = simulate(config, GRAPH)
    store_dir = tmp_path / "store"
    with EpisodeStore.open_for_writing(store_dir) as store:
        store.add_episode(episode)
    carrier = next(n for n, held in episode.scenario.char2pattern.items() if "anxious" in held)
    design = read_design(
        write_design(
            tmp_path,
            scenario={"episode": "store", "id": episode.id[:6]},
            factors=[{"pattern": "anxious", "character": carrier.upper()}],  # names match in any case
            replicates=1,
        )
    )
    folder = tmp_path / "study"
    Study(design, folder, graph=GRAPH).run()
    cells = {e.spec["levels"]["anxious"]: e for e in EpisodeStore.open_for_reading(folder).iter_episodes()}  # type: ignore[index]
    assert "anxious" in cells[1].scenario.char2pattern[carrier]
    assert "anxious" not in cells[0].scenario.char2pattern[carrier]
    assert cells[0].scenario.background == episode.scenario.background
