"""One released record as an episode: every shape the authors' scripts write, names reconciled.

`episode_from_released` raises `ValueError` naming the field when a record cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import JsonValue

from humanllm.agents.trinity import parse_trinity
from humanllm.core import (
    CharacterProfile,
    Conversation,
    Episode,
    Scenario,
    ScenarioChecklist,
    ScenarioVariation,
    Turn,
    spec_id,
)
from humanllm.simulation._released_names import Cast, clean_name, split_conversation_text
from humanllm.simulation._released_write import episode_to_released

__all__ = ["ReadRecord", "episode_from_released", "episode_to_released"]

KNOWN_FIELDS = frozenset(
    {
        "pattern",
        "patterns",
        "situation",
        "analysis",
        "scenario",
        "protagonist",
        "supporting_characters",
        "char2pattern",
        "pattern_distribution",
        "conversation",
        "conversation_checklist",
        "factor_analysis",
        "new_factor_settings",
        "scenario_variation",
        "analysis_variation",
        "supporting_characters_variation",
        "conversation_checklist_variation",
        "split",
    }
)
_SCENARIO_FIELDS = frozenset({"storyBackground", "charactersProfiles"})
_PROFILE_FIELDS = frozenset({"name", "aboutSelf", "aboutOthers"})


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true/false"}.get(type(value), "a number")


@dataclass
class ReadRecord:
    """A record read as an episode, and what reading it noticed."""

    episode: Episode
    renamed: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)


@dataclass
class _Reader:
    record: dict[str, Any]
    cast: Cast = field(default_factory=lambda: Cast([]))
    renamed: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def text(self, value: object, where: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"{where} is {_kind(value)}, not a text")
        return value

    def names(self, value: object, where: str) -> list[str]:
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError(f"{where} is {_kind(value)}, not a list of texts")
        return [item.strip() for item in items if item.strip()]

    def obj(self, value: object, where: str, known: frozenset[str] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"{where} is {_kind(value)}, not an object")
        if known is not None:
            self.unknown.extend(f"{where}.{key}" for key in value if key not in known)
        return value

    def patterns(self) -> list[str]:
        raw = self.record.get("pattern", self.record.get("patterns"))
        if isinstance(raw, str):  # one pattern, or a bundle's "a + b" name
            found = [part.strip() for part in raw.split(" + ") if part.strip()]
        else:
            found = self.names(raw, "pattern")
        if not found:
            raise ValueError("pattern is missing or empty")
        return found

    def profile(self, raw: object, where: str, canonical: str | None = None) -> CharacterProfile:
        data = self.obj(raw, where, None)
        self.unknown.extend(f"charactersProfiles.{key}" for key in data if key not in _PROFILE_FIELDS)
        written = self.text(data.get("name"), f"{where}.name").strip()
        name = canonical or self.cast.resolve(written) or clean_name(written)
        if not name:
            raise ValueError(f"{where}.name is missing")
        if written and written != name:
            self.renamed[written] = name
        return CharacterProfile(
            name=name,
            about_self=self.text(data.get("aboutSelf"), f"{where}.aboutSelf"),
            about_others=self.text(data.get("aboutOthers"), f"{where}.aboutOthers"),
            heading=written if written != name else "",
        )

    def characters(self, scenario: dict[str, Any]) -> tuple[CharacterProfile, list[CharacterProfile]]:
        profiles = self.obj(scenario.get("charactersProfiles"), "scenario.charactersProfiles")
        if not profiles.get("protagonist"):
            raise ValueError("scenario.charactersProfiles.protagonist is missing")
        raw_support = profiles.get("supportingCharacter") or []
        raw_support = [raw_support] if isinstance(raw_support, dict) else raw_support
        if not isinstance(raw_support, list):
            raise ValueError(f"scenario.charactersProfiles.supportingCharacter is {_kind(raw_support)}, not a list")
        lead = clean_name(self.text(self.record.get("protagonist"), "protagonist"))  # clean as their scripts write it
        protagonist = self.profile(profiles["protagonist"], "protagonist profile", lead or None)
        written_names = self.names(self.record.get("supporting_characters"), "supporting_characters")
        listed = list(dict.fromkeys(clean_name(n) for n in written_names))
        by_heading = Cast([n for n in listed if n])
        supporting = []
        for index, raw in enumerate(raw_support):
            written = self.text(self.obj(raw, f"supportingCharacter[{index}]").get("name"), "name")
            supporting.append(self.profile(raw, f"supportingCharacter[{index}]", by_heading.resolve(written)))
        named = {protagonist.name, *(p.name for p in supporting)}
        supporting += [CharacterProfile(name=n, about_self="", about_others="") for n in listed if n and n not in named]
        everyone = [protagonist.name, *(p.name for p in supporting)]
        doubled = sorted({n for n in everyone if everyone.count(n) > 1})
        if doubled:
            raise ValueError(f"two characters are both called {doubled[0]!r}")
        if not supporting:
            raise ValueError("the scenario has no supporting character")
        self.cast = Cast(everyone)
        return protagonist, supporting

    def name(self, written: str, where: str) -> str:
        """The canonical name of `written`; a name outside the cast is kept as written and noted."""
        name = self.cast.resolve(written)
        if name is None:
            self.unmatched.append(f"{where}: {written}")
            return written
        if name != written:
            self.renamed[written] = name
        return name

    def by_name(self, raw: object, where: str) -> dict[str, list[str]]:
        """A name -> list mapping (char2pattern, a checklist), its names made canonical."""
        out: dict[str, list[str]] = {}
        for written, items in self.obj(raw, where).items():
            merged = out.setdefault(self.name(str(written), where), [])
            merged.extend(i for i in self.names(items, f"{where}[{written!r}]") if i not in merged)
        return out

    def checklists(self, raw: object, where: str) -> list[ScenarioChecklist]:
        return [ScenarioChecklist(character=n, items=items) for n, items in self.by_name(raw, where).items() if items]

    def turns(self) -> list[Turn]:
        raw = self.record.get("conversation")
        if raw is None:
            return []
        if isinstance(raw, str):
            lines = split_conversation_text(raw, self.cast)
            if raw.strip() and not lines:
                raise ValueError(f"no line of the conversation text starts with a cast member's name {self.cast.names}")
            for speaker, written, _ in lines:
                if written != speaker:
                    self.renamed[written] = speaker
            return [parse_trinity(content, speaker) for speaker, _, content in lines]
        if not isinstance(raw, list):
            raise ValueError(f"conversation is {_kind(raw)}, not a list of turns or a text")
        turns = []
        for index, line in enumerate(raw):
            if not isinstance(line, dict):
                raise ValueError(f"conversation[{index}] is {_kind(line)}, not an object with char and content")
            written = self.text(line.get("char", line.get("speaker")), f"conversation[{index}].char").strip()
            resolved = self.cast.resolve(written)
            if resolved is None:
                raise ValueError(f"conversation[{index}] speaker {written!r} is not in the cast {self.cast.names}")
            if resolved != written:
                self.renamed[written] = resolved
            speaker = resolved
            content = self.text(line.get("content", line.get("text")), f"conversation[{index}].content")
            turns.append(parse_trinity(content, speaker))
        return turns

    def variation(self) -> ScenarioVariation | None:
        record = self.record
        raw = record.get("scenario_variation")
        varied = {"storyBackground": raw} if isinstance(raw, str) else self.obj(raw, "scenario_variation")
        self.unknown.extend(f"scenario_variation.{key}" for key in varied if key not in _SCENARIO_FIELDS)
        profiles = self.obj(varied.get("charactersProfiles"), "scenario_variation.charactersProfiles")
        support = profiles.get("supportingCharacter") or []
        support = [support] if isinstance(support, dict) else support
        if not isinstance(support, list):
            raise ValueError(f"scenario_variation supportingCharacter is {_kind(support)}, not a list")
        factors: JsonValue = record.get("factor_analysis")
        settings: JsonValue = record.get("new_factor_settings")
        lead = profiles.get("protagonist")
        checklist_key, names_key = "conversation_checklist_variation", "supporting_characters_variation"
        variation = ScenarioVariation(
            factor_analysis="" if factors is None else factors,
            new_factor_settings="" if settings is None else settings,
            background=self.text(varied.get("storyBackground"), "scenario_variation.storyBackground"),
            analysis=self.text(record.get("analysis_variation"), "analysis_variation"),
            checklists=self.checklists(record.get(checklist_key), checklist_key),
            protagonist=self.profile(lead, "varied protagonist") if lead else None,
            supporting=[self.profile(p, f"varied supportingCharacter[{i}]") for i, p in enumerate(support)],
            supporting_names=self.names(record.get(names_key), names_key),
        )
        return None if _blank(variation) else variation


def _blank(variation: ScenarioVariation) -> bool:
    """Nothing that export would write: the variation is read as absent."""
    dumped = variation.model_dump()
    return all(value in ("", None, [], {}) for value in dumped.values())


def episode_from_released(record: dict[str, Any], *, split: str | None = None) -> ReadRecord:
    """One released record as an episode (split label: the record's `split` field, else `split`)."""
    reader = _Reader(record)
    reader.unknown.extend(key for key in record if key not in KNOWN_FIELDS)
    scenario_raw = reader.obj(record.get("scenario"), "scenario", _SCENARIO_FIELDS)
    protagonist, supporting = reader.characters(scenario_raw)
    char2pattern = record.get("char2pattern", record.get("pattern_distribution"))
    scenario = Scenario(
        patterns=reader.patterns(),
        situation=reader.text(record.get("situation"), "situation"),
        analysis=reader.text(record.get("analysis"), "analysis"),
        background=reader.text(scenario_raw.get("storyBackground"), "scenario.storyBackground"),
        protagonist=protagonist,
        supporting=supporting,
        char2pattern=reader.by_name(char2pattern, "char2pattern"),
        checklists=reader.checklists(record.get("conversation_checklist"), "conversation_checklist"),
        variation=reader.variation(),
    )
    label = reader.text(record.get("split"), "split").strip() or split
    episode = Episode(
        id="",
        scenario=scenario,
        conversation=Conversation(turns=reader.turns(), ended_by="released"),
        mode="author",
        models={"source": "released"},
        config={"split": label} if label else {},
    )
    episode.id = spec_id(episode_to_released(episode))
    return ReadRecord(episode, reader.renamed, reader.unmatched, sorted(set(reader.unknown)))
