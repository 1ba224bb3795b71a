"""`patterns import` keeps what the released files give: new patterns, long checklists, evidence, notes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from humanllm.agents.character import private_guidance
from humanllm.agents.judge import checklist_items
from humanllm.cli._app import register
from humanllm.core import (
    CardOrigin,
    CharacterProfile,
    Family,
    Metric,
    Pattern,
    PatternKind,
    Pole,
    Scenario,
)
from humanllm.errors import ConfigError, DataError
from humanllm.patterns import (
    BUILTIN_CARDS,
    FamilyChoice,
    ImportReport,
    check_directory,
    guess_family,
    import_released_files,
    load_library,
    parse_family_option,
)

RELEASED = Path(__file__).parent / "fixtures" / "released"
DATA = RELEASED / "patterns_data.json"
LISTS = RELEASED / "pattern_level_checklist.json"
LISTS_AS_OBJECT = RELEASED / "pattern_level_checklist_object.json"
NEW = ["escalation of commitment", "curious"]
runner = CliRunner()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImportReport, Path]:
    out = tmp_path_factory.mktemp("imported")
    return import_released_files(DATA, LISTS, out), out


def _card(report: ImportReport, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.cards if c.name == name)


# --- new patterns ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lists", [LISTS, LISTS_AS_OBJECT], ids=["list", "object"])
def test_unknown_patterns_are_imported_as_new_cards(tmp_path: Path, lists: Path) -> None:
    report = import_released_files(DATA, lists, tmp_path)
    assert [c.name for c in report.cards if c.new] == NEW
    assert sorted(report.matched) == ["anchoring", "confirmation bias", "halo effect", "quiet", "sunk cost fallacy"]
    written = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert written == sorted(f"{c.id}.yaml" for c in report.cards)
    escalation, curious = _card(report, "escalation of commitment"), _card(report, "curious")
    assert (escalation.kind, escalation.family, escalation.pole) == (
        PatternKind.SOCIAL_COGNITIVE,
        Family.COGNITIVE_BIAS,
        None,
    )
    assert escalation.family_source.startswith("guess: social-cognitive") and "bias" in escalation.family_source
    assert (curious.kind, curious.family, curious.pole) == (PatternKind.TRAIT, Family.OPENNESS, Pole.POSITIVE)
    assert curious.family_source.startswith("guess: trait") and "'definition' given" in curious.family_source


def test_new_cards_are_incomplete_but_load_and_can_be_judged(imported: tuple[ImportReport, Path]) -> None:
    report, out = imported
    assert report.incomplete == NEW
    assert _card(report, "escalation of commitment").missing == [
        "triggers.situations",
        "triggers.cues",
        "markers.thought",
        "markers.action",
        "markers.speech",
    ]
    library = load_library([out])
    assert len(library) == 244 + len(NEW)
    card = library.get("Escalation of Commitment")
    assert card.origin is CardOrigin.IMPORTED and not card.complete
    assert card.markers.thought == [] and card.triggers.cues == []

    # judging: the character carrying it gets its whole checklist as IPE items
    person = CharacterProfile(name="Mara", about_self="A project lead.", about_others="Knows Ben from work.")
    other = CharacterProfile(name="Ben", about_self="A colleague.", about_others="Reports to Mara.")
    scenario = Scenario(
        patterns=[card.name],
        situation="duty",
        analysis="Mara has staked her name on a late project.",
        background="A meeting room, late on a Friday.",
        protagonist=person,
        supporting=[other],
        char2pattern={"Mara": [card.name]},
    )
    items = checklist_items(scenario, "Mara", library)
    assert [i.question for i in items] == card.checklist and len(items) == 17
    assert {i.metric for i in items} == {Metric.IPE} and {i.pattern for i in items} == {card.name}

    # simulation: without markers the card adds no private guidance (complete cards do)
    assert private_guidance([card]) == []
    assert private_guidance([library.get("sunk cost fallacy")])


def test_validate_reports_incomplete_cards_as_warnings(imported: tuple[ImportReport, Path]) -> None:
    _, out = imported
    check = check_directory(out)
    assert check.problems == [] and check.cards == 6
    incomplete = [str(w) for w in check.warnings if "INCOMPLETE" in str(w)]
    assert len(incomplete) == 2
    assert any("curious.yaml" in w and "markers.speech" in w and "no private guidance" in w for w in incomplete)
    assert any("escalation-of-commitment.yaml" in w and "17 items" in str(w) for w in map(str, check.warnings))

    app = register()
    lenient = runner.invoke(app, ["patterns", "validate", str(out)])
    assert lenient.exit_code == 0, lenient.output
    assert "INCOMPLETE" in lenient.output and "all cards valid" in lenient.output
    strict = runner.invoke(app, ["patterns", "validate", str(out), "--strict"])
    assert strict.exit_code == 1 and "INCOMPLETE" in strict.output


def test_built_in_cards_stay_authored_complete_and_warning_free() -> None:
    check = check_directory(BUILTIN_CARDS)
    assert check.problems == [] and check.warnings == [] and check.cards == 244
    assert all(c.origin is CardOrigin.AUTHORED and c.complete for c in load_library())
    strict = runner.invoke(register(), ["patterns", "validate", "--strict"])
    assert strict.exit_code == 0, strict.output


# --- what the release gives is kept ----------------------------------------------------------------
def test_long_checklists_are_kept_with_a_warning(imported: tuple[ImportReport, Path]) -> None:
    report, out = imported
    assert any("17 items" in w and "all kept" in w for w in _card(report, "escalation of commitment").warnings)
    assert len(load_library([out]).get("escalation of commitment").checklist) == 17


def test_authored_cards_keep_the_12_to_15_rule() -> None:
    data = load_library().get("confirmation bias").model_dump(mode="json")
    longer = [
        *data["checklist"],
        *(f"Does the character do extra thing {n}?" for n in range(17 - len(data["checklist"]))),
    ]
    with pytest.raises(ValueError, match="12-15 items on an authored card, has 17"):
        Pattern.model_validate({**data, "checklist": longer})
    with pytest.raises(ValueError, match="markers"):
        Pattern.model_validate({**data, "markers": {"thought": [], "action": [], "speech": []}})
    with pytest.raises(ValueError, match="cues needs at least 2 items"):  # left out is checked like empty
        Pattern.model_validate({k: v for k, v in data.items() if k != "triggers"})
    imported = Pattern.model_validate({**data, "checklist": longer, "origin": "imported"})
    assert len(imported.checklist) == 17 and imported.complete


def test_core_mechanisms_as_one_string(imported: tuple[ImportReport, Path]) -> None:
    _, out = imported
    library, builtin = load_library([out]), load_library()
    merged, ours = library.get("sunk cost fallacy").core_mechanisms, builtin.get("sunk cost fallacy").core_mechanisms
    # one undivided text: kept whole as the cognitive mechanism; the built-in card's other channels stay
    assert merged.cognitive.startswith("Past spending is counted as a reason to go on")
    assert (merged.emotional, merged.behavioral, merged.motivation) == (
        ours.emotional,
        ours.behavioral,
        ours.motivation,
    )
    assert library.get("sunk cost fallacy").real_world_manifestation.everyday.startswith("Finishing a dull film")
    # a text labelled by channel is cut at its labels
    mech = library.get("escalation of commitment").core_mechanisms
    assert mech.cognitive.startswith("earlier investments") and mech.emotional.startswith("admitting")
    assert mech.behavioral.startswith("more money") and mech.motivation and mech.motivation.startswith("the person")
    rwm = library.get("escalation of commitment").real_world_manifestation
    assert rwm.everyday.startswith("A manager") and rwm.costs.startswith("losses") and rwm.benefits


def test_evidence_status_case_review_and_notes_are_kept(imported: tuple[ImportReport, Path]) -> None:
    _, out = imported
    card = load_library([out]).get("confirmation bias")
    assert card.definition.startswith("Released description")
    assert len(card.checklist) == 13 and card.checklist[-1].endswith("is raised?")  # '?' added
    assert card.checklist_evidence[card.checklist[0]] == "supported"
    assert card.checklist_evidence[card.checklist[1]] == "inferred"
    assert card.checklist[5] not in card.checklist_evidence  # released as ""
    assert card.case_review and card.case_review.startswith("Eleven of the thirteen")
    assert card.notes and card.notes.startswith("Score an item")
    written = yaml.safe_load((out / "confirmation-bias.yaml").read_text())[0]
    assert written["origin"] == "imported" and written["case_review"] == card.case_review
    assert set(written["checklist_evidence"].values()) == {"supported", "inferred"}
    shown = runner.invoke(register(), ["patterns", "show", "confirmation bias", "--patterns-dir", str(out), "--json"])
    assert json.loads(shown.output)["notes"] == card.notes


def test_a_checklist_alone_updates_a_built_in_card(imported: tuple[ImportReport, Path]) -> None:
    report, out = imported
    halo = load_library([out]).get("halo effect")
    assert halo.checklist[0] == "Does the character judge someone's honesty by their looks or charm?"
    assert halo.definition == load_library().get("halo effect").definition
    assert halo.case_review == "Built from the definition only." and not _card(report, "halo effect").new


# --- bad input ------------------------------------------------------------------------------------
def test_a_bad_pattern_is_reported_and_skipped(imported: tuple[ImportReport, Path]) -> None:
    report, _ = imported
    skipped = report.skipped
    assert set(skipped) == {"broken value", "anchoring", "hoarding of favours"}
    assert skipped["broken value"] == "patterns_data.json: 'broken value': the value is list, not an object"
    assert skipped["anchoring"] == "pattern_level_checklist.json: 'anchoring': checklist item 3 has no 'question'"
    assert "needs a checklist" in skipped["hoarding of favours"]
    assert all("\n" not in why for why in skipped.values())


def test_an_unnamed_or_malformed_checklist_entry_is_skipped_alone(tmp_path: Path) -> None:
    lists = json.loads(LISTS.read_text())
    lists += [{"checklist": []}, "not an object", {"trait": "curious", "checklist": "a string"}]
    (tmp_path / "lists.json").write_text(json.dumps(lists))
    report = import_released_files(DATA, tmp_path / "lists.json", tmp_path / "out")
    assert "no 'trait'" in report.skipped["entry 6"] and "entry 7" in report.skipped
    assert "'checklist' must be a list" in report.skipped["curious"]
    assert "escalation of commitment" in [c.name for c in report.cards]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{broken", r"is not valid JSON \(line 1, column 2\)"),
        ('{"x": "caf\xe9"}'.encode("latin-1"), "is not UTF-8 text"),
        (b'"just a string"', "expected"),
    ],
    ids=["not-json", "not-utf8", "wrong-shape"],
)
def test_bad_files_fail_with_one_line_naming_the_file(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    for data, lists in ((bad, None), (DATA, bad)):
        with pytest.raises(DataError, match=rf"bad\.json:? {needle}") as caught:
            import_released_files(data, lists, tmp_path / "out")
        assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()  # nothing written before both files are read


def test_cli_bad_file_is_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "patterns_data.json"
    bad.write_bytes(b"\xff\xfe not text")
    proc = subprocess.run(
        [sys.executable, "-m", "humanllm", "patterns", "import", "--patterns-data", str(bad), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "patterns_data.json is not UTF-8 text" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --- family: flag or guess ------------------------------------------------------------------------
def test_family_flag_for_all_or_one_new_pattern(tmp_path: Path) -> None:
    everyone = import_released_files(DATA, LISTS, tmp_path / "a", families=parse_family_option(["motivational"]))
    assert {c.family for c in everyone.cards if c.new} == {Family.MOTIVATIONAL}
    assert all(c.family_source == "--family" for c in everyone.cards if c.new)
    one = import_released_files(DATA, LISTS, tmp_path / "b", families=parse_family_option(["Curious=Extraversion"]))
    curious = _card(one, "curious")
    assert (curious.kind, curious.family) == (PatternKind.TRAIT, Family.EXTRAVERSION)
    assert curious.pole is Pole.POSITIVE and curious.family_source.startswith("--family")
    assert _card(one, "escalation of commitment").family_source.startswith("guess:")
    known = import_released_files(DATA, LISTS, tmp_path / "c", families=parse_family_option(["quiet=openness"]))
    assert _card(known, "quiet").family is Family.EXTRAVERSION
    assert any("--family ignored" in w for w in _card(known, "quiet").warnings)


def test_family_flag_is_validated() -> None:
    with pytest.raises(ConfigError, match="unknown family 'feelings'; use one of: cognitive_bias"):
        parse_family_option(["feelings"])
    with pytest.raises(ConfigError, match="once"):
        parse_family_option(["openness", "motivational"])
    assert parse_family_option(["social influence", "x=emotional-stability"]) == FamilyChoice(
        Family.SOCIAL_INFLUENCE, {"x": Family.EMOTIONAL_STABILITY}
    )
    result = runner.invoke(
        register(), ["patterns", "import", "--patterns-data", str(DATA), "--family", "feelings", "--out", "x"]
    )
    assert result.exit_code != 0 and isinstance(result.exception, ConfigError)


@pytest.mark.parametrize(
    ("name", "text", "definition", "expected"),
    [
        ("curious", "Eager to learn and drawn to new ideas.", True, (Family.OPENNESS, Pole.POSITIVE)),
        ("unsociable", "Avoids company where possible.", True, (Family.EXTRAVERSION, Pole.NEGATIVE)),
        (
            "fretting",
            "A personality trait: worries over small things.",
            False,
            (Family.EMOTIONAL_STABILITY, Pole.NEGATIVE),
        ),
        (
            "herd instinct",
            "People conform to what the majority of a group does.",
            False,
            (Family.SOCIAL_INFLUENCE, None),
        ),
        (
            "kin favouritism",
            "Helping relatives first: an evolutionary kin selection drive.",
            False,
            (Family.EVOLUTIONARY, None),
        ),
        ("doomscrolling", "Scrolling through bad news late at night.", False, (Family.COGNITIVE_BIAS, None)),
    ],
)
def test_family_guess_rule(name: str, text: str, definition: bool, expected: tuple[Family, Pole | None]) -> None:
    guess = guess_family(name, text, gives_definition=definition)
    assert guess is not None and (guess.family, guess.pole) == expected, guess


def test_a_trait_with_no_dimension_cue_asks_for_the_flag(tmp_path: Path) -> None:
    data = {
        "unflinching": {"construct_name": "unflinching", "definition": "Not easily frightened by danger or threats."}
    }
    lists = [{"trait": "unflinching", "checklist": [{"question": "Does the character step toward danger?"}]}]
    (tmp_path / "d.json").write_text(json.dumps(data))
    (tmp_path / "l.json").write_text(json.dumps(lists))
    report = import_released_files(tmp_path / "d.json", tmp_path / "l.json", tmp_path / "out")
    assert "pass --family 'unflinching=DIMENSION'" in report.skipped["unflinching"]
    fixed = import_released_files(
        tmp_path / "d.json", tmp_path / "l.json", tmp_path / "out", families=FamilyChoice(Family.EMOTIONAL_STABILITY)
    )
    card = _card(fixed, "unflinching")
    assert card.kind is PatternKind.TRAIT and any("outside the 12-15" in w for w in card.warnings)


# --- the CLI end to end ---------------------------------------------------------------------------
def test_cli_import_reports_each_card_and_the_folder_loads(tmp_path: Path) -> None:
    app = register()
    out = tmp_path / "cards"
    args = ["patterns", "import", "--patterns-data", str(DATA), "--checklists", str(LISTS_AS_OBJECT), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "wrote 6 card(s)" in text
    assert "new curious: openness / positive pole (guess: trait" in text
    assert "incomplete escalation of commitment: missing triggers.situations" in text
    assert "skipped broken value" in text and "2 incomplete card(s) load and can be judged" in text
    as_json = json.loads(runner.invoke(app, [*args, "--json", "--force"]).output)
    assert [c["name"] for c in as_json["cards"] if c["new"]] == NEW
    listed = runner.invoke(app, ["patterns", "list", "--patterns-dir", str(out), "--family", "openness", "--json"])
    assert "curious" in [c["name"] for c in json.loads(listed.output)]
    shown = runner.invoke(app, ["patterns", "show", "escalation of commitment", "--patterns-dir", str(out)])
    assert shown.exit_code == 0 and "Checklist (17 items)" in shown.output


def test_repeated_items_are_kept_once_and_shared_items_only_warn(tmp_path: Path) -> None:
    shared = "Does the character keep a list of who owes them a favour?"
    data = {
        name: {"construct_name": name, "description": f"Released description of {name}, a social exchange habit."}
        for name in ("favour ledger", "favour banking")
    }
    lists = [
        {"trait": "favour ledger", "checklist": [{"question": shared}, {"question": shared + " "}]},
        {"trait": "favour banking", "checklist": [{"question": shared, "evidence_status": "inferred"}]},
    ]
    (tmp_path / "d.json").write_text(json.dumps(data))
    (tmp_path / "l.json").write_text(json.dumps(lists))
    report = import_released_files(tmp_path / "d.json", tmp_path / "l.json", tmp_path / "out")
    assert any("repeats an earlier one; kept once" in w for w in _card(report, "favour ledger").warnings)
    check = check_directory(tmp_path / "out")
    assert check.problems == []
    assert any("item repeats one of" in str(w) for w in check.warnings)
    assert load_library([tmp_path / "out"]).get("favour banking").checklist_evidence == {shared: "inferred"}
