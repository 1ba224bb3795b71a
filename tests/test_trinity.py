"""Lossless trinity text: `parse_trinity(turn.as_trinity()) == turn`, and every reader still works (issue 15)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from humanllm.agents.leaks import leaked_labels
from humanllm.agents.trinity import parse_transcript, parse_trinity
from humanllm.core import Segment, Turn, render_turns, seen_by
from humanllm.patterns import load_library
from humanllm.training._sft_format import exchanges

_TEXT = st.text(alphabet=st.sampled_from(list("ab \n\t\"'[]()\\;:.!?")), max_size=14)
_SPACE = st.one_of(st.none(), st.text(alphabet=st.sampled_from([" ", "\n", "\t"]), max_size=3))
_SEGMENT = st.builds(Segment, channel=st.sampled_from(["thought", "action", "speech"]), text=_TEXT, space=_SPACE)
_TURNS = st.one_of(
    st.builds(Turn, speaker=st.just("Ann"), segments=st.lists(_SEGMENT, max_size=7)),
    st.builds(Turn, speaker=st.just("Ann"), thought=_TEXT, action=_TEXT, speech=_TEXT),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TURNS)
def test_parse_of_render_is_the_turn(turn: Turn) -> None:
    assert parse_trinity(turn.as_trinity(), "Ann") == turn
    assert parse_trinity(turn.as_trinity(with_thought=False), "Ann") == turn.visible()
    assert Turn.model_validate_json(turn.model_dump_json()) == turn


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsing_never_raises_and_reads_its_own_rendering_back(text: str) -> None:
    turn = parse_trinity(text, "Ann")
    assert parse_trinity(turn.as_trinity(), "Ann") == turn


@pytest.mark.parametrize(
    "text",
    [
        '"We keep going." "Maybe not."',  # was: We keep going." "Maybe not.
        "[Eighteen months.]\n(taps the schedule) (glances at Priya) We keep going.\nThe foundations alone.",
        "(leans in) I checked twice (three times, really). [Don't flinch.] It doesn't add up.",
        "[I hate this [really]] (sighs (loudly)) Fine.",
        r"She wrote \[sic] and f\(x) on the board.",  # brackets inside speech: an opener is escaped
    ],
)
def test_written_text_comes_back_as_written(text: str) -> None:
    assert parse_trinity(text, "Ann").as_trinity() == text


def test_order_and_several_pieces_are_kept_and_the_channel_fields_still_hold_each_channel() -> None:
    turn = parse_trinity("(b) [a] c\n(d) [e]", "Ann")
    assert [(s.channel, s.text) for s in turn.segments] == [
        ("action", "b"),
        ("thought", "a"),
        ("speech", "c"),
        ("action", "d"),
        ("thought", "e"),
    ]
    assert (turn.thought, turn.action, turn.speech) == ("a e", "b; d", "c")
    assert turn.segments[3].space == "\n"
    assert parse_trinity("[a] (b) c", "Ann") == Turn(speaker="Ann", thought="a", action="b", speech="c")  # plain


def test_speech_with_brackets_round_trips_through_an_escape() -> None:
    turn = Turn(speaker="Ann", speech="see [1] and (2)")
    assert turn.as_trinity() == r"see \[1] and \(2)"
    assert parse_trinity(turn.as_trinity(), "Ann") == turn


def test_records_written_before_segments_still_load() -> None:
    old = '{"speaker": "Ann", "thought": "Hm.", "action": "frowns", "speech": "Really?"}'
    turn = Turn.model_validate_json(old)
    assert turn.segments == [] and turn.as_trinity() == "[Hm.] (frowns) Really?"


def test_channel_fields_that_disagree_with_the_segments_are_refused() -> None:
    with pytest.raises(ValidationError, match="disagrees"):
        Turn(speaker="Ann", thought="other", segments=[Segment(channel="thought", text="mine")])


def test_every_thought_is_hidden_from_others_and_kept_for_the_speaker() -> None:
    turn = parse_trinity("[one] Hello. [two] (waves) [three]\nBye.", "Ann")
    hidden = render_turns([turn], "Ben")
    assert "one" not in hidden and "two" not in hidden and "three" not in hidden
    assert hidden == "Ann: Hello. (waves)\nBye."
    assert seen_by(turn, "Ann") == turn and render_turns([turn], "Ann") == f"Ann: {turn.as_trinity()}"


def test_readers_see_the_written_order() -> None:
    ben = parse_trinity("[secret] (shrugs) Fine. [more] Whatever.", "Ben")
    ann = parse_trinity('(smiles) "Good." [He gave in.]', "Ann")
    (exchange,) = exchanges([ben, ann], "Ann")
    assert exchange.context == "Ben: (shrugs) Fine. Whatever." and exchange.reply == '(smiles) "Good." [He gave in.]'
    careful = load_library().get("careful")
    assert leaked_labels(parse_trinity("(nods) Hi. [I am so careful.] Bye.", "Ann"), [careful]) == ["careful"]


def test_a_transcript_keeps_a_turns_newlines() -> None:
    turns = parse_transcript("Ann: [Hm.] (frowns) Really?\nI mean it.\nBen: Yes.", ["Ann", "Ben"])
    assert turns[0].speech == "Really?\nI mean it." and turns[1].speech == "Yes."
