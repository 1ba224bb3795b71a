from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from humanllm.core import Family, PatternKind
from humanllm.errors import PatternDataError, UnknownPatternError
from humanllm.patterns import BUILTIN_CARDS, PATTERNS_DIR_ENV, load_library, validate_directory
from humanllm.patterns._importer import import_released_files

FIXTURES = Path(__file__).parent / "fixtures"


def _released() -> list[tuple[str, str]]:
    lines = (FIXTURES / "released_names.txt").read_text().splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library()


def test_exactly_the_released_244_names(library) -> None:  # type: ignore[no-untyped-def]
    released = _released()
    assert len(released) == 244
    assert sorted(c.name for c in library) == sorted(name for _, name in released)
    for kind, name in released:
        assert library.get(name).kind is PatternKind(kind)
    kinds = [c.kind for c in library]
    assert kinds.count(PatternKind.SOCIAL_COGNITIVE) == 144 and kinds.count(PatternKind.TRAIT) == 100


def test_family_sizes_match_the_paper(library) -> None:  # type: ignore[no-untyped-def]
    sizes = {f: len(library.select(family=f)) for f in Family}
    assert (sizes[Family.COGNITIVE_BIAS], sizes[Family.SOCIAL_INFLUENCE]) == (76, 27)
    assert (sizes[Family.EVOLUTIONARY], sizes[Family.MOTIVATIONAL]) == (11, 30)
    for dim in (Family.EXTRAVERSION, Family.AGREEABLENESS, Family.CONSCIENTIOUSNESS, Family.OPENNESS):
        assert sizes[dim] == 20


def test_built_in_cards_have_no_problems() -> None:
    assert validate_directory(BUILTIN_CARDS) == []


def test_every_card_is_complete(library) -> None:  # type: ignore[no-untyped-def]
    for card in library:
        assert 12 <= len(card.checklist) <= 15, card.name
        assert card.definition and card.triggers.cues and card.markers.speech, card.name
        if card.kind is PatternKind.TRAIT:
            # a trait's checklist describes behaviour, never just the adjective itself
            assert not any(f" {card.name} " in f" {q.lower()} " for q in card.checklist), card.name


def test_no_checklist_item_repeats_across_cards(library) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    for card in library:
        for question in card.checklist:
            assert seen.setdefault(question.lower(), card.name) == card.name, question


def test_ids_are_unique_and_jealousy_is_not_jealous(library) -> None:  # type: ignore[no-untyped-def]
    ids = [c.id for c in library]
    assert len(set(ids)) == 244
    assert library.get("jealousy").kind is PatternKind.SOCIAL_COGNITIVE
    assert library.get("jealous").kind is PatternKind.TRAIT


def test_lookup_by_name_id_alias_any_case(library) -> None:  # type: ignore[no-untyped-def]
    card = library.get("confirmation bias")
    assert library.get("CONFIRMATION-BIAS") is card
    assert card.aliases and library.get(card.aliases[0].upper()) is card
    assert library.get("  Pleasure Principle & Reality Principle ").id == "pleasure-principle-and-reality-principle"


def test_unknown_name_suggests_the_closest(library) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownPatternError, match=r"did you mean 'confirmation bias'\?"):
        library.get("confirmaton bias")
    with pytest.raises(UnknownPatternError, match="humanllm patterns list"):
        library.get("zzzz qqqq")


def _card(name: str, **changes: object) -> dict:
    base = load_library().get("confirmation bias").model_dump(mode="json")
    base.update(name=name, id=name.replace(" ", "-"), aliases=[])
    base["checklist"] = [f"{q[:-1]} ({name})?" for q in base["checklist"]]
    base.update(changes)
    return base


def test_user_directory_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump([_card("doomscrolling pull")]))
    override = load_library().get("shy").model_dump(mode="json")
    override["definition"] = "A user's own definition of this trait, long enough to pass validation rules."
    (tmp_path / "shy.yaml").write_text(yaml.safe_dump(override))
    lib = load_library([tmp_path])
    assert len(lib) == 245 and lib.get("doomscrolling pull").family is Family.COGNITIVE_BIAS
    assert lib.get("shy").definition.startswith("A user's own")
    monkeypatch.setenv(PATTERNS_DIR_ENV, str(tmp_path))
    assert "doomscrolling pull" in load_library()


def test_validation_errors_name_file_and_field(tmp_path: Path) -> None:
    bad = _card("broken pattern", checklist=["Does it?"] * 3)
    bad["triggers"]["situations"] = ["party"]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump([bad]))
    problems = [str(p) for p in validate_directory(tmp_path)]
    assert any("bad.yaml" in p and "field checklist" in p for p in problems)
    assert any("bad.yaml" in p and "triggers.situations" in p for p in problems)
    with pytest.raises(PatternDataError, match=r"bad\.yaml"):
        load_library([tmp_path])


def test_validation_catches_cross_card_duplicates(tmp_path: Path) -> None:
    twin = _card("twin pattern")
    copied_items = {**_card("other pattern"), "checklist": twin["checklist"]}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump([twin]))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump([twin, copied_items]))
    problems = [str(p) for p in validate_directory(tmp_path)]
    assert any("id also used" in p for p in problems)
    assert any("item repeats" in p for p in problems)


@pytest.mark.parametrize("as_object", [False, True])
def test_importer_reads_the_released_schema(tmp_path: Path, as_object: bool) -> None:
    data = {
        "confirmation bias": {
            "construct_name": "confirmation bias",
            "description": "Released definition: people favour information that confirms what they believe.",
            "core_mechanisms": {
                "cognitive": "Selective search and biased interpretation of evidence.",
                "emotional_mechanism": "Dissonance is avoided; confirmation feels good.",
                "behavioral": "Seeks agreeing sources and avoids contrary ones.",
                "evolutionary_or_motivational": "Saves effort and protects self-esteem.",
            },
            "real_world_manifestation": "Reading only news that agrees with you.",
        },
        "quiet": {"construct_name": "quiet", "definition": "Released trait definition of speaking little in company."},
        "made up pattern": {"construct_name": "made up pattern", "description": "Not in the library at all."},
    }
    entries = [
        {
            "trait": "confirmation bias",
            "checklist": [
                {"question": f"Does the character do released thing {i}", "evidence_status": ""} for i in range(13)
            ],
            "case_review": "",
            "notes": "",
        }
    ]
    checklists = {e["trait"]: e for e in entries} if as_object else entries
    (tmp_path / "patterns_data.json").write_text(json.dumps(data))
    (tmp_path / "checklists.json").write_text(json.dumps(checklists))
    out = tmp_path / "out"
    report = import_released_files(tmp_path / "patterns_data.json", tmp_path / "checklists.json", out)
    assert sorted(report.matched) == ["confirmation bias", "quiet"]
    assert report.new == ["made up pattern"] and "made up pattern" in report.skipped
    assert validate_directory(out) == []
    lib = load_library([out])
    card = lib.get("confirmation bias")
    assert card.definition.startswith("Released definition")
    assert card.core_mechanisms.emotional.startswith("Dissonance")
    assert card.checklist[0] == "Does the character do released thing 0?"
    assert lib.get("quiet").definition.startswith("Released trait definition")


def test_cli_list_show_validate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from humanllm.cli._app import register

    runner = CliRunner()
    listed = runner.invoke(register(), ["patterns", "list", "--kind", "trait", "--family", "openness", "--json"])
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 20
    shown = runner.invoke(register(), ["patterns", "show", "Sunk-Cost-Fallacy", "--json"])
    assert json.loads(shown.output)["name"] == "sunk cost fallacy"
    readable = runner.invoke(register(), ["patterns", "show", "sunk cost fallacy"])
    assert "Checklist (" in readable.output and "Core mechanisms" in readable.output
    (tmp_path / "bad.yaml").write_text("- name: x\n")
    invalid = runner.invoke(register(), ["patterns", "validate", str(tmp_path)])
    assert invalid.exit_code == 1 and "bad.yaml" in invalid.output


def test_contrast_items_must_be_items_naming_a_listed_sibling(tmp_path: Path) -> None:
    card = _card("sibling one")
    card["contrast_with"] = ["shy"]
    card["contrast_items"] = {card["checklist"][0]: "shy"}
    (tmp_path / "ok.yaml").write_text(yaml.safe_dump([card]))
    assert validate_directory(tmp_path) == []  # "shy" is a built-in card: known to a user folder
    assert load_library([tmp_path]).get("sibling one").contrast_items == {card["checklist"][0]: "shy"}

    not_an_item = {**card, "contrast_items": {"Does the character do something else?": "shy"}}
    unlisted = {**card, "name": "sibling two", "id": "sibling-two", "contrast_items": {card["checklist"][0]: "timid"}}
    unknown = {
        **card,
        "name": "sibling three",
        "id": "sibling-three",
        "contrast_with": ["no such trait"],
        "contrast_items": {},
    }
    for name, bad in [("a", not_an_item), ("b", unlisted), ("c", unknown)]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "bad.yaml").write_text(yaml.safe_dump([bad]))
        problems = [str(p) for p in validate_directory(folder)]
        assert any("contrast" in p for p in problems), (name, problems)
        with pytest.raises(PatternDataError, match="contrast"):
            load_library([folder])
