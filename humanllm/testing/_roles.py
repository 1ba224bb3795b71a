"""Scripted stand-ins for each LLM role, and the router that picks one by the requested schema.

Each factory returns a `ScriptedChatModel` whose replies are valid for the role's per-call schema
(read from the request's `response_format`), so a whole episode runs without a real model.
`role_reply` answers any role (the `fake` spec and the mock server use it); `role_router()` gives
a copy to extend with routes for a user's own schemas.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.messages import BaseMessage

from humanllm.llm import json_schema_of
from humanllm.testing._builder import BUILDER_SCHEMAS, builder_reply
from humanllm.testing._models import ScriptedChatModel
from humanllm.testing._schema import example_for_schema

TextReply = Callable[[list[BaseMessage], dict[str, Any]], str]
"""A text reply function: (messages, call kwargs) -> reply text."""


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


def fake_character(reply: TextReply = character_reply) -> ScriptedChatModel:
    return ScriptedChatModel(function=reply)


def fake_judge_score(item_id: str) -> int:
    """The fake judge's score for an item: fixed per item id (+1, 0 or -1), so tests can predict it."""
    return int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 3 - 1


def judge_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A verdict for every item of the batch (score from `fake_judge_score`), a holistic rating or CoSER flaws."""
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
    if title == "HolisticFlaws":
        return json.dumps(fake_holistic_flaws())
    raise ValueError(f"the fake judge does not know the schema {title!r}")


def fake_holistic_flaws() -> dict[str, Any]:
    """The fake judge's CoSER reply: one anthropomorphism flaw of severity 2, no fidelity flaw."""
    return {
        "anthropomorphism": {
            "flaws": [{"instance": "Says every feeling outright.", "type": "emotional_depth", "severity": 2}]
        },
        "character_fidelity": {"flaws": []},
    }


def fake_judge(reply: TextReply = judge_reply) -> ScriptedChatModel:
    return ScriptedChatModel(function=reply)


WRITER_SCHEMAS = ("ScenarioDraftReply", "ScenarioChecklistReply", "VariationReply")
JUDGE_SCHEMAS = ("JudgeVerdicts", "HolisticReply", "HolisticFlaws")


class ReplyRouter:
    """A reply function that routes each request by the title of its requested schema.

    A schema with no route gets a schema-valid example (seeded by the message count); a request
    with no schema gets `text`. `with_route` returns a new router, so the shared one never changes.
    """

    def __init__(self, routes: dict[str, TextReply] | None = None, *, text: str = "All right.") -> None:
        self.routes: dict[str, TextReply] = dict(routes or {})
        self.text = text

    def with_route(self, titles: str | Iterable[str], reply: TextReply) -> ReplyRouter:
        """A copy of this router that answers the schemas titled `titles` with `reply`."""
        names = [titles] if isinstance(titles, str) else list(titles)
        return ReplyRouter({**self.routes, **dict.fromkeys(names, reply)}, text=self.text)

    def __call__(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        schema = json_schema_of(kwargs.get("response_format"))
        route = self.routes.get((schema or {}).get("title", ""))
        if route is not None:
            return route(messages, kwargs)
        if schema is not None:
            return json.dumps(example_for_schema(schema, random.Random(len(messages))))
        return self.text


def role_router() -> ReplyRouter:
    """A router with a route for every humanllm role: writer, character, judge, pattern builder."""
    return (
        ReplyRouter()
        .with_route(WRITER_SCHEMAS, writer_reply)
        .with_route("TurnReply", character_reply)
        .with_route(JUDGE_SCHEMAS, judge_reply)
        .with_route(BUILDER_SCHEMAS, builder_reply)
    )


_ROLES = role_router()


def role_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """Writer, character, judge and pattern-builder replies from the fakes; other schemas get an example."""
    return _ROLES(messages, kwargs)
