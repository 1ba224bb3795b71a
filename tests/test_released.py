"""The authors' released split files, both ways (issue 15).

The fixtures in tests/fixtures/released/split are hand-written to look like what the authors' scripts
write: gen_scenario_conversation_multi_patterns.py (decorated profile names, clean `char`, a
one-pattern bundle or a bundle name as a string), gen_scenario_conversation.py (a conversation as
one `Name: ...` text), generate_pattern_distribution_and_checklist.py (char2pattern and checklist
keys taken from the profile names), split_dataset.py (one JSON array per split, indent 2, and a
metadata.json beside them) and the variation fields their README lists.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from humanllm.agents.judge import judged_characters
from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.evaluation import find_source
from humanllm.simulation import EpisodeStore, episode_to_released, export_released, import_released

SPLIT = Path(__file__).parent / "fixtures" / "released" / "split"
runner = CliRunner()


def _records(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((SPLIT / name).read_text(encoding="utf-8"))
    return records


def _import(*paths: Path) -> list[Episode]:
    episodes, report = import_released(list(paths))
    assert not report.skipped, report.skipped
    return episodes


def _invoke(*args: str) -> str:
    result = runner.invoke(register(), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_pattern_written_as_one_string_is_one_pattern_and_data_split_runs(tmp_path: Path) -> None:
    (single,) = _import(SPLIT / "id_eval.json")
    assert single.scenario.patterns == ["optimism bias"]  # was ['o', 'p', 't', ...]
    (bundle,) = _import(SPLIT / "ood_eval.json")  # the bundle's "a + b" name, as their fallback writes it
    assert bundle.scenario.patterns == ["bystander effect", "careful"]
    assert bundle.scenario.char2pattern == {"Nina Rossi": ["bystander effect", "careful"]}  # pattern_distribution
    _invoke("data", "import", str(SPLIT), "--out", str(tmp_path / "store"))
    store = str(tmp_path / "store")
    ood = "bystander effect,careful"
    plan = json.loads(_invoke("data", "split", store, "--ood", ood, "--eval-size", "1", "--json"))
    assert plan["counts"] == {"train": 2, "id_eval": 1, "ood_eval": 1, "mixed_eval": 0}


def test_decorated_names_are_read_as_one_canonical_name_and_that_character_is_judged(tmp_path: Path) -> None:
    episodes, report = import_released([SPLIT / "train.json"])
    scenario = episodes[0].scenario
    assert [p.name for p in scenario.characters] == ["Sarah Chen", "Marcus Webb", "Priya Nair"]
    assert scenario.protagonist.heading == "**Sarah Chen**"
    assert scenario.char2pattern == {
        "Sarah Chen": ["sunk cost fallacy", "anxious"],
        "Marcus Webb": ["talkative"],
        "Priya Nair": [],
    }
    assert [c.character for c in scenario.checklists] == ["Sarah Chen", "Marcus Webb"]
    assert scenario.variation is not None and [c.character for c in scenario.variation.checklists] == ["Sarah Chen"]
    assert judged_characters(episodes[0]) == ["Sarah Chen", "Marcus Webb"]
    assert report.renamed["**Sarah Chen**"] == "Sarah Chen"
    assert report.renamed["Marcus Webb (52, site manager)"] == "Marcus Webb"
    assert not report.unmatched
    output = _invoke("data", "import", str(SPLIT / "train.json"), "--out", str(tmp_path / "store"))
    assert "'Marcus Webb (52, site manager)' -> 'Marcus Webb'" in output


def test_a_conversation_written_as_one_text_is_read_as_the_authors_converter_reads_it() -> None:
    (episode,) = _import(SPLIT / "id_eval.json")
    turns = episode.conversation.turns
    assert [t.speaker for t in turns] == ["Anna Schulz", "Tom Becker", "Anna Schulz", "Tom Becker"]
    assert turns[0].speech == "Friday? Last time took three weeks.\nNote: I mean the billing migration."
    assert turns[1].thought == "She always doubts me." and turns[1].speech.endswith("now: we have scripts.")
    assert episode.scenario.char2pattern == {"Tom Becker": ["optimism bias"]}


def _broken(tmp_path: Path) -> Path:
    good = _records("train.json")[1]
    variants: list[Any] = [
        {**good, "conversation": 42},
        {**good, "conversation": "Nobody: hello\nStill nobody."},
        {**good, "conversation": ["(nods) Fine."]},
        {**good, "conversation": [{"char": "Zed", "content": "hi"}]},
        {key: value for key, value in good.items() if key != "pattern"},
        {**good, "scenario": "A garden at dusk."},
        {**good, "conversation": [{"char": "Leo Martin", "content": {"speech": "hi"}}]},
        good,
    ]
    path = tmp_path / "train.json"
    path.write_text(json.dumps(variants))
    return path


def test_a_record_that_cannot_be_read_is_reported_with_its_index_and_never_stops_the_import(tmp_path: Path) -> None:
    path = _broken(tmp_path)
    episodes, report = import_released([path])
    assert report.read == 8 and report.imported == 1 and len(episodes) == 1
    why = {where.removeprefix(str(path)): reason for where, reason in report.skipped.items()}
    assert why == {
        "[0]": "conversation is a number, not a list of turns or a text",
        "[1]": "no line of the conversation text starts with a cast member's name ['Leo Martin', 'Dr. Ruth Okafor']",
        "[2]": "conversation[0] is a text, not an object with char and content",
        "[3]": "conversation[0] speaker 'Zed' is not in the cast ['Leo Martin', 'Dr. Ruth Okafor']",
        "[4]": "pattern is missing or empty",
        "[5]": "scenario is a text, not an object",
        "[6]": "conversation[0].content is an object, not a text",
    }
    output = _invoke("data", "import", str(path), "--out", str(tmp_path / "store"))
    assert "imported 1" in output and "skipped" in output and f"{path}[0]" in output


def test_variation_fields_are_kept_as_structured_data() -> None:
    source = _records("train.json")[0]
    (episode, _) = _import(SPLIT / "train.json")
    varied = episode.scenario.variation
    assert varied is not None
    assert varied.new_factor_settings == source["new_factor_settings"]  # a dict stays a dict
    assert varied.protagonist is not None and varied.protagonist.name == "Sarah Chen"
    assert [p.name for p in varied.supporting] == ["Marcus Webb"] and varied.supporting_names == ["Marcus Webb"]
    written = episode_to_released(episode)
    for key in ("factor_analysis", "new_factor_settings", "scenario_variation", "analysis_variation"):
        assert written[key] == source[key], key
    assert written["supporting_characters_variation"] == source["supporting_characters_variation"]


def test_an_exported_record_is_the_source_record_with_names_made_canonical() -> None:
    source = _records("train.json")[0]
    (episode, _) = _import(SPLIT / "train.json")
    canonical = {
        "**Sarah Chen**": "Sarah Chen",
        "Marcus Webb (52, site manager)": "Marcus Webb",
        "**Priya Nair**": "Priya Nair",
    }
    expected = dict(source)
    for key in ("char2pattern", "conversation_checklist", "conversation_checklist_variation"):
        expected[key] = {canonical[name]: items for name, items in source[key].items()}
    assert episode_to_released(episode) == expected  # conversation contents as written: quotes, newlines, order


def test_split_labels_are_kept_and_export_writes_one_json_array_per_split(tmp_path: Path) -> None:
    episodes, report = import_released([SPLIT])  # the folder: its split files, not metadata.json
    assert report.splits == {"train": 2, "id_eval": 1, "ood_eval": 1} and report.read == 4
    assert [e.config["split"] for e in episodes] == ["train", "train", "id_eval", "ood_eval"]
    store = tmp_path / "store"
    _invoke("data", "import", str(SPLIT), "--out", str(store))
    out = tmp_path / "released"
    _invoke("data", "export", str(store), "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["id_eval.json", "ood_eval.json", "train.json"]
    for name, count in (("train.json", 2), ("id_eval.json", 1), ("ood_eval.json", 1)):
        text = (out / name).read_text(encoding="utf-8")
        records = json.loads(text)  # how the authors' readers load a split: a JSON array
        assert isinstance(records, list) and len(records) == count
        assert text == json.dumps(records, ensure_ascii=False, indent=2)  # as their split script writes it
    labelled = {**_records("id_eval.json")[0], "split": "mixed_eval"}  # a record's own field wins
    (tmp_path / "mine.json").write_text(json.dumps([labelled]))
    assert _import(tmp_path / "mine.json")[0].config == {"split": "mixed_eval"}


def test_a_store_without_split_labels_exports_one_array_and_a_split_folder_by_its_files(tmp_path: Path) -> None:
    unlabelled = tmp_path / "scenarios.json"
    shutil.copy(SPLIT / "train.json", unlabelled)
    _invoke("data", "import", str(unlabelled), "--out", str(tmp_path / "store"))
    _invoke("data", "export", str(tmp_path / "store"), "--out", str(tmp_path / "all.json"))
    assert len(json.loads((tmp_path / "all.json").read_text())) == 2
    _invoke("data", "import", str(SPLIT), "--out", str(tmp_path / "labelled"))
    args = ["data", "export", str(tmp_path / "labelled"), "--out", str(tmp_path / "x.json")]
    result = runner.invoke(register(), args)
    assert result.exit_code == 1 and "give a folder for --out" in str(result.exception)
    ood = "bystander effect,careful"
    _invoke("data", "split", str(tmp_path / "labelled"), "--ood", ood, "--eval-size", "1")  # labelled/splits/*.jsonl
    report = export_released(tmp_path / "labelled" / "splits", tmp_path / "from-splits")
    written = {Path(path).name: count for path, count in report.files.items()}
    assert written == {"train.json": 2, "id_eval.json": 1, "ood_eval.json": 1, "mixed_eval.json": 0}
    assert json.loads((tmp_path / "from-splits" / "mixed_eval.json").read_text()) == []


def test_import_export_import_is_lossless(tmp_path: Path) -> None:
    first = tmp_path / "first"
    _invoke("data", "import", str(SPLIT), "--out", str(first))
    _invoke("data", "export", str(first), "--out", str(tmp_path / "out1"))
    second = tmp_path / "second"
    _invoke("data", "import", str(tmp_path / "out1"), "--out", str(second))
    _invoke("data", "export", str(second), "--out", str(tmp_path / "out2"))
    before = sorted(EpisodeStore.open_for_reading(first).iter_episodes(), key=lambda e: e.id)
    after = sorted(EpisodeStore.open_for_reading(second).iter_episodes(), key=lambda e: e.id)
    assert after == before  # same ids, same content, same split labels
    for name in ("train.json", "id_eval.json", "ood_eval.json"):
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()
    assert "0 new" in _invoke("data", "import", str(tmp_path / "out1"), "--out", str(first))
    _invoke("data", "verify", str(first))


@pytest.mark.parametrize("name", ["train.json", "id_eval.json", "ood_eval.json"])
def test_every_fixture_record_survives_the_round_trip(name: str) -> None:
    episodes = _import(SPLIT / name)
    again = [import_released_record(episode_to_released(e), e.config.get("split")) for e in episodes]
    assert again == episodes


def import_released_record(record: dict[str, Any], split: object) -> Episode:
    from humanllm.simulation._released_record import episode_from_released

    return episode_from_released(record, split=split if isinstance(split, str) else None).episode


def test_judging_an_imported_store_groups_by_the_split_each_episode_came_from(tmp_path: Path) -> None:
    _invoke("data", "import", str(SPLIT), "--out", str(tmp_path / "store"))
    labels = sorted(label for _, label in find_source(tmp_path / "store").episodes())
    assert labels == ["id", "ood", "train", "train"]  # the labels a split folder's files give
