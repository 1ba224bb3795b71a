"""The scenario writer: a bundle, a situation and a cast -> analysis, background, profiles, checklists.

Names and char2pattern are decided in code (seeded names, graph-based assignment); the model writes
the text. Each call's schema is built for the call, so names are enums and every character must
appear exactly once: even a small model cannot produce an unknown or missing character.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from humanllm.agents._templates import render
from humanllm.core import CharacterProfile, Pattern, ScenarioChecklist, ScenarioVariation
from humanllm.llm import RoleModel

WRITER_SYSTEM = "You are a careful writer of realistic social scenes. Reply with JSON only."


Behaviour = Annotated[str, Field(min_length=8, max_length=240)]
"""One expected behaviour: a short checkable sentence."""


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


def _names_literal(names: list[str]) -> Any:
    return Literal[tuple(names)]


def draft_schema(cast: list[CastMember]) -> type[BaseModel]:
    """The per-call output schema: one profile per cast member, names as an enum."""
    return _draft_schema(tuple(c.name for c in cast))


@functools.lru_cache(maxsize=1024)
def _draft_schema(names_: tuple[str, ...]) -> type[BaseModel]:
    names = list(names_)
    profile = create_model(
        "Profile",
        name=(_names_literal(names), ...),
        about_self=(str, Field(min_length=20, max_length=700)),
        about_others=(str, Field(min_length=10, max_length=500)),
    )

    def every_name_once(self: Any) -> Any:
        got = [p.name for p in self.profiles]
        if sorted(got) != sorted(names):
            raise ValueError(f"give exactly one profile for each of {names}; got {got}")
        return self

    return create_model(
        "ScenarioDraftReply",
        analysis=(str, Field(min_length=20, max_length=1000)),
        background=(str, Field(min_length=20, max_length=900)),
        profiles=(list[profile], Field(min_length=len(names), max_length=len(names))),  # type: ignore[valid-type]
        __validators__={"every_name_once": model_validator(mode="after")(every_name_once)},  # type: ignore[dict-item]
    )


def checklist_schema(carriers: list[str]) -> type[BaseModel]:
    """Per-call schema for the scenario checklist: 2-6 behaviours for each pattern carrier."""
    return _checklist_schema(tuple(carriers))


@functools.lru_cache(maxsize=1024)
def _checklist_schema(carriers_: tuple[str, ...]) -> type[BaseModel]:
    carriers = list(carriers_)
    entry = create_model(
        "CharacterChecklist",
        character=(_names_literal(carriers), ...),
        behaviours=(list[Behaviour], Field(min_length=2, max_length=6)),
    )

    def every_carrier_once(self: Any) -> Any:
        got = [c.character for c in self.checklists]
        if sorted(got) != sorted(carriers):
            raise ValueError(f"give exactly one checklist for each of {carriers}; got {got}")
        return self

    return create_model(
        "ScenarioChecklistReply",
        checklists=(list[entry], Field(min_length=len(carriers), max_length=len(carriers))),  # type: ignore[valid-type]
        __validators__={"every_carrier_once": model_validator(mode="after")(every_carrier_once)},  # type: ignore[dict-item]
    )


async def write_draft(model: RoleModel, cards: list[Pattern], situation: str, cast: list[CastMember]) -> ScenarioDraft:
    """Analysis, background and one profile per character."""
    prompt = render("scenario_draft", cards=cards, situation=situation, cast=cast)
    messages = [SystemMessage(content=WRITER_SYSTEM), HumanMessage(content=prompt)]
    reply = await model.astructured(messages, draft_schema(cast))
    data = reply.model_dump()
    order = {c.name: i for i, c in enumerate(cast)}
    profiles = sorted((CharacterProfile(**p) for p in data["profiles"]), key=lambda p: order[p.name])
    return ScenarioDraft(analysis=data["analysis"], background=data["background"], profiles=profiles)


async def write_checklists(model: RoleModel, draft: ScenarioDraft, cast: list[CastMember]) -> list[ScenarioChecklist]:
    """2-6 scenario-specific expected behaviours for each character that carries patterns."""
    carriers = [c for c in cast if c.patterns]
    if not carriers:
        return []
    prompt = render("scenario_checklist", background=draft.background, analysis=draft.analysis, cast=carriers)
    schema = checklist_schema([c.name for c in carriers])
    reply = await model.astructured([SystemMessage(content=WRITER_SYSTEM), HumanMessage(content=prompt)], schema)
    by_name = {c["character"]: c["behaviours"] for c in reply.model_dump()["checklists"]}
    return [ScenarioChecklist(character=c.name, items=by_name[c.name]) for c in carriers]


class VariationReply(BaseModel):
    """The writer's counterfactual scene (bounded so small models stop)."""

    factor_analysis: str = Field(min_length=20, max_length=800)
    new_factor_settings: str = Field(min_length=10, max_length=500)
    background: str = Field(min_length=20, max_length=900)
    analysis: str = Field(min_length=20, max_length=1000)


async def write_variation(model: RoleModel, draft: ScenarioDraft, cast: list[CastMember]) -> ScenarioVariation:
    """A counterfactual scene with changed situational factors and its re-derived checklists."""
    prompt = render("scenario_variation", background=draft.background, analysis=draft.analysis)
    messages = [SystemMessage(content=WRITER_SYSTEM), HumanMessage(content=prompt)]
    reply = await model.astructured(messages, VariationReply)
    varied = ScenarioDraft(analysis=reply.analysis, background=reply.background, profiles=draft.profiles)
    return ScenarioVariation(**reply.model_dump(), checklists=await write_checklists(model, varied, cast))
