"""Deterministic stand-ins for a step whose model output was unusable. Pure: no LLM calls.

Each fallback keeps the card schema-valid: notes are extracted from the excerpt's sentences;
sections are assembled from the notes, and only where no notes exist from a generic template.
The builder records which one it used in the provenance, so a reader knows what to re-check.
"""

from __future__ import annotations

from collections.abc import Sequence

from humanllm.agents.pattern_builder._schemas import NOTE_CHARS, ChunkNotes
from humanllm.agents.pattern_builder._text import clip, sentences, words
from humanllm.core import SituationType

SECTION_CUES: dict[str, tuple[str, ...]] = {
    "definition": ("tendency", "refers to", "defined", "definition", "known as", "describes", "is the"),
    "core_mechanisms": ("because", "cognitive", "emotion", "feel", "motiv", "evolution", "reason", "mechanism"),
    "real_world_manifestation": ("for example", "e.g.", "everyday", "cost", "benefit", "such as", "in practice"),
    "triggers": ("when ", "trigger", "situation", "cue", "under pressure", "after ", "especially"),
    "markers": ("say", "said", "thought", "express", "insist", "refuse", "argue", "gesture", "sign"),
}
MECHANISM_CUES: dict[str, tuple[str, ...]] = {
    "cognitive": ("think", "belie", "judg", "attention", "perceiv", "reason", "expect", "cognit", "memory"),
    "emotional": ("feel", "emotion", "anxi", "fear", "pride", "regret", "shame", "guilt", "anger", "hope"),
    "behavioral": ("act", "behav", "keep", "continu", "invest", "avoid", "choose", "spend", "do "),
    "motivation": ("evolution", "motiv", "need", "protect", "self-image", "status", "surviv", "adaptive"),
}
MANIFESTATION_CUES: dict[str, tuple[str, ...]] = {
    "everyday": ("for example", "e.g.", "everyday", "such as", "at work", "at home", "often"),
    "costs": ("cost", "loss", "harm", "waste", "damage", "risk", "worse"),
    "benefits": ("benefit", "help", "protect", "gain", "advantage", "useful", "comfort"),
}
CHANNEL_CUES: dict[str, tuple[str, ...]] = {
    "thought": ("think", "thought", "believ", "tell themselves", "wonder", "worry", "private", "assum"),
    "speech": ("say", "said", "tell", "ask", "insist", "argue", "claim", "repeat", "words", "speak"),
    "action": ("act", "gesture", "face", "look", "move", "hand", "sigh", "behav", "spend", "invest"),
}
SITUATION_CUES: dict[SituationType, tuple[str, ...]] = {
    SituationType.DUTY: ("work", "task", "project", "job", "deadline", "obligation", "duty"),
    SituationType.INTELLECT: ("reason", "decide", "decision", "problem", "learn", "evidence"),
    SituationType.ADVERSITY: ("threat", "critic", "blame", "attack", "failure", "conflict"),
    SituationType.MATING: ("romance", "romantic", "partner", "attract", "dating"),
    SituationType.POSITIVITY: ("fun", "play", "celebrat", "enjoy", "success"),
    SituationType.NEGATIVITY: ("loss", "anxi", "frustrat", "sad", "regret", "fear"),
    SituationType.DECEPTION: ("lie", "deceiv", "decept", "trust", "hide", "secret"),
    SituationType.SOCIALITY: ("social", "group", "friend", "others", "public", "team", "relationship"),
}


def route(texts: Sequence[str], cues: dict[str, tuple[str, ...]], limit: int) -> dict[str, str]:
    """Sentences of `texts` sorted into fields by cue words (unmatched ones go to the emptiest field)."""
    buckets: dict[str, list[str]] = {field: [] for field in cues}
    for sentence in (s for text in texts for s in sentences(text)):
        low = sentence.lower()
        scores = {field: sum(cue in low for cue in field_cues) for field, field_cues in cues.items()}
        best = max(scores.values())
        field = (
            max(scores, key=lambda f: scores[f])
            if best
            else min(buckets, key=lambda f: sum(len(s) for s in buckets[f]))
        )
        if sum(len(s) for s in buckets[field]) + len(sentence) <= limit:
            buckets[field].append(sentence)
    return {field: " ".join(items) for field, items in buckets.items()}


def extract_notes(text: str, name: str) -> ChunkNotes:
    """Notes taken from an excerpt's own sentences when the model's notes were unusable."""
    keys = set(words(name))
    relevant_sentences = [s for s in sentences(text) if keys & set(words(s))] or sentences(text)[:6]
    routed = route(relevant_sentences, SECTION_CUES, NOTE_CHARS)
    return ChunkNotes(relevant=bool(keys & set(words(text))), **routed)


def items_from(texts: Sequence[str], *, low: int, high: int, limit: int, minimum: int = 10) -> list[str]:
    """Up to `high` short list items made from sentences (may be fewer than `low`; pad after)."""
    out: list[str] = []
    for sentence in (s for text in texts for s in sentences(text)):
        item = clip(sentence.rstrip("."), limit)
        if len(item) >= minimum and item.lower() not in {o.lower() for o in out}:
            out.append(item)
        if len(out) >= high:
            break
    return out


def situations_from(texts: Sequence[str]) -> list[SituationType]:
    """Up to three situation types whose cue words the notes mention most; sociality when none."""
    low = " ".join(texts).lower()
    scores = {situation: sum(low.count(cue) for cue in cues) for situation, cues in SITUATION_CUES.items()}
    ranked = [s for s in sorted(scores, key=lambda s: -scores[s]) if scores[s] > 0]
    return ranked[:3] or [SituationType.SOCIALITY]


def pad(items: list[str], fillers: Sequence[str], low: int) -> list[str]:
    """`items` topped up from `fillers` (skipping repeats) to at least `low` entries."""
    out = list(items)
    for filler in fillers:
        if len(out) >= low:
            break
        if filler.lower() not in {o.lower() for o in out}:
            out.append(filler)
    return out


# --- last-resort templates (no documents, no notes); generic on purpose and flagged as such ---------


def template_definition(name: str, family_label: str) -> str:
    return (
        f"{name[:1].upper()}{name[1:]} is a {family_label} pattern: a recurring way of perceiving, feeling and "
        "acting that shapes how a person reads a social situation and what they do in it. "
        "(Generic placeholder: the model's text was unusable; rewrite this from the sources.)"
    )


TEMPLATE_MECHANISMS = {
    "cognitive": "Attention and interpretation are drawn to the information that fits this tendency.",
    "emotional": "Acting in line with the tendency feels right and relieving; going against it feels uneasy.",
    "behavioral": "The person acts on the tendency in choices, in how they treat others and in what they say.",
    "motivation": "It protects the person's self-image and saves effort in complex social situations.",
}
TEMPLATE_MANIFESTATION = {
    "everyday": "It shows in ordinary decisions at work and at home and in conversations with friends and family.",
    "costs": "Judgements and choices that others see as biased or unfair.",
    "benefits": "Quick decisions and a stable sense of self.",
}
TEMPLATE_CUES = (
    "a decision has to be made in front of other people",
    "someone questions the character's view or earlier choice",
    "the character feels their standing or self-image is at stake",
)
TEMPLATE_MARKERS: dict[str, tuple[str, ...]] = {
    "thought": (
        "privately justifies their view with reasons that favour it",
        "returns in thought to the concern that drives their choice",
        "dismisses in thought a point that goes against their view",
    ),
    "action": (
        "hesitates visibly when the conversation turns against their view",
        "leans in and becomes animated when their view is supported",
        "turns away or busies themselves when challenged",
    ),
    "speech": (
        "restates their position rather than engaging with the objection",
        "asks questions that invite agreement with their view",
        "gives reasons that favour what they already chose",
    ),
}
