"""Scripted stand-ins for each LLM role, shipped so users can test their own pipelines offline.

Each factory returns a `ScriptedChatModel` whose replies are valid for the role's per-call schema
(read from the request's `response_format`), so a whole episode runs without a real model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.messages import BaseMessage

from humanllm.llm import ScriptedChatModel
from humanllm.llm._messages import json_schema_of


def _fit(text: str, prop: dict[str, Any]) -> str:
    """`text` cut to a string field's maxLength (the writer's bounds shrink with the token budget)."""
    return text[: prop.get("maxLength", len(text))]


def _texts(schema: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    """The scripted text of each string field of an object schema, within its bounds."""
    return {key: _fit(values[key], prop) for key, prop in schema["properties"].items() if key in values}


def writer_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A scenario draft or checklist with an entry under every required character's name."""
    schema = json_schema_of(kwargs.get("response_format")) or {}
    title = schema.get("title", "")
    defs = schema.get("$defs", {})
    if title == "ScenarioDraftReply":
        profile = defs["Profile"]
        return json.dumps(
            {
                **_texts(
                    schema,
                    {
                        "analysis": "The patterns meet when the deadline forces a decision in front of the others.",
                        "background": "A small office late on a Friday; the heating ticks and a report is due at nine.",
                    },
                ),
                "profiles": {
                    name: _texts(
                        profile,
                        {
                            "about_self": f"{name} is on the team: careful, proud, tired, curious; wants to go home.",
                            "about_others": "Knows the others from work and has mixed feelings about them.",
                        },
                    )
                    for name in defs["Profiles"]["properties"]
                },
            }
        )
    if title == "ScenarioChecklistReply":
        entries = defs["Checklists"]["properties"]
        return json.dumps(
            {
                "checklists": {
                    name: [
                        _fit(f"{name} defends an early choice.", entry["items"]),
                        _fit(f"{name} hesitates before agreeing.", entry["items"]),
                    ]
                    for name, entry in entries.items()
                }
            }
        )
    if title == "VariationReply":
        return json.dumps(
            _texts(
                schema,
                {
                    "factor_analysis": "The deadline and the manager watching drive the pressure to decide fast.",
                    "new_factor_settings": "No deadline tonight; the manager is away.",
                    "background": "The same office on a calm Monday morning with coffee and no deadline in sight.",
                    "analysis": "Without time pressure the hesitant one speaks up and the early choice is revisited.",
                },
            )
        )
    raise ValueError(f"the fake writer does not know the schema {title!r}")


def character_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A turn whose thought carries a marker unique to the speaker and turn, for asymmetry tests."""
    user = messages[-1].text
    name = user.rsplit("it is your turn, ", 1)[-1].rstrip(".").strip() if "your turn, " in user else "someone"
    count = user.count("\n") + 1
    closing = "last turn" in user
    return json.dumps(
        {
            "thought": f"SECRET-{name}-{count}: I wonder what they really mean.",
            "action": "leans back" if not closing else "stands up to leave",
            "speech": "Let's wrap this up, goodbye." if closing else f"I see it differently ({count}).",
        }
    )


def fake_writer() -> ScriptedChatModel:
    return ScriptedChatModel(function=writer_reply)


def fake_character(reply: Callable[[list[BaseMessage], dict[str, Any]], str] = character_reply) -> ScriptedChatModel:
    return ScriptedChatModel(function=reply)


def fake_judge_score(item_id: str) -> int:
    """The fake judge's score for an item: fixed per item id (+1, 0 or -1), so tests can predict it."""
    import hashlib

    return int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 3 - 1


def judge_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A verdict for every item of the batch (score from `fake_judge_score`), or a holistic rating."""
    schema = json_schema_of(kwargs.get("response_format")) or {}
    title = schema.get("title", "")
    if title == "JudgeVerdicts":
        return json.dumps(
            {
                item: {
                    "turns": [1],
                    "quote": "I see it differently",
                    "reason": "The first turn shows it plainly.",
                    "score": fake_judge_score(item),
                }
                for item in schema.get("properties", {})
            }
        )
    if title == "HolisticReply":
        return json.dumps(
            {
                "anthropomorphism_reason": "Thoughts and speech differ, as with a person.",
                "anthropomorphism": 60,
                "fidelity_reason": "Mostly keeps to the profile.",
                "fidelity": 70,
            }
        )
    raise ValueError(f"the fake judge does not know the schema {title!r}")


def fake_judge(reply: Callable[[list[BaseMessage], dict[str, Any]], str] = judge_reply) -> ScriptedChatModel:
    return ScriptedChatModel(function=reply)
