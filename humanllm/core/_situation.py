"""Situations: the eight DIAMONDS types and the six everyday domains."""

from __future__ import annotations

from enum import StrEnum


class SituationType(StrEnum):
    """The eight DIAMONDS situation types (Rauthmann et al., 2014)."""

    DUTY = "duty"
    INTELLECT = "intellect"
    ADVERSITY = "adversity"
    MATING = "mating"
    POSITIVITY = "positivity"
    NEGATIVITY = "negativity"
    DECEPTION = "deception"
    SOCIALITY = "sociality"

    @property
    def description(self) -> str:
        return _SITUATION_DESCRIPTIONS[self]


_SITUATION_DESCRIPTIONS: dict[SituationType, str] = {
    SituationType.DUTY: "a job has to be done: work, a task, an obligation",
    SituationType.INTELLECT: "the situation calls for reasoning, learning or deep thought",
    SituationType.ADVERSITY: "someone is threatened, blamed, criticised or under attack",
    SituationType.MATING: "potential romance or sexual attraction is in play",
    SituationType.POSITIVITY: "the situation is pleasant, playful or fun",
    SituationType.NEGATIVITY: "the situation can trigger frustration, anxiety or sadness",
    SituationType.DECEPTION: "someone may be lying, hiding something, or not to be trusted",
    SituationType.SOCIALITY: "social interaction, belonging and relationships are central",
}
