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


FAMILIES = [
    ["quiet", "reserved", "shy", "withdrawn", "timid", "silent", "introverted", "inhibited"],
    ["anxious", "nervous", "fretful", "high-strung"],
    ["kind", "warm", "sympathetic", "soft-hearted"],
    ["calm", "relaxed", "at ease", "composed", "poised", "placid", "unemotional"],
    ["talkative", "outgoing", "gregarious", "enthusiastic", "energetic"],
    ["organized", "neat", "thorough", "careful", "deliberate"],
    ["jealous", "jealousy"],
    ["cruel", "sadistic pleasure"],
    ["zero-risk bias", "pseudocertainty effect"],
]


def test_private_guidance_is_not_the_answer_key_on_any_card() -> None:
    """At most a third of a card's checklist items may restate the guidance its character is given (issue 16)."""
    from humanllm.agents.character import private_guidance

    library = load_library()
    overlaps = guidance_overlaps(library, lambda card: private_guidance([card]))
    assert len(overlaps) == 244
    too_close = {o.pattern: o.restated for o in overlaps if o.share > 1 / 3}
    assert not too_close


def test_near_synonym_families_name_their_siblings_and_carry_contrast_items() -> None:
    library = load_library()
    for family in FAMILIES:
        for name in family:
            card = library.get(name)
            siblings = {library.get(s).name for s in card.contrast_with}
            assert set(family) - {name} <= siblings, (name, siblings)
            assert 2 <= len(card.contrast_items) <= 4, (name, card.contrast_items)
            assert all(library.get(s).name in family for s in card.contrast_items.values()), name


def test_near_synonym_families_share_few_near_duplicate_items() -> None:
    """Lexically, the rewritten families hold at most one near-duplicate pair each (was up to 38 by review)."""
    library = load_library()
    for family in FAMILIES:
        pairs = [d for d in near_duplicate_items(library.resolve(family))]
        assert len(pairs) <= 1, [(d.first_card, d.first_item, d.second_card, d.second_item) for d in pairs]
