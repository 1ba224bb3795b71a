"""The pattern card: one psychological pattern a character can carry."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from humanllm.core._situation import SituationType

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

CHECKLIST_MIN = 12
"""Fewest checklist items an authored card may have (the paper's 12-15)."""
CHECKLIST_MAX = 15
"""Most checklist items an authored card may have; imported cards keep as many as the release gives."""


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


class Aspect(StrEnum):
    """The ten Big-Five aspects, two per dimension (DeYoung, Quilty & Peterson, 2007).

    Opposite poles of one aspect cannot describe one person (talkative and quiet are both about
    assertiveness); opposite poles of different aspects of one dimension can, and make the
    inner-conflict characters a multi-pattern benchmark wants (composed yet anxious: steady under
    provocation, worried inside)."""

    ENTHUSIASM = "enthusiasm"
    ASSERTIVENESS = "assertiveness"
    COMPASSION = "compassion"
    POLITENESS = "politeness"
    INDUSTRIOUSNESS = "industriousness"
    ORDERLINESS = "orderliness"
    VOLATILITY = "volatility"
    WITHDRAWAL = "withdrawal"
    INTELLECT = "intellect"
    OPENNESS = "openness"

    @property
    def dimension(self) -> Family:
        return _ASPECT_DIMENSION[self]


_ASPECT_DIMENSION = {
    Aspect.ENTHUSIASM: Family.EXTRAVERSION,
    Aspect.ASSERTIVENESS: Family.EXTRAVERSION,
    Aspect.COMPASSION: Family.AGREEABLENESS,
    Aspect.POLITENESS: Family.AGREEABLENESS,
    Aspect.INDUSTRIOUSNESS: Family.CONSCIENTIOUSNESS,
    Aspect.ORDERLINESS: Family.CONSCIENTIOUSNESS,
    Aspect.VOLATILITY: Family.EMOTIONAL_STABILITY,
    Aspect.WITHDRAWAL: Family.EMOTIONAL_STABILITY,
    Aspect.INTELLECT: Family.OPENNESS,
    Aspect.OPENNESS: Family.OPENNESS,
}


class CardOrigin(StrEnum):
    """Where a card came from, which decides how complete it must be."""

    AUTHORED = "authored"
    """Built in, written by hand or by `patterns build`: every section filled, 12-15 checklist items."""
    IMPORTED = "imported"
    """Written by `patterns import` from the released files: it keeps what the release gives, so it may
    lack triggers, markers and parts of the mechanisms (see `Pattern.missing`), and its checklist may be
    shorter or longer than 12-15 items."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# The sections are lenient on their own so that an imported card can leave parts empty; `Pattern`
# holds an authored card to these minimums (characters for text, items for lists).
_AUTHORED_MINIMUMS: dict[str, dict[str, int]] = {
    "core_mechanisms": {"cognitive": 20, "emotional": 20, "behavioral": 20},
    "real_world_manifestation": {"everyday": 20, "costs": 10, "benefits": 10},
    "triggers": {"situations": 1, "cues": 2},
    "markers": {"thought": 2, "action": 2, "speech": 2},
}
_DEFINITION_MIN = 40


class CoreMechanisms(_Strict):
    """Why the pattern happens, channel by channel (authored cards: 20+ characters each)."""

    cognitive: str = Field(
        default="",
        description="What the mind does: appraisal, inference, attention. An imported card whose release "
        "gives one undivided mechanism text keeps it here.",
    )
    emotional: str = Field(default="", description="What is felt, and which feeling drives or follows it.")
    behavioral: str = Field(default="", description="What the person does because of it.")
    motivation: str | None = Field(
        default=None,
        description="Social-cognitive patterns: the evolutionary or motivational reason it exists.",
    )


class Manifestation(_Strict):
    """How the pattern shows in everyday life (authored cards: all three filled)."""

    everyday: str = Field(default="", description="Concrete everyday situations where it shows.")
    costs: str = Field(default="", description="What it costs the person or others.")
    benefits: str = Field(default="", description="What it buys the person or others.")


class Triggers(_Strict):
    """What activates the pattern (authored cards: 1+ situation, 2+ cues)."""

    situations: list[SituationType] = Field(default_factory=list, description="DIAMONDS types that activate it.")
    cues: list[str] = Field(default_factory=list, description="Concrete cues in a scene that switch it on.")


class Markers(_Strict):
    """What the pattern looks like in each channel of a turn (authored cards: 2+ each).

    The simulator's private guidance for a character is drawn from these; a card without them
    guides nobody (its character still carries the pattern and is judged on its checklist)."""

    thought: list[str] = Field(default_factory=list, description="Signs in the private inner thought.")
    action: list[str] = Field(default_factory=list, description="Signs in visible action and expression.")
    speech: list[str] = Field(default_factory=list, description="Signs in what is said aloud.")


class Reference(_Strict):
    """A canonical source the card rests on."""

    authors: str
    year: int = Field(ge=1850, le=2030)
    title: str


def _authored(info: ValidationInfo) -> bool:
    # A card whose origin failed to validate is held to the authored rules.
    return info.data.get("origin", CardOrigin.AUTHORED) is CardOrigin.AUTHORED


class Pattern(_Strict):
    """A psychological pattern card (social-cognitive pattern or Big-Five trait marker)."""

    name: str = Field(min_length=2, description="Exact name, lower case, as in the released library.")
    id: str = Field(description="Stable slug of the name.")
    kind: PatternKind
    family: Family = Field(description="Social-cognitive family, or the Big-Five dimension for traits.")
    pole: Pole | None = Field(default=None, description="Traits only: which pole of the dimension.")
    aspect: Aspect | None = Field(
        default=None,
        description="Traits only: which of its dimension's two aspects (DeYoung et al., 2007) the marker belongs "
        "to. Opposite poles of one aspect exclude each other in one character; of different aspects they do not.",
    )
    origin: CardOrigin = Field(
        default=CardOrigin.AUTHORED,
        description="'authored' cards must be complete; 'imported' ones keep what the released files give.",
    )
    aliases: list[str] = Field(default_factory=list, description="Other names people use for it.")
    definition: str = Field(min_length=1, description="Two to four sentences (authored cards: 40+ characters).")
    # validate_default: an authored card that leaves a section out is checked like one that leaves it empty
    core_mechanisms: CoreMechanisms = Field(default_factory=CoreMechanisms, validate_default=True)
    real_world_manifestation: Manifestation = Field(default_factory=Manifestation, validate_default=True)
    triggers: Triggers = Field(default_factory=Triggers, validate_default=True)
    markers: Markers = Field(default_factory=Markers, validate_default=True)
    checklist: list[str] = Field(
        min_length=1,
        description="Behaviour-focused yes/no questions about one character's transcript (IPE items): "
        f"{CHECKLIST_MIN}-{CHECKLIST_MAX} on an authored card, as many as the release gives on an imported one.",
    )
    checklist_evidence: dict[str, str] = Field(
        default_factory=dict,
        description="Released `evidence_status` per checklist item, keyed by the item's question (e.g. "
        "'supported', 'inferred'): whether the authors found the item borne out in example cases.",
    )
    case_review: str | None = Field(
        default=None, description="Released `case_review`: how well example cases support the checklist items."
    )
    notes: str | None = Field(
        default=None, description="Released `notes`: the authors' instructions for using the checklist."
    )
    contrast_with: list[str] = Field(
        default_factory=list,
        description="Sibling patterns this card must be told apart from (near-synonym traits, twin constructs "
        "of the other kind), by name. Its checklist is written so that most items would not be satisfied as well "
        "by a character playing a sibling.",
    )
    contrast_items: dict[str, str] = Field(
        default_factory=dict,
        description="Contrast items: checklist questions (keys) that a character playing the named sibling "
        "(value, one of `contrast_with`) would answer -1, contradicted. They make the checklist tell siblings apart.",
    )
    references: list[Reference] = Field(default_factory=list)

    @field_validator("definition")
    @classmethod
    def _definition(cls, text: str, info: ValidationInfo) -> str:
        if _authored(info) and len(text) < _DEFINITION_MIN:
            raise ValueError(f"needs at least {_DEFINITION_MIN} characters on an authored card, has {len(text)}")
        return text

    @field_validator("core_mechanisms", "real_world_manifestation", "triggers", "markers")
    @classmethod
    def _complete_when_authored(cls, section: BaseModel, info: ValidationInfo) -> BaseModel:
        if not _authored(info) or info.field_name is None:
            return section
        short = [
            f"{field} needs at least {low} {'character' if isinstance(value, str) else 'item'}{'s' * (low > 1)}"
            for field, low in _AUTHORED_MINIMUMS[info.field_name].items()
            if len(value := getattr(section, field)) < low
        ]
        if short:
            raise ValueError("; ".join(short) + " (an authored card must be complete)")
        return section

    @field_validator("checklist")
    @classmethod
    def _questions(cls, items: list[str], info: ValidationInfo) -> list[str]:
        if _authored(info) and not CHECKLIST_MIN <= len(items) <= CHECKLIST_MAX:
            raise ValueError(f"needs {CHECKLIST_MIN}-{CHECKLIST_MAX} items on an authored card, has {len(items)}")
        for item in items:
            if not item.endswith("?"):
                raise ValueError(f"checklist item must be a yes/no question ending in '?': {item!r}")
        if len({i.lower() for i in items}) != len(items):
            raise ValueError("checklist has repeated items")
        return items

    @field_validator("checklist_evidence")
    @classmethod
    def _evidence_for_items(cls, evidence: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        questions = set(info.data.get("checklist", []))
        if stray := [q for q in evidence if q not in questions]:
            raise ValueError(f"evidence for a question that is not a checklist item: {stray[0]!r}")
        return evidence

    @field_validator("contrast_items")
    @classmethod
    def _contrasts_are_items(cls, contrasts: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        questions = set(info.data.get("checklist", []))
        siblings = {s.lower() for s in info.data.get("contrast_with", [])}
        if stray := [q for q in contrasts if q not in questions]:
            raise ValueError(f"contrast item that is not a checklist item: {stray[0]!r}")
        if unnamed := [s for s in contrasts.values() if s.lower() not in siblings]:
            raise ValueError(f"contrast item names {unnamed[0]!r}, which is not in contrast_with")
        return contrasts

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != slugify(self.name):
            raise ValueError(f"id must be {slugify(self.name)!r} for name {self.name!r}")
        if self.kind is PatternKind.TRAIT:
            if not self.family.is_big_five or self.pole is None:
                raise ValueError("a trait needs a Big-Five family and a pole")
            if self.aspect is not None and self.aspect.dimension is not self.family:
                raise ValueError(
                    f"aspect {self.aspect.value!r} belongs to {self.aspect.dimension.value}, not {self.family}"
                )
        else:
            if self.family.is_big_five or self.pole is not None or self.aspect is not None:
                raise ValueError("a social-cognitive pattern needs a social-cognitive family and no pole or aspect")
            if self.origin is CardOrigin.AUTHORED and not self.core_mechanisms.motivation:
                raise ValueError("core_mechanisms.motivation is required for social-cognitive patterns")
        return self

    @property
    def dimension(self) -> Family | None:
        """The Big-Five dimension of a trait, else None."""
        return self.family if self.kind is PatternKind.TRAIT else None

    def names(self) -> list[str]:
        """The name, id and aliases: everything it can be looked up by."""
        return [self.name, self.id, *self.aliases]

    def missing(self) -> list[str]:
        """The parts a complete card has and this one leaves empty, as dotted field names.

        Always empty for an authored card (validation enforces it). An imported card with any part
        missing is *incomplete*: it loads and can be judged (it has a checklist), but without markers
        the simulator gives its character no private guidance for it, and without triggers the
        sampler never prefers it for a situation."""
        gaps = [
            f"{section}.{field}"
            for section, fields in _AUTHORED_MINIMUMS.items()
            for field in fields
            if not getattr(getattr(self, section), field)
        ]
        if self.kind is PatternKind.SOCIAL_COGNITIVE and not self.core_mechanisms.motivation:
            gaps.insert(3, "core_mechanisms.motivation")
        return gaps

    @property
    def complete(self) -> bool:
        """True when no part is missing (see `missing`)."""
        return not self.missing()
