"""The scenario writer: a bundle, a situation and a cast -> analysis, background, profiles, checklists.

Names and char2pattern are decided in code (seeded names, graph-based assignment); the model writes
the text. Each call's schema carries every rule the reply must follow: profiles and checklists
are objects whose required (and only) keys are the character names (one pydantic shape per cast
size, with the names put in by `humanllm.llm.KeyedReply`), so
every character appears exactly once, and every string and list is bounded so that the longest
reply the schema admits fits the writer's token budget (see `humanllm.agents._budget`). Even the
small local model, decoding under the schema's grammar, then cannot write a reply that validation
rejects. The keyed replies are converted to the core models here.
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from humanllm.agents._budget import (
    DEFAULT_MAX_TOKENS,
    fit,
    fit_keyed,
    max_tokens_of,
    scaled,
    string_bounds,
)
from humanllm.agents._templates import render
from humanllm.core import CharacterProfile, Pattern, ScenarioChecklist, ScenarioVariation, SituationType
from humanllm.llm import KeyedReply, RoleModel, schema_of, shape_key

_CLOSED = ConfigDict(extra="forbid")
"""Keyed objects allow no other key: an unknown name is an error, as a missing one is."""

DRAFT_CHARS = {"analysis": 1000, "background": 900, "about_self": 700, "about_others": 500}
"""Longest of each draft field when the budget allows (llama.cpp's grammar caps strings at 1000)."""
DRAFT_FLOORS = {"analysis": 60, "background": 80, "about_self": 60, "about_others": 30}
"""Bounds never go below these, however small the budget: a scene needs at least that much."""
CHECKLIST_ITEMS = (2, 6)
"""Expected behaviours per pattern carrier: at least, and at most when the budget allows."""
BEHAVIOUR_CHARS = (8, 240, 60)
"""An expected behaviour's length: its minimum, its bound when the budget allows, its lowest bound."""
VARIATION_CHARS = {"factor_analysis": 800, "new_factor_settings": 500, "background": 900, "analysis": 1000}
VARIATION_FLOORS = {"factor_analysis": 100, "new_factor_settings": 60, "background": 120, "analysis": 100}


class CastMember(BaseModel):
    """A character slot before the writer fills it in."""

    model_config = ConfigDict(extra="forbid")

    name: str
    patterns: list[str] = Field(default_factory=list)


class ScenarioDraft(BaseModel):
    """What the writer produced for the scene."""

    analysis: str
    background: str
    profiles: list[CharacterProfile]


def _text(min_length: int, max_length: int, description: str) -> Any:
    return (str, Field(min_length=min_length, max_length=max_length, description=description))


def keyed_model(title: str, count: int, value: Any, describe: str) -> type[BaseModel]:
    """The shape of an object keyed by `count` names (`KeyedReply` puts the names in): each key required,
    no other key allowed.

    `value` is the type of every entry; `describe` its description, with `{name}` standing for the key.
    """
    fields: dict[str, Any] = {shape_key(n): (value, Field(description=describe)) for n in range(count)}
    return create_model(title, __config__=_CLOSED, **fields)


# --- the draft ------------------------------------------------------------------------------------
def draft_schema(cast: list[CastMember], max_tokens: int = DEFAULT_MAX_TOKENS) -> KeyedReply[BaseModel]:
    """The per-call schema: analysis, background and one profile under each cast member's name."""
    return _draft_schema(tuple(c.name for c in cast), max_tokens)


def _bounds_at(scale: float) -> dict[str, int]:
    return {key: scaled(chars, scale, DRAFT_FLOORS[key]) for key, chars in DRAFT_CHARS.items()}


@functools.lru_cache(maxsize=64)
def _profile_at(scale: float) -> type[BaseModel]:
    """One profile's model at a scale: it holds no name, so every cast shares it."""
    n = _bounds_at(scale)
    return create_model(
        "Profile",
        about_self=_text(20, n["about_self"], "Role, four or more personality traits, background, current want."),
        about_others=_text(10, n["about_others"], "Their subjective view of each other character."),
    )


def _draft_at(count: int, scale: float) -> type[BaseModel]:
    n = _bounds_at(scale)
    profiles = keyed_model("Profiles", count, _profile_at(scale), "The profile of {name}.")
    return create_model(
        "ScenarioDraftReply",
        analysis=_text(20, n["analysis"], "How the patterns will interact in this scene."),
        background=_text(20, n["background"], "Time, place, atmosphere, what people are doing; no dialogue."),
        profiles=(profiles, Field(description="One profile per character, under the character's name.")),
    )


@functools.lru_cache(maxsize=64)
def _draft_schema(names: tuple[str, ...], max_tokens: int) -> KeyedReply[BaseModel]:
    return fit_keyed(_draft_at, names, max_tokens, what=f"scenario draft for {len(names)} characters")


def situation_description(situation: str) -> str:
    """What a DIAMONDS type means (Rauthmann et al., 2014); empty for a domain or free text."""
    known = {s.value: s for s in SituationType}
    found = known.get(situation.strip().lower())
    return found.description if found is not None else ""


async def write_draft(model: RoleModel, cards: list[Pattern], situation: str, cast: list[CastMember]) -> ScenarioDraft:
    """Analysis, background and one profile per character."""
    schema = draft_schema(cast, max_tokens_of(model))
    limits = string_bounds(schema)
    prompt = render(
        "scenario_draft",
        cards=cards,
        situation=situation,
        situation_description=situation_description(situation),
        cast=cast,
        limits=limits,
    )
    messages = [SystemMessage(content=render("writer_system")), HumanMessage(content=prompt)]
    data = schema.dump(await model.astructured(messages, schema))
    profiles = [CharacterProfile(name=c.name, **data["profiles"][c.name]) for c in cast]
    return ScenarioDraft(analysis=data["analysis"], background=data["background"], profiles=profiles)


# --- checklists -----------------------------------------------------------------------------------
def checklist_schema(carriers: list[str], max_tokens: int = DEFAULT_MAX_TOKENS) -> KeyedReply[BaseModel]:
    """Per-call schema for the scenario checklist: 2 to at most 6 behaviours under each carrier's name."""
    return _checklist_schema(tuple(carriers), max_tokens)


def _checklist_at(count: int, scale: float) -> type[BaseModel]:
    low, high = CHECKLIST_ITEMS
    shortest, longest, floor = BEHAVIOUR_CHARS
    behaviour = Annotated[str, Field(min_length=shortest, max_length=scaled(longest, scale, floor))]
    items = Annotated[list[behaviour], Field(min_length=low, max_length=max(low, math.ceil(high * scale)))]
    checklists = keyed_model("Checklists", count, items, "The behaviours expected of {name} in this scene.")
    return create_model(
        "ScenarioChecklistReply",
        checklists=(checklists, Field(description="The expected behaviours, under each character's name.")),
    )


@functools.lru_cache(maxsize=64)
def _checklist_schema(carriers: tuple[str, ...], max_tokens: int) -> KeyedReply[BaseModel]:
    return fit_keyed(_checklist_at, carriers, max_tokens, what=f"checklist for {len(carriers)} characters")


def _checklist_bounds(schema: KeyedReply[BaseModel]) -> tuple[int, int]:
    """(most behaviours per character, longest behaviour) of a checklist schema (shown to the model)."""
    root = schema_of(schema)
    entry = next(iter(root["$defs"]["Checklists"]["properties"].values()))
    return entry["maxItems"], entry["items"]["maxLength"]


async def write_checklists(model: RoleModel, draft: ScenarioDraft, cast: list[CastMember]) -> list[ScenarioChecklist]:
    """2-6 scenario-specific expected behaviours for each character that carries patterns."""
    carriers = [c for c in cast if c.patterns]
    if not carriers:
        return []
    schema = checklist_schema([c.name for c in carriers], max_tokens_of(model))
    most, longest = _checklist_bounds(schema)
    prompt = render(
        "scenario_checklist",
        background=draft.background,
        analysis=draft.analysis,
        cast=carriers,
        most=most,
        longest=longest,
    )
    reply = await model.astructured(
        [SystemMessage(content=render("writer_system")), HumanMessage(content=prompt)], schema
    )
    by_name = schema.dump(reply)["checklists"]
    return [ScenarioChecklist(character=c.name, items=by_name[c.name]) for c in carriers]


# --- the variation --------------------------------------------------------------------------------
def _variation_at(scale: float) -> type[BaseModel]:
    n = {key: scaled(chars, scale, VARIATION_FLOORS[key]) for key, chars in VARIATION_CHARS.items()}
    return create_model(
        "VariationReply",
        __doc__="The writer's counterfactual scene (bounded so the whole reply fits the budget).",
        factor_analysis=_text(20, n["factor_analysis"], "The situational factors that drive the behaviour."),
        new_factor_settings=_text(10, n["new_factor_settings"], "How one or two of those factors change."),
        background=_text(20, n["background"], "The scene rewritten with the changed factors; no dialogue."),
        analysis=_text(20, n["analysis"], "How the tendencies now play out differently, and why."),
    )


@functools.lru_cache(maxsize=64)
def variation_schema(max_tokens: int = DEFAULT_MAX_TOKENS) -> type[BaseModel]:
    """The counterfactual scene's schema, sized to the writer's token budget."""
    return fit(_variation_at, max_tokens, what="scenario variation")


async def write_variation(model: RoleModel, draft: ScenarioDraft, cast: list[CastMember]) -> ScenarioVariation:
    """A counterfactual scene with changed situational factors and its re-derived checklists."""
    schema = variation_schema(max_tokens_of(model))
    limits = string_bounds(schema)
    prompt = render("scenario_variation", background=draft.background, analysis=draft.analysis, limits=limits)
    messages = [SystemMessage(content=render("writer_system")), HumanMessage(content=prompt)]
    reply = (await model.astructured(messages, schema)).model_dump()
    varied = ScenarioDraft(analysis=reply["analysis"], background=reply["background"], profiles=draft.profiles)
    return ScenarioVariation(**reply, checklists=await write_checklists(model, varied, cast))
