"""A documented best guess at the family of a released pattern we have no card for.

The release gives names and text but no family, so `patterns import` guesses one (unless
`--family` names it) and reports the guess and its evidence per card. The rule:

1. **Trait or social-cognitive.** A pattern is taken as a Big-Five trait marker when its name is a
   single word (hyphens allowed, like "soft-hearted") *and* its entry reads like the release's trait
   entries: it gives `definition` (the release's trait field) rather than `description`, or its
   text speaks of a trait, personality, temperament, disposition or the Big Five.
2. **Dimension and pole (traits).** Each Big-Five dimension has word lists per pole: the adjectives
   of the reference table plus a few plain synonyms, and its own name ("openness", "neuroticism").
   A hit in the name counts 3, in the text 1; the dimension with most hits wins (ties: the first in
   the table's order), and the pole whose words hit most (a name negating a positive word, like
   "unsociable", and phrasing like "low in" or "lack of" count for the negative pole). No pole cue:
   positive. No dimension cue at all: no guess; the pattern is skipped and the report asks for
   `--family NAME=DIMENSION`.
3. **Family (social-cognitive).** Keyword stems per family (evolutionary: survival, mating, kin ...;
   social influence: group, conformity, authority ...; motivational: need, drive, meaning ...;
   cognitive bias: bias, heuristic, judgement, memory ...), name hits 3, text hits 1; most hits
   wins; ties and no hits go to cognitive bias, the largest family (76 of 144).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from humanllm.core import Family, PatternKind, Pole

_SINGLE_WORD = re.compile(r"^[a-z]+(?:-[a-z]+)*$", re.IGNORECASE)
_TRAIT_TALK = re.compile(r"\b(trait|personality|temperament|disposition|big[- ]five)", re.IGNORECASE)
_NAME_WEIGHT = 3

# fmt: off
_POLE_WORDS: dict[Family, dict[Pole, tuple[str, ...]]] = {
    Family.EXTRAVERSION: {
        Pole.POSITIVE: (
            "talkative", "assertive", "active", "energetic", "outgoing", "enthusiastic", "daring",
            "gregarious", "bold", "spontaneous", "sociable", "lively", "extravert", "extrovert",
        ),
        Pole.NEGATIVE: (
            "quiet", "reserved", "shy", "inhibited", "timid", "withdrawn", "unassertive", "introvert",
            "silent", "unenergetic", "solitary", "solitude",
        ),
    },
    Family.AGREEABLENESS: {
        Pole.POSITIVE: (
            "sympathetic", "kind", "appreciative", "affectionate", "soft-hearted", "warm", "generous",
            "trusting", "helpful", "cooperative", "compassion", "empath", "altruis", "considerate", "forgiving",
        ),
        Pole.NEGATIVE: (
            "cold", "unsympathetic", "harsh", "rude", "unkind", "cruel", "quarrelsome", "critical",
            "antagonistic", "callous", "hostile", "selfish", "spiteful", "disagreeable",
        ),
    },
    Family.CONSCIENTIOUSNESS: {
        Pole.POSITIVE: (
            "organized", "organised", "responsible", "dependable", "thorough", "efficient", "practical",
            "deliberate", "conscientious", "neat", "careful", "disciplin", "diligent", "reliable", "meticulous",
        ),
        Pole.NEGATIVE: (
            "disorgani", "careless", "irresponsible", "undependable", "sloppy", "impractical", "haphazard",
            "negligent", "untidy", "rash", "lazy", "procrastinat", "unreliable", "impulsiv",
        ),
    },
    Family.EMOTIONAL_STABILITY: {
        Pole.POSITIVE: (
            "relaxed", "calm", "at ease", "unemotional", "poised", "composed", "secure", "stable", "content",
            "placid", "resilien", "even-tempered", "serene", "emotional stability",
        ),
        Pole.NEGATIVE: (
            "anxious", "anxiety", "moody", "envious", "touchy", "fretful", "temperamental", "insecure",
            "nervous", "jealous", "high-strung", "worr", "irritab", "neurotic", "tense",
        ),
    },
    Family.OPENNESS: {
        Pole.POSITIVE: (
            "creative", "imaginative", "intellectual", "philosophical", "complex", "deep", "artistic",
            "bright", "perceptive", "introspective", "curious", "curiosity", "inventive", "novel", "openness",
        ),
        Pole.NEGATIVE: (
            "uncreative", "unimaginative", "unintellectual", "unphilosophical", "simple", "shallow",
            "unartistic", "dull", "imperceptive", "uninquisitive", "incurious", "closed-minded", "narrow-minded",
        ),
    },
}
_DIMENSION_NAMES: dict[Family, tuple[str, ...]] = {
    Family.EXTRAVERSION: ("extraversion", "extroversion"),
    Family.AGREEABLENESS: ("agreeableness",),
    Family.CONSCIENTIOUSNESS: ("conscientiousness",),
    Family.EMOTIONAL_STABILITY: ("emotional stability", "neuroticism"),
    Family.OPENNESS: ("openness",),
}
_NEGATIONS = ("un", "dis", "non", "in", "im", "ir", "il")
_LOW = re.compile(r"\b(low (?:in |on )?|lack(?:s|ing)? (?:of |in )?|little |absence of )", re.IGNORECASE)

_FAMILY_STEMS: dict[Family, tuple[str, ...]] = {
    Family.EVOLUTIONARY: (
        "evolution", "ancestral", "survival", "reproduct", "mating", "mates", "kinship", "kin selection", "offspring",
        "natural selection", "fitness", "territor", "dominance", "parental", "paternity",
    ),
    Family.SOCIAL_INFLUENCE: (
        "group", "conform", "obedien", "authority", "majority", "peer", "social pressure", "bystander",
        "crowd", "social norm", "norms", "persua", "complian", "social influence", "others' behavio", "collective",
    ),
    Family.MOTIVATIONAL: (
        "motivat", "need for", "drive", "desire", "goal", "reward", "pleasure", "meaning", "autonomy",
        "self-esteem", "fulfil", "purpose", "striv", "craving",
    ),
    Family.COGNITIVE_BIAS: (
        "bias", "heuristic", "fallacy", "judgement", "judgment", "estimat", "probabilit", "memory",
        "illusion", "misperce", "overestimat", "underestimat", "error", "reasoning", "decision", "belief",
        "perceiv",
    ),
}
# fmt: on


@dataclass(frozen=True)
class FamilyGuess:
    """A kind, family and pole for a new card, with the evidence in words."""

    kind: PatternKind
    family: Family
    pole: Pole | None
    reason: str


def _hits(words: tuple[str, ...], name: str, text: str) -> tuple[int, list[str]]:
    score, found = 0, []
    for word in words:
        pattern = re.compile(rf"\b{re.escape(word)}", re.IGNORECASE)
        weight = _NAME_WEIGHT * len(pattern.findall(name)) + len(pattern.findall(text))
        if weight:
            score += weight
            found.append(word)
    return score, found


def looks_like_trait(name: str, text: str, *, gives_definition: bool) -> bool:
    """Rule 1 of the module docstring."""
    return bool(_SINGLE_WORD.match(name.strip())) and (gives_definition or bool(_TRAIT_TALK.search(text)))


def _negated_hits(family: Family, name: str) -> tuple[int, list[str]]:
    """A name that negates a positive-pole word ("unsociable"): hits for the negative pole."""
    lowered = name.strip().lower()
    for prefix in _NEGATIONS:
        if lowered.startswith(prefix) and len(lowered) > len(prefix) + 3:
            score, found = _hits(_POLE_WORDS[family][Pole.POSITIVE], lowered[len(prefix) :], "")
            if score:
                return score, [f"{prefix}-{word}" for word in found]
    return 0, []


def guess_pole(family: Family, name: str, text: str) -> tuple[Pole, str]:
    """The pole of a trait in a known dimension, and why."""
    low = len(_LOW.findall(text))
    negated = _negated_hits(family, name)
    scores = {pole: _hits(words, name, text) for pole, words in _POLE_WORDS[family].items()}
    scores[Pole.NEGATIVE] = (scores[Pole.NEGATIVE][0] + negated[0], scores[Pole.NEGATIVE][1] + negated[1])
    positive, negative = scores[Pole.POSITIVE][0], scores[Pole.NEGATIVE][0] + low
    if positive == negative == 0:
        return Pole.POSITIVE, "positive pole (no pole cue: the default)"
    pole = Pole.NEGATIVE if negative > positive else Pole.POSITIVE
    cues = scores[pole][1] + (["'low in'/'lack of' phrasing"] if pole is Pole.NEGATIVE and low else [])
    return pole, f"{pole.value} pole from {', '.join(cues)}"


def guess_family(name: str, text: str, *, gives_definition: bool) -> FamilyGuess | None:
    """The module docstring's rule; None for a trait whose dimension nothing in it suggests."""
    if looks_like_trait(name, text, gives_definition=gives_definition):
        why = "one-word name, " + ("'definition' given" if gives_definition else "text speaks of a trait")
        best: tuple[int, Family, list[str]] | None = None
        for family, poles in _POLE_WORDS.items():
            score, found = _hits((*_DIMENSION_NAMES[family], *poles[Pole.POSITIVE], *poles[Pole.NEGATIVE]), name, text)
            negated = _negated_hits(family, name)
            score, found = score + negated[0], found + negated[1]
            if score and (best is None or score > best[0]):
                best = (score, family, found)
        if best is None:
            return None
        pole, pole_why = guess_pole(best[1], name, text)
        reason = f"trait ({why}); {best[1].value} from {', '.join(best[2])}; {pole_why}"
        return FamilyGuess(PatternKind.TRAIT, best[1], pole, reason)
    scored = {family: _hits(stems, name, text) for family, stems in _FAMILY_STEMS.items()}
    top = max(score for score, _ in scored.values())
    leaders = [family for family, (score, _) in scored.items() if score == top]
    if top == 0 or len(leaders) > 1:
        family = Family.COGNITIVE_BIAS
        why = "no family keyword" if top == 0 else f"tie between {', '.join(f.value for f in leaders)}"
        reason = f"social-cognitive; {family.value} ({why}: the largest family is the default)"
    else:
        family = leaders[0]
        reason = f"social-cognitive; {family.value} from {', '.join(scored[family][1])}"
    return FamilyGuess(PatternKind.SOCIAL_COGNITIVE, family, None, reason)
