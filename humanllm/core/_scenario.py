"""Scenarios: the setting, the cast and who carries which pattern."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CharacterProfile(_Model):
    """One character in a scenario, as the character knows themself and the others."""

    name: str = Field(description="The character's name, unique in the scenario.")
    about_self: str = Field(
        description="Role, at least four personality descriptors, relevant background, motivation now."
    )
    about_others: str = Field(description="A subjective view of each other character, or that they are strangers.")
    heading: str = Field(
        default="",
        description="The name as an imported file wrote it when that differs from `name` (e.g. `**Sarah Chen**`, "
        "`Sarah Chen (34, nurse)`); written back on export. Empty: `name`.",
    )


class ScenarioChecklist(_Model):
    """Scenario-specific expected behaviours of one character (the MPD items)."""

    character: str
    items: list[str] = Field(min_length=1, description="Concrete behaviours expected in this scenario.")


class ScenarioVariation(_Model):
    """A counterfactual version of the scenario: changed situational factors, re-derived expectations."""

    factor_analysis: JsonValue = Field(
        description="Which situational factors drive the expected behaviour (text, or as an imported file gave it)."
    )
    new_factor_settings: JsonValue = Field(
        description="How those factors were changed (text, or the structure an imported file gave)."
    )
    background: str = Field(description="The scene rewritten with the changed factors.")
    analysis: str = Field(description="How the tendencies should now play out, and why.")
    checklists: list[ScenarioChecklist] = Field(default_factory=list, description="Re-derived expected behaviours.")
    protagonist: CharacterProfile | None = Field(
        default=None, description="The protagonist's profile in the varied scene, when it changed (imported)."
    )
    supporting: list[CharacterProfile] = Field(
        default_factory=list, description="The supporting profiles in the varied scene, when they changed (imported)."
    )
    supporting_names: list[str] = Field(
        default_factory=list, description="The supporting characters of the varied scene, by name (imported)."
    )


class Scenario(_Model):
    """A social scenario built around a bundle of patterns and a situation."""

    patterns: list[str] = Field(description="The pattern names of the bundle.")
    situation: str = Field(description="A DIAMONDS type, an everyday domain, or free text.")
    analysis: str = Field(description="Design rationale: how the patterns interact here and what to expect.")
    background: str = Field(description="Time, place, atmosphere and what people are doing just before; no dialogue.")
    protagonist: CharacterProfile
    supporting: list[CharacterProfile] = Field(min_length=1)
    char2pattern: dict[str, list[str]] = Field(description="Character name -> the patterns that character carries.")
    checklists: list[ScenarioChecklist] = Field(default_factory=list)
    variation: ScenarioVariation | None = Field(default=None, description="Optional counterfactual version.")

    @property
    def characters(self) -> list[CharacterProfile]:
        """Protagonist first, then the supporting cast."""
        return [self.protagonist, *self.supporting]

    def profile(self, name: str) -> CharacterProfile:
        for person in self.characters:
            if person.name == name:
                return person
        raise KeyError(name)
