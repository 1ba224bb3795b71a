"""The pattern card: one psychological pattern a character can carry."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from humanllm.core._situation import SituationType

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """The stable id of a pattern name: lower case, '&' as 'and', dashes."""
    return _SLUG_STRIP.sub("-", name.lower().replace("&", " and ")).strip("-")


class PatternKind(StrEnum):
    SOCIAL_COGNITIVE = "social_cognitive"
    TRAIT = "trait"


class Family(StrEnum):
    """Social-cognitive families, and for traits the Big-Five dimension."""

    COGNITIVE_BIAS = "cognitive_bias"
    SOCIAL_INFLUENCE = "social_influence"
    EVOLUTIONARY = "evolutionary"
    MOTIVATIONAL = "motivational"
    EXTRAVERSION = "extraversion"
    AGREEABLENESS = "agreeableness"
    CONSCIENTIOUSNESS = "conscientiousness"
    EMOTIONAL_STABILITY = "emotional_stability"
    OPENNESS = "openness"

    @property
    def is_big_five(self) -> bool:
        return self in _BIG_FIVE


_BIG_FIVE = frozenset(
    {
        Family.EXTRAVERSION,
        Family.AGREEABLENESS,
        Family.CONSCIENTIOUSNESS,
        Family.EMOTIONAL_STABILITY,
        Family.OPENNESS,
    }
)


class Pole(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CoreMechanisms(_Strict):
    """Why the pattern happens, channel by channel."""

    cognitive: str = Field(min_length=20, description="What the mind does: appraisal, inference, attention.")
    emotional: str = Field(min_length=20, description="What is felt, and which feeling drives or follows it.")
    behavioral: str = Field(min_length=20, description="What the person does because of it.")
    motivation: str | None = Field(
        default=None,
        description="Social-cognitive patterns: the evolutionary or motivational reason it exists.",
    )


class Manifestation(_Strict):
    """How the pattern shows in everyday life."""

    everyday: str = Field(min_length=20, description="Concrete everyday situations where it shows.")
    costs: str = Field(min_length=10, description="What it costs the person or others.")
    benefits: str = Field(min_length=10, description="What it buys the person or others.")


class Triggers(_Strict):
    """What activates the pattern."""

    situations: list[SituationType] = Field(min_length=1, description="DIAMONDS types that activate it.")
    cues: list[str] = Field(min_length=2, description="Concrete cues in a scene that switch it on.")


class Markers(_Strict):
    """What the pattern looks like in each channel of a turn."""

    thought: list[str] = Field(min_length=2, description="Signs in the private inner thought.")
    action: list[str] = Field(min_length=2, description="Signs in visible action and expression.")
    speech: list[str] = Field(min_length=2, description="Signs in what is said aloud.")


class Reference(_Strict):
    """A canonical source the card rests on."""

    authors: str
    year: int = Field(ge=1850, le=2030)
    title: str


class Pattern(_Strict):
    """A psychological pattern card (social-cognitive pattern or Big-Five trait marker)."""

    name: str = Field(min_length=2, description="Exact name, lower case, as in the released library.")
    id: str = Field(description="Stable slug of the name.")
    kind: PatternKind
    family: Family = Field(description="Social-cognitive family, or the Big-Five dimension for traits.")
    pole: Pole | None = Field(default=None, description="Traits only: which pole of the dimension.")
    aliases: list[str] = Field(default_factory=list, description="Other names people use for it.")
    definition: str = Field(min_length=40, description="Two to four sentences.")
    core_mechanisms: CoreMechanisms
    real_world_manifestation: Manifestation
    triggers: Triggers
    markers: Markers
    checklist: list[str] = Field(
        min_length=12,
        max_length=15,
        description="Behaviour-focused yes/no questions about one character's transcript (IPE items).",
    )
    references: list[Reference] = Field(default_factory=list)

    @field_validator("checklist")
    @classmethod
    def _questions(cls, items: list[str]) -> list[str]:
        for item in items:
            if not item.endswith("?"):
                raise ValueError(f"checklist item must be a yes/no question ending in '?': {item!r}")
        if len({i.lower() for i in items}) != len(items):
            raise ValueError("checklist has repeated items")
        return items

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != slugify(self.name):
            raise ValueError(f"id must be {slugify(self.name)!r} for name {self.name!r}")
        if self.kind is PatternKind.TRAIT:
            if not self.family.is_big_five or self.pole is None:
                raise ValueError("a trait needs a Big-Five family and a pole")
        else:
            if self.family.is_big_five or self.pole is not None:
                raise ValueError("a social-cognitive pattern needs a social-cognitive family and no pole")
            if not self.core_mechanisms.motivation:
                raise ValueError("core_mechanisms.motivation is required for social-cognitive patterns")
        return self

    @property
    def dimension(self) -> Family | None:
        """The Big-Five dimension of a trait, else None."""
        return self.family if self.kind is PatternKind.TRAIT else None

    def names(self) -> list[str]:
        """The name, id and aliases: everything it can be looked up by."""
        return [self.name, self.id, *self.aliases]
