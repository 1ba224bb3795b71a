"""Near-duplicate checklist items by meaning (TF-IDF over stemmed content words) and guidance overlap."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.patterns import load_library, near_duplicate_items
from humanllm.patterns._similarity import content_terms, guidance_overlaps, near_duplicates, stem


def _card(name: str, checklist: list[str]) -> dict:
    base = load_library().get("confirmation bias").model_dump(mode="json")
    base.update(name=name, id=name.replace(" ", "-"), aliases=[], checklist=checklist)
    return base


def _items(prefix: str) -> list[str]:
    return [
        f"Does the character {prefix} number {word}?"
        for word in ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    ]


def test_stems_and_content_terms_drop_the_boilerplate() -> None:
    assert stem("worries") == stem("worried") == "worr"
    assert stem("reaction") == stem("reacts") == "react"
    assert content_terms("Does the character's inner thought show them rehearsing what to say?") == ["rehears", "say"]


def test_paraphrase_is_flagged_and_unrelated_items_are_not() -> None:
    pairs = [
        ("a", "Does the character rehearse what to say in their head before speaking?"),
        ("b", "Does the character rehearse what they will say, in their head, before they speak?"),
        ("c", "Does the character slam a door when they lose an argument?"),
        ("a", "Does the character rehearse their words before speaking to a stranger?"),  # same card: not reported
    ]
    found = near_duplicates(pairs)
    assert [(d.first_card, d.second_card) for d in found] == [("a", "b")]
    assert found[0].similarity > 0.8 and {"rehears", "head"} <= set(found[0].shared)
    assert near_duplicates(pairs[2:3]) == []


def test_opposite_poles_mirror_each_other_and_are_left_out() -> None:
    library = load_library()
    found = near_duplicate_items(library)
    assert found, "the built-in library has cross-card near-duplicates to report"
    for duplicate in found:
        first, second = library.get(duplicate.first_card), library.get(duplicate.second_card)
        assert not (first.family is second.family and first.pole is not None and first.pole != second.pole)


def test_cli_lists_a_planted_near_duplicate(tmp_path: Path) -> None:
    shared = "Does the character rehearse what to say in their head before speaking?"
    first = _card("rehearsing one", [shared, *_items("count alpha")])
    second = _card(
        "rehearsing two",
        ["Does the character rehearse what to say, in their head, before speaking up?", *_items("tally beta")],
    )
    (tmp_path / "cards.yaml").write_text(yaml.safe_dump([first, second]))
    runner = CliRunner()
    listed = runner.invoke(register(), ["patterns", "similar", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    pairs = json.loads(listed.output)
    assert any({p["first"]["pattern"], p["second"]["pattern"]} == {"rehearsing one", "rehearsing two"} for p in pairs)
    validated = runner.invoke(register(), ["patterns", "validate", str(tmp_path)])
    assert validated.exit_code == 0 and "near-duplicate" in validated.output


def test_guidance_overlap_counts_items_that_restate_the_guidance() -> None:
    card = load_library().get("cold")
    told = ["slams doors and stamps out of the room", "rehearses a speech in front of a mirror"]
    overlap = guidance_overlaps([card], lambda _: told)[0]
    assert overlap.restated == () and overlap.share == 0.0
    echo = [card.checklist[0], card.checklist[1]]
    overlap = guidance_overlaps([card], lambda _: echo)[0]
    assert set(echo) <= set(overlap.restated) and overlap.items == len(card.checklist)
