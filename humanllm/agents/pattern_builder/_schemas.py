"""Reply schemas for each builder step: bounded strings and lists, enums built per call.

The bounds carry the card's own minimums (so grammar-constrained decoding cannot return a too-short
definition or a single marker), keep strings under llama.cpp's grammar limit of 1000 characters,
and keep the longest reply each schema admits within the builder's token budget
(`BUILDER_MAX_TOKENS`, see `humanllm.agents._budget`), so a reply is never cut off.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from humanllm.agents._budget import BUILDER_MAX_TOKENS, worst_case_tokens
from humanllm.core import SituationType

NOTE_CHARS = 400
"""Longest note per section from one chunk."""
CONDENSED_CHARS = 1000
QUESTION_CHARS = 150
"""Longest checklist question (the library's own: median 92 characters, 95% within 121)."""

Cue = Annotated[str, Field(min_length=10, max_length=160)]
Marker = Annotated[str, Field(min_length=10, max_length=160)]
Alias = Annotated[str, Field(min_length=2, max_length=60)]
Question = Annotated[str, Field(min_length=20, max_length=QUESTION_CHARS)]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChunkNotes(_Reply):
    """What one excerpt says about the pattern, per card section (empty when it says nothing)."""

    relevant: bool = Field(description="Does the excerpt say anything about the pattern?")
    definition: str = Field(max_length=NOTE_CHARS, description="What the pattern is.")
    core_mechanisms: str = Field(
        max_length=NOTE_CHARS, description="Why it happens: thinking, feeling, behaviour, motive."
    )
    real_world_manifestation: str = Field(max_length=NOTE_CHARS, description="Everyday examples, costs, benefits.")
    triggers: str = Field(max_length=NOTE_CHARS, description="Situations and cues that set it off.")
    markers: str = Field(max_length=NOTE_CHARS, description="Signs of it in thought, action and speech.")


class CondensedNotes(_Reply):
    """Several notes merged into one, keeping every distinct point."""

    notes: str = Field(min_length=1, max_length=CONDENSED_CHARS)


@functools.cache
def definition_schema(families: tuple[str, ...] | None) -> type[BaseModel]:
    """Definition and aliases; with `families`, also the family to choose from."""
    fields: dict[str, Any] = {
        "definition": (str, Field(min_length=40, max_length=600, description="Two to four sentences.")),
        "aliases": (list[Alias], Field(max_length=3, description="Other names for it; may be empty.")),
    }
    if families:
        fields["family"] = (Literal[families], Field(description="The family it belongs to."))
    return create_model("DefinitionReply", __config__=ConfigDict(extra="forbid"), **fields)


@functools.cache
def mechanisms_schema(with_motivation: bool) -> type[BaseModel]:
    """Core mechanisms; social-cognitive patterns also need the reason they exist."""
    text = Annotated[str, Field(min_length=20, max_length=400)]
    fields: dict[str, Any] = {
        "cognitive": (text, Field(description="What the mind does: appraisal, inference, attention.")),
        "emotional": (text, Field(description="What is felt, and which feeling drives or follows it.")),
        "behavioral": (text, Field(description="What the person does because of it.")),
    }
    if with_motivation:
        fields["motivation"] = (text, Field(description="The evolutionary or motivational reason it exists."))
    return create_model("MechanismsReply", __config__=ConfigDict(extra="forbid"), **fields)


class ManifestationReply(_Reply):
    """How the pattern shows in everyday life."""

    everyday: str = Field(min_length=20, max_length=500, description="Concrete everyday situations.")
    costs: str = Field(min_length=10, max_length=300, description="What it costs the person or others.")
    benefits: str = Field(min_length=10, max_length=300, description="What it buys the person or others.")


class TriggersReply(_Reply):
    """What activates the pattern."""

    situations: list[SituationType] = Field(min_length=1, max_length=3, description="Situation types.")
    cues: list[Cue] = Field(min_length=2, max_length=4, description="Concrete cues in a scene.")


class MarkersReply(_Reply):
    """Observable signs per channel of a turn."""

    thought: list[Marker] = Field(min_length=2, max_length=3, description="Signs in the private inner thought.")
    action: list[Marker] = Field(min_length=2, max_length=3, description="Signs in visible action or expression.")
    speech: list[Marker] = Field(min_length=2, max_length=3, description="Signs in what is said aloud.")


@functools.cache
def checklist_schema(low: int, high: int) -> type[BaseModel]:
    """Between `low` and `high` yes/no questions."""
    return create_model(
        "ChecklistReply",
        __config__=ConfigDict(extra="forbid"),
        questions=(list[Question], Field(min_length=low, max_length=high)),
    )


def _review_at(count: int, neighbours: tuple[str, ...], rewrite: int) -> type[BaseModel]:
    verdict: dict[str, Any] = {
        "verdict": (Literal["keep", "rewrite", "drop"], ...),
        "also_predicted_by": (
            Literal[(*neighbours, "none")],
            Field(description="A neighbouring pattern that predicts this behaviour just as well, or none."),
        ),
        "rewrite": (
            str,
            Field(max_length=rewrite, description="The better question when rewriting, else empty."),
        ),
    }
    item = create_model("ItemReview", __config__=ConfigDict(extra="forbid"), **verdict)
    fields: dict[str, Any] = {f"item_{i:02d}": (item, ...) for i in range(1, count + 1)}
    return create_model("ChecklistReviewReply", __config__=ConfigDict(extra="forbid"), **fields)


@functools.cache
def review_schema(count: int, neighbours: tuple[str, ...]) -> type[BaseModel]:
    """One verdict per item, in fixed fields `item_01`.. so even a small model answers each once.

    A review of up to `review_capacity(neighbours)` items fits the builder's token budget; review
    longer checklists in groups of that size (a rewrite must stay long enough for a real question).
    """
    return _review_at(count, neighbours, QUESTION_CHARS)


@functools.cache
def review_capacity(neighbours: tuple[str, ...], max_tokens: int = BUILDER_MAX_TOKENS) -> int:
    """The most items one review reply can hold when every bound is filled, within `max_tokens`."""
    count = 1
    while worst_case_tokens(_review_at(count + 1, neighbours, QUESTION_CHARS)) <= max_tokens:
        count += 1
    return count


@functools.cache
def relations_schema(candidates: tuple[str, ...]) -> type[BaseModel]:
    """Up to four proposed relations to the candidate patterns."""
    fields: dict[str, Any] = {
        "target": (Literal[candidates], ...),
        "type": (Literal["excludes", "not_same_character", "reinforces", "tension", "clash", "modulates"], ...),
        "direction": (
            Literal["outgoing", "incoming"],
            Field(description="outgoing: the new pattern acts on the target; incoming: the target acts on it."),
        ),
        "rationale": (str, Field(min_length=20, max_length=300)),
    }
    proposal = create_model("RelationProposal", __config__=ConfigDict(extra="forbid"), **fields)
    return create_model(
        "RelationsReply",
        __config__=ConfigDict(extra="forbid"),
        proposals=(list[proposal], Field(max_length=4)),  # type: ignore[valid-type]
    )
