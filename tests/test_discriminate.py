"""`patterns discriminate`: the confusion matrix and item discrimination, by hand and end to end with fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.errors import ConfigError, DataError
from humanllm.evaluation import family_of
from humanllm.evaluation._discriminate import family_items, summarise
from humanllm.patterns import load_library


def test_matrix_and_item_discrimination_by_hand() -> None:
    library = load_library()
    quiet, shy = library.resolve(["quiet", "shy"])
    items = family_items([quiet, shy])
    q1, q2 = [i.id for i in items if i.pattern == "quiet"][:2]
    s1 = next(i.id for i in items if i.pattern == "shy")
    plays: dict[str, list[Episode]] = {"quiet": [], "shy": []}
    verdicts = {
        ("quiet", q1): [1.0, 1.0],  # quiet's item 1: +1 on quiet plays, 0 on shy plays -> discriminates
        ("shy", q1): [0.0, 0.0],
        ("quiet", q2): [0.0, 1.0],  # item 2: 0.5 on quiet plays, 1.0 on shy plays -> shared with shy
        ("shy", q2): [1.0, 1.0],
        ("shy", s1): [1.0, -1.0],  # shy's item 1: 0 on shy plays, never scored on quiet plays
    }
    matrix, table = summarise([quiet, shy], plays, verdicts)
    assert matrix["quiet"]["quiet"] == pytest.approx(100 * (1 + 1 + 0 + 1) / 4)
    assert matrix["shy"]["quiet"] == pytest.approx(100 * (0 + 0 + 1 + 1) / 4)
    assert matrix["shy"]["shy"] == 0.0 and matrix["quiet"]["shy"] is None
    first, second = table[0], table[1]
    assert first.own == 1.0 and first.siblings == {"shy": 0.0} and first.discriminates is True
    assert second.own == 0.5 and second.shared_with == ["shy"] and second.discriminates is False
    shy_first = next(t for t in table if t.pattern == "shy")
    assert shy_first.own == 0.0 and shy_first.siblings == {"quiet": None} and shy_first.discriminates is None
    assert len(table) == len(quiet.checklist) + len(shy.checklist)


def test_one_name_expands_to_its_contrast_siblings_or_fails_in_one_line() -> None:
    library = load_library()
    assert [c.name for c in family_of(library, ["quiet", "shy"])] == ["quiet", "shy"]
    with pytest.raises(ConfigError, match="names no siblings"):
        family_of(library, ["cold"])  # no rewritten family: its card names no siblings


def test_cli_plays_and_judges_every_member_on_every_checklist(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        register(),
        [
            "patterns",
            "discriminate",
            "quiet,shy,talkative",
            "--model",
            "fake",
            "--judge",
            "fake",
            "--replicates",
            "2",
            "--turns",
            "4-5",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["members"] == ["quiet", "shy", "talkative"]
    assert len(report["episodes"]) == 6 and len(set(report["episodes"])) == 6
    assert set(report["matrix"]) == {"quiet", "shy", "talkative"}
    assert all(set(row) == {"quiet", "shy", "talkative"} for row in report["matrix"].values())
    library = load_library()
    assert len(report["items"]) == sum(len(library.get(n).checklist) for n in report["members"])


def test_a_play_whose_scenario_lost_the_carrier_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from humanllm.evaluation import _discriminate
    from humanllm.llm import build_role_model
    from humanllm.patterns import load_graph
    from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig
    from humanllm.testing import register_fakes

    register_fakes()
    real = _discriminate.run_episode

    async def losing(*args, **kwargs):  # type: ignore[no-untyped-def]
        episode = await real(*args, **kwargs)
        episode.scenario.char2pattern.clear()
        return episode

    monkeypatch.setattr(_discriminate, "run_episode", losing)
    graph = load_graph(load_library())
    specs = RoleSpecs(writer="fake", character="fake")
    with pytest.raises(DataError, match="no character carries"):
        asyncio.run(
            _discriminate.discriminate(
                graph.library.resolve(["quiet", "shy"]),
                graph,
                players=RoleModels.build(SimulationConfig(models=specs)),
                player_specs=specs,
                judge=build_role_model("judge", "fake"),
                replicates=1,
            )
        )
