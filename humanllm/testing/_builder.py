"""A scripted stand-in for the builder's model: schema-valid, sensible replies for every step.

`builder_reply` reads the requested schema from `response_format` and answers it, so the whole
build runs offline. `builder_model()` wraps it in a `ScriptedChatModel` (which counts calls).
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage

from humanllm.llm import json_schema_of
from humanllm.testing._models import ScriptedChatModel

BUILDER_SCHEMAS = (
    "ChunkNotes",
    "CondensedNotes",
    "DefinitionReply",
    "MechanismsReply",
    "ManifestationReply",
    "TriggersReply",
    "MarkersReply",
    "RelationsReply",
    "ChecklistReply",
    "ChecklistReviewReply",
)

QUESTIONS = (
    "Does the character keep defending a plan after hearing clear evidence that it is failing?",
    "Does the character propose putting more time or money into a course of action that is going badly?",
    "Does the character describe stopping now as wasting everything done so far?",
    "Does the character's inner thought dwell on how it would look to admit the plan was wrong?",
    "Does the character dismiss a colleague's warning about the plan without weighing it?",
    "Does the character promise that one more push will turn the results around?",
    "Does the character reframe a recent setback as a sign that success is close?",
    "Does the character become visibly tense when someone suggests cutting their losses?",
    "Does the character bring up their personal responsibility for the original decision?",
    "Does the character ask others for more support instead of reconsidering the goal?",
    "Does the character compare the project's past costs to justify going further?",
    "Does the character refuse to set a limit on further spending on the plan?",
    "Does the character avoid looking at the latest numbers when they are bad?",
    "Does the character speak of abandoning the plan as a personal defeat?",
    "Does the character decide to continue even after agreeing the odds have become poor?",
)


def _enum(schema: dict[str, Any], definition: str, field: str) -> list[str]:
    prop = schema["$defs"][definition]["properties"][field]
    return list(prop["enum"]) if "enum" in prop else [prop["const"]]


def builder_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A valid reply for any builder step (keyed on the schema's title)."""
    schema = json_schema_of(kwargs.get("response_format")) or {}
    title = schema.get("title", "")
    reply: dict[str, Any]
    if title == "ChunkNotes":
        reply = {
            "relevant": True,
            "definition": "People keep investing in a failing course of action to justify earlier choices.",
            "core_mechanisms": "They feel responsible for the first decision and fear admitting a mistake.",
            "real_world_manifestation": "Managers fund troubled projects; owners repair an old car again and again.",
            "triggers": "A setback after a public commitment; being personally responsible for the choice.",
            "markers": "Says one more push will fix it; avoids the bad numbers; thinks about saving face.",
        }
    elif title == "CondensedNotes":
        reply = {"notes": "People keep investing in failing plans they chose, to avoid admitting a mistake."}
    elif title == "DefinitionReply":
        reply = {
            "definition": "The tendency to keep investing time, money or effort in a failing course of action "
            "because one chose it, instead of judging its future prospects.",
            "aliases": ["commitment escalation"],
        }
        if "family" in schema.get("properties", {}):
            reply["family"] = "cognitive_bias"
    elif title == "MechanismsReply":
        reply = {
            "cognitive": "Past investments are weighed as if they could still be recovered.",
            "emotional": "Admitting a mistake feels threatening, so persisting brings relief.",
            "behavioral": "Adds resources to the failing plan and defends it to others.",
        }
        if "motivation" in schema.get("properties", {}):
            reply["motivation"] = "Looking consistent and competent protects one's standing in the group."
    elif title == "ManifestationReply":
        reply = {
            "everyday": "A manager keeps funding a late software project; a student stays in a course they dislike.",
            "costs": "Money and years lost to plans that will not work.",
            "benefits": "Persistence sometimes carries a hard project through a rough patch.",
        }
    elif title == "TriggersReply":
        reply = {
            "situations": ["duty", "adversity"],
            "cues": ["a setback in a project the character chose", "someone suggests stopping the plan"],
        }
    elif title == "MarkersReply":
        reply = {
            "thought": ["counts what has already gone into the plan", "fears looking foolish if it stops"],
            "action": ["reaches for more resources to put in", "avoids looking at the latest figures"],
            "speech": ["insists one more push will fix it", "calls stopping a waste of everything so far"],
        }
    elif title == "RelationsReply":
        target = _enum(schema, "RelationProposal", "target")[0]
        reply = {
            "proposals": [
                {
                    "target": target,
                    "type": "reinforces",
                    "direction": "outgoing",
                    "rationale": "Both make a person hold on to a past choice instead of judging what comes next.",
                }
            ]
        }
    elif title == "ChecklistReply":
        high = schema["properties"]["questions"].get("maxItems", len(QUESTIONS))
        reply = {"questions": list(QUESTIONS[:high])}
    elif title == "ChecklistReviewReply":
        keep = {"verdict": "keep", "also_predicted_by": "none", "rewrite": ""}
        reply = {key: dict(keep) for key in schema.get("properties", {})}
    else:
        raise ValueError(f"the fake builder does not know the schema {title!r}")
    return json.dumps(reply)


def builder_model() -> ScriptedChatModel:
    """A chat model that answers every builder step offline."""
    return ScriptedChatModel(function=builder_reply)
