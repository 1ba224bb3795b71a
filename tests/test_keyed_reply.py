"""KeyedReply: one pydantic shape per key count, asked for and validated under each call's own keys."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from humanllm.agents import _budget, scenario_writer
from humanllm.agents.judge import verdict_schema
from humanllm.agents.scenario_writer import CastMember, checklist_schema, draft_schema
from humanllm.llm import NAME, KeyedReply, parse_reply, response_format_for, shape_key


class Entry(BaseModel):
    mood: str = Field(min_length=2, max_length=20)


def _shape(count: int) -> type[BaseModel]:
    keyed = create_model(
        "Moods",
        __config__=ConfigDict(extra="forbid"),
        **{shape_key(n): (Entry, Field(description=f"How {NAME} feels.")) for n in range(count)},
    )
    return create_model("MoodReply", summary=(str, Field(max_length=50)), moods=(keyed, Field(description="By name.")))


def _aliased(names: tuple[str, ...]) -> type[BaseModel]:
    """What a class per cast looked like: the names as aliases (the schema a KeyedReply must send)."""
    keyed = create_model(
        "Moods",
        __config__=ConfigDict(extra="forbid"),
        **{f"key_{n}": (Entry, Field(alias=name, description=f"How {name} feels.")) for n, name in enumerate(names)},
    )
    return create_model("MoodReply", summary=(str, Field(max_length=50)), moods=(keyed, Field(description="By name.")))


NAMES = ("Mara", "Benedict", "Zoë-Maximiliane")


def test_the_schema_sent_is_the_one_a_class_with_the_names_as_aliases_gives() -> None:
    reply = KeyedReply(_shape(3), NAMES)
    assert json.dumps(reply.model_json_schema()) == json.dumps(_aliased(NAMES).model_json_schema())
    assert response_format_for(reply)["json_schema"]["name"] == "MoodReply"
    assert response_format_for(reply) is response_format_for(reply)  # cached per reply


def test_a_reply_is_validated_under_the_names_and_dumped_with_them() -> None:
    reply = KeyedReply(_shape(3), NAMES)
    data: dict[str, Any] = {"summary": "tense", "moods": {name: {"mood": "wary"} for name in NAMES}}
    parsed = reply.model_validate(data)
    assert reply.dump(parsed) == data
    assert list(data["moods"]) == list(NAMES)  # the caller's reply is not renamed in place
    assert reply.dump(reply.model_validate_json(json.dumps(data))) == data


@pytest.mark.parametrize(
    ("moods", "said"),
    [
        ({"Mara": {"mood": "wary"}, "Benedict": {"mood": "calm"}}, "moods.Zoë-Maximiliane: Field required"),
        ({**{n: {"mood": "ok"} for n in NAMES}, "Zed": {"mood": "ok"}}, "moods.Zed: Extra inputs are not permitted"),
        ({**{n: {"mood": "ok"} for n in NAMES}, "Mara": {"mood": "x"}}, "moods.Mara.mood: String should have"),
        ([{"mood": "ok"}], "moods: Input should be a valid dictionary"),
    ],
)
def test_errors_name_the_calls_keys_not_the_shapes(moods: object, said: str) -> None:
    reply = KeyedReply(_shape(3), NAMES)
    with pytest.raises(ValidationError):
        reply.model_validate({"summary": "s", "moods": moods})
    with pytest.raises(ValueError, match=re.escape(said)) as raised:
        parse_reply(json.dumps({"summary": "s", "moods": moods}), reply)
    assert "key_" not in str(raised.value)


def test_keys_must_differ_and_the_shape_must_have_a_keyed_object() -> None:
    with pytest.raises(ValueError, match="must differ"):
        KeyedReply(_shape(2), ("Ann", "Ann"))
    with pytest.raises(ValueError, match="no object keyed"):
        KeyedReply(_shape(2), ("Ann", "Ben", "Cid"))


def test_a_new_cast_of_a_known_size_builds_no_pydantic_class() -> None:
    _budget.keyed_shape.cache_clear()
    scenario_writer._draft_schema.cache_clear()
    first = draft_schema([CastMember(name=n) for n in ("Ana", "Bob", "Cyd")])
    built = _budget.keyed_shape.cache_info().misses
    second = draft_schema([CastMember(name=n) for n in ("Dan", "Eve", "Fay")])  # same size, same total length
    assert _budget.keyed_shape.cache_info().misses == built and second.shape is first.shape
    profiles = second.model_json_schema()["$defs"]["Profiles"]
    assert profiles["required"] == ["Dan", "Eve", "Fay"] and profiles["properties"]["Eve"]["description"] == (
        "The profile of Eve."
    )


def test_checklists_and_judge_verdicts_are_keyed_replies() -> None:
    checklist = checklist_schema(["Mara", "Ben"])
    ok = ["Mara defends her plan.", "Mara hesitates."]
    assert checklist.dump(checklist.model_validate({"checklists": {"Mara": ok, "Ben": ok}})) == {
        "checklists": {"Mara": ok, "Ben": ok}
    }
    verdicts = verdict_schema(["mpd.1", "P001.2"], n_turns=4)  # keyed at the root
    root = verdicts.model_json_schema()
    assert root["required"] == ["mpd.1", "P001.2"] and root["additionalProperties"] is False
    verdict = {"turns": [1], "quote": "q", "reason": "r", "score": 1}
    assert verdicts.dump(verdicts.model_validate({"mpd.1": verdict, "P001.2": verdict})) == {
        "mpd.1": verdict,
        "P001.2": verdict,
    }
    with pytest.raises(ValidationError, match=r"P001\.2"):
        verdicts.model_validate({"mpd.1": verdict})
