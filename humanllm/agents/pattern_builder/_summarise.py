"""Map-reduce summarising of a corpus into the card's sections, with provenance per section.

Map: one call per chunk takes notes per section. Collapse: when one section's notes do not fit
one prompt they are condensed in groups. Reduce: one call per section writes it from its notes
(or, with no corpus, from the model's own knowledge). Any unusable output falls back to the
deterministic stand-ins in `_fallbacks`, and the section's record says so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from humanllm.agents.pattern_builder import _fallbacks as fb
from humanllm.agents.pattern_builder._corpus import Chunk
from humanllm.agents.pattern_builder._provenance import SECTIONS, SectionRecord
from humanllm.agents.pattern_builder._schemas import (
    CONDENSED_CHARS,
    ChunkNotes,
    CondensedNotes,
    ManifestationReply,
    MarkersReply,
    TriggersReply,
    definition_schema,
    mechanisms_schema,
)
from humanllm.agents.pattern_builder._steps import StepRunner
from humanllm.agents.pattern_builder._text import clip, name_phrases, normalise_space, plausible_alias, redact
from humanllm.core import Family, SituationType

PROMPTS = "pattern_builder/"
SOCIAL_FAMILIES: dict[str, str] = {
    Family.COGNITIVE_BIAS.value: "a systematic error in judgement, memory or reasoning",
    Family.SOCIAL_INFLUENCE.value: "how other people shape what one thinks and does",
    Family.EVOLUTIONARY.value: "an adaptation for survival, kinship, mating or status",
    Family.MOTIVATIONAL.value: "a drive, need or source of meaning that moves behaviour",
}
SECTION_TITLES = {
    "definition": "definition",
    "core_mechanisms": "core mechanisms",
    "real_world_manifestation": "real-world manifestation",
    "triggers": "triggers",
    "markers": "markers per channel",
}


@dataclass(frozen=True)
class Note:
    """A note for one section and the documents it rests on."""

    text: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Subject:
    """The pattern being written, as far as it is known before the sections exist."""

    name: str
    family: Family | None
    trait: bool

    @property
    def family_label(self) -> str:
        if self.family is None:
            return "psychological pattern"
        label = self.family.value.replace("_", " ")
        return f"Big-Five trait marker, {label}" if self.trait else label


@dataclass
class Sections:
    """The card's sections as plain fields, with a record of where each came from."""

    fields: dict[str, Any]
    records: dict[str, SectionRecord]


async def take_notes(runner: StepRunner, name: str, chunks: list[Chunk]) -> dict[str, list[Note]]:
    """Map: notes per section from every chunk (extracted from its sentences where the model fails)."""
    runner.progress.stage("notes", len(chunks))

    async def one(chunk: Chunk) -> ChunkNotes:
        label = f"{chunk.document} part {chunk.index + 1}"
        reply = await runner.ask(
            "notes",
            f"{PROMPTS}notes",
            ChunkNotes,
            stage="notes",
            instead=f"notes for {label} extracted from its sentences",
            name=name,
            label=label,
            text=chunk.text,
        )
        if reply is None:
            return fb.extract_notes(chunk.text, name)
        return reply

    replies = await asyncio.gather(*(one(chunk) for chunk in chunks))
    notes: dict[str, list[Note]] = {section: [] for section in SECTIONS}
    for chunk, reply in zip(chunks, replies, strict=True):
        if not reply.relevant:
            continue
        for section in SECTIONS:
            text = getattr(reply, section).strip()
            if text:
                notes[section].append(Note(text=text, documents=(chunk.document,)))
    return notes


async def fit_notes(runner: StepRunner, name: str, section: str, notes: list[Note], budget: int) -> list[Note]:
    """Collapse: condense notes in groups until they fit one prompt of `budget` characters."""
    while len(notes) > 1 and sum(len(n.text) + 4 for n in notes) > budget:
        groups: list[list[Note]] = [[]]
        for note in notes:
            if groups[-1] and sum(len(n.text) + 4 for n in groups[-1]) + len(note.text) > budget:
                groups.append([])
            groups[-1].append(note)
        if len(groups) == len(notes):  # every note alone fills the budget: pair them up
            groups = [notes[i : i + 2] for i in range(0, len(notes), 2)]
        runner.progress.stage("condense", len(groups))
        notes = list(await asyncio.gather(*(_condense(runner, name, section, group) for group in groups)))
    return notes


async def _condense(runner: StepRunner, name: str, section: str, group: list[Note]) -> Note:
    documents = tuple(dict.fromkeys(d for n in group for d in n.documents))
    if len(group) == 1:
        return group[0]
    reply = await runner.ask(
        "condense",
        f"{PROMPTS}condense",
        CondensedNotes,
        stage="condense",
        instead="notes joined and cut instead",
        name=name,
        section=SECTION_TITLES[section],
        notes=[n.text for n in group],
    )
    if reply is None:
        return Note(text=clip(" ".join(n.text for n in group), CONDENSED_CHARS), documents=documents)
    return Note(text=reply.notes, documents=documents)


async def write_sections(
    runner: StepRunner,
    subject: Subject,
    notes: dict[str, list[Note]] | None,
    *,
    budget: int,
    taken_names: set[str],
) -> tuple[Sections, Family]:
    """Reduce: every section of the card, the definition first (the others are written to fit it)."""
    corpus = notes is not None
    notes = notes or {section: [] for section in SECTIONS}
    fitted = {s: await fit_notes(runner, subject.name, s, notes[s], budget) for s in SECTIONS}
    runner.progress.stage("sections", len(SECTIONS))
    sections = Sections(fields={}, records={})
    family = await _definition(runner, subject, fitted["definition"], sections, corpus, taken_names)
    subject = Subject(name=subject.name, family=family, trait=subject.trait)
    definition = sections.fields["definition"]
    await asyncio.gather(*(_section(runner, subject, s, fitted[s], definition, sections, corpus) for s in SECTIONS[1:]))
    return sections, family


def _record(method: str, notes: list[Note], note: str = "") -> SectionRecord:
    """Documents behind the notes; with no notes the model was asked to use its own knowledge."""
    documents = sorted({d for n in notes for d in n.documents})
    knowledge = method == "model" and not notes
    if knowledge and not note:
        note = "no document covers this section: written from the model's knowledge"
    return SectionRecord(method=method, documents=documents, knowledge=knowledge, note=note)  # type: ignore[arg-type]


def _prompt(subject: Subject, section: str, notes: list[Note], definition: str, corpus: bool) -> dict[str, Any]:
    return {
        "corpus": corpus,
        "name": subject.name,
        "family_label": subject.family_label,
        "definition": definition,
        "notes": [f"({', '.join(n.documents)}) {n.text}" for n in notes],
        "section": section,
        "families": {} if subject.family is not None else SOCIAL_FAMILIES,
        "with_motivation": not subject.trait,
        "situations": list(SituationType),
    }


async def _definition(
    runner: StepRunner,
    subject: Subject,
    notes: list[Note],
    sections: Sections,
    corpus: bool,
    taken_names: set[str],
) -> Family:
    families = None if subject.family is not None else tuple(SOCIAL_FAMILIES)
    schema = definition_schema(families)
    reply = await runner.ask(
        "section-definition",
        f"{PROMPTS}section",
        schema,
        stage="sections",
        instead="definition from the notes, or a placeholder",
        **_prompt(subject, "definition", notes, "", corpus),
    )
    family = subject.family or Family.COGNITIVE_BIAS
    if reply is not None:
        data = reply.model_dump()
        family = Family(data.get("family") or family)
        own = {subject.name.lower()}
        aliases = [normalise_space(a.lower()) for a in data["aliases"] if plausible_alias(a)]
        aliases = [a for a in dict.fromkeys(aliases) if a not in own and a not in taken_names]
        sections.fields.update(definition=data["definition"], aliases=aliases)
        sections.records["definition"] = _record("model", notes)
        return family
    if subject.family is None:
        runner.fallbacks.append(f"family: unknown after the definition step failed; used {family.value}")
    joined = clip(" ".join(n.text for n in notes), 600)
    if len(joined) >= 40:
        sections.fields.update(definition=joined, aliases=[])
        sections.records["definition"] = _record("notes", notes, "definition joined from the notes")
    else:
        label = Subject(subject.name, family, subject.trait).family_label
        sections.fields.update(definition=fb.template_definition(subject.name, label), aliases=[])
        sections.records["definition"] = _record("template", notes, "no usable text: generic placeholder")
    return family


_SCHEMAS: dict[str, type[BaseModel]] = {
    "real_world_manifestation": ManifestationReply,
    "triggers": TriggersReply,
    "markers": MarkersReply,
}


async def _section(
    runner: StepRunner,
    subject: Subject,
    section: str,
    notes: list[Note],
    definition: str,
    sections: Sections,
    corpus: bool,
) -> None:
    schema = mechanisms_schema(not subject.trait) if section == "core_mechanisms" else _SCHEMAS[section]
    reply = await runner.ask(
        f"section-{section}",
        f"{PROMPTS}section",
        schema,
        stage="sections",
        instead=f"{section} assembled from the notes, topped up with generic text",
        **_prompt(subject, section, notes, definition, corpus),
    )
    if reply is not None:
        sections.fields[section] = reply.model_dump(mode="json")
        sections.records[section] = _record("model", notes)
        return
    texts = [n.text for n in notes]
    value, complete = _from_notes(section, texts, not subject.trait, name_phrases([subject.name]))
    method = "notes" if texts and complete else "template"
    why = "assembled from the notes" if method == "notes" else "generic placeholder where the notes were silent"
    sections.fields[section] = value
    sections.records[section] = _record(method, notes, why)


def _from_notes(section: str, texts: list[str], motivation: bool, phrases: list[str]) -> tuple[dict[str, Any], bool]:
    """A section built from note sentences, topped up with templates; True when no template was needed."""
    if section == "core_mechanisms":
        cues = {k: v for k, v in fb.MECHANISM_CUES.items() if motivation or k != "motivation"}
        routed = fb.route(texts, cues, 400)
        value = {k: routed[k] if len(routed[k]) >= 20 else fb.TEMPLATE_MECHANISMS[k] for k in cues}
        return value, all(len(routed[k]) >= 20 for k in cues)
    if section == "real_world_manifestation":
        routed = fb.route(texts, fb.MANIFESTATION_CUES, 300)
        minimum = {"everyday": 20, "costs": 10, "benefits": 10}
        value = {k: routed[k] if len(routed[k]) >= minimum[k] else fb.TEMPLATE_MANIFESTATION[k] for k in minimum}
        return value, all(len(routed[k]) >= minimum[k] for k in minimum)
    if section == "triggers":
        found = fb.items_from(texts, low=2, high=4, limit=160)
        situations = [s.value for s in fb.situations_from(texts)]
        return {"situations": situations, "cues": fb.pad(found, fb.TEMPLATE_CUES, 2)}, len(found) >= 2
    by_channel = fb.route(texts, fb.CHANNEL_CUES, 480)
    markers: dict[str, list[str]] = {}
    complete = True
    for channel in ("thought", "action", "speech"):
        items = [redact(i, phrases) for i in fb.items_from([by_channel[channel]], low=2, high=3, limit=160)]
        complete = complete and len(items) >= 2
        markers[channel] = fb.pad(items, fb.TEMPLATE_MARKERS[channel], 2)
    return markers, complete
