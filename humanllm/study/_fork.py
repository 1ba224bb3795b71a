"""A fork of a stored episode: keep turns 1..K-1, change one thing, and play the rest again (here: the
request checked against the episode and the library, and turned into one spec per replicate).

The one change is either turn K rewritten (an edit, then the conversation goes on from it), or one
pattern given to a character or withheld from the character that carries it (then turn K onwards is
played again with that character's new prompt). Everything that determines one continuation is its
`ForkSpec` (in `humanllm.simulation`, so `data verify` knows it); the spec's hash is the continuation's id,
so a rerun finds what is stored and never pays twice. The continuation itself is `_fork_job.ForkJob`.

Every continuation (and the original) is judged on the same items, the spec's `measure`: each
character's original patterns plus the given one (a withheld pattern stays measured), so a change shows
as a difference in the scores of one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from humanllm.agents import template_version
from humanllm.agents.judge import measured_patterns
from humanllm.agents.trinity import parse_trinity
from humanllm.core import Episode, Scenario, Turn, spec_id
from humanllm.errors import ConfigError, UnknownPatternError
from humanllm.llm import GenerationSpec, model_template_versions
from humanllm.patterns import InteractionGraph, PatternLibrary
from humanllm.simulation import ForkSpec, PatternChange
from humanllm.study._roles import character_named as named_in_scene

FORK_TEMPLATES = ("character_system", "character_turn", "character_leak_retry")
"""The prompts a continuation renders (the model layer's are added): part of its spec."""
MIN_CONTINUED = 2
"""A continuation plays at least this many new turns (when the original had fewer after K)."""


class ForkInputError(ConfigError):
    """A fork asked for something the episode or the library cannot give; `option` names the flag at fault
    (several: joined by " / ")."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class ForkRequest:
    """What the user asked for, before it is checked against the episode and the library."""

    at_turn: int
    edit: str | None = None
    give: str | None = None
    to: str | None = None
    withhold: str | None = None
    from_: str | None = None
    replicates: int = 1


def describe_spec(spec: ForkSpec) -> str:
    """A continuation's change in words, from its resolved spec."""
    parts = []
    if spec.edit is not None:
        parts.append(f"turn {spec.at_turn} rewritten as {spec.edit.speaker}: {spec.edit.as_trinity()!r}")
    if spec.give is not None:
        parts.append(f"{spec.give.pattern!r} given to {spec.give.character}")
    if spec.withhold is not None:
        parts.append(f"{spec.withhold.pattern!r} withheld from {spec.withhold.character}")
    return "; ".join(parts)


def fork_templates() -> dict[str, str]:
    return {**{name: template_version(name) for name in FORK_TEMPLATES}, **model_template_versions()}


# --- checking the request against the episode ---------------------------------------------------------------


def character_named(reference: str, scenario: Scenario, option: str) -> str:
    """The character a reference names (`study._roles.character_named`), its error naming the option at fault."""
    try:
        return named_in_scene(reference, scenario)
    except ConfigError as exc:
        raise ForkInputError(str(exc), option) from exc


def _pattern(library: PatternLibrary, name: str, option: str) -> str:
    try:
        return library.get(name).name
    except UnknownPatternError as exc:
        raise ForkInputError(str(exc), option) from exc


def _carried(scenario: Scenario, character: str, library: PatternLibrary) -> list[str]:
    """The character's patterns as the library names them."""
    return [_pattern(library, name, "EPISODE") for name in scenario.char2pattern.get(character, [])]


def edited_turn(text: str, speaker: str, cast: Sequence[str], at_turn: int) -> Turn:
    """The --edit line as turn K: `[thought] (action) speech`, said by turn K's speaker (a leading
    `Name:` of that speaker is allowed and dropped)."""
    body = text.strip()
    head, colon, rest = body.partition(":")
    named = next((name for name in cast if head.strip().lower() == name.lower()), None) if colon else None
    if named is not None:
        if named != speaker:
            raise ForkInputError(
                f"turn {at_turn} is {speaker}'s, not {named}'s: --edit rewrites {speaker}'s line", "--edit"
            )
        body = rest.strip()
    turn = parse_trinity(body, speaker)
    if not (turn.thought or turn.action or turn.speech):
        raise ForkInputError("the new line is empty: write it as [thought] (action) speech", "--edit")
    return turn


def _check_request(request: ForkRequest) -> None:
    if request.give and request.withhold:
        raise ForkInputError(
            "give one pattern or withhold one, not both: a fork changes one thing", "--give / --withhold"
        )
    if request.to and not request.give:
        raise ForkInputError("goes with --give PATTERN", "--to")
    if request.from_ and not request.withhold:
        raise ForkInputError("goes with --withhold PATTERN", "--from")
    if request.edit is None and not request.give and not request.withhold:
        raise ForkInputError(
            "nothing would change: give --edit LINE, --give PATTERN --to NAME or --withhold PATTERN",
            "--edit / --give / --withhold",
        )
    if request.replicates < 1:
        raise ForkInputError(f"must be at least 1, not {request.replicates}", "--replicates")


def _give(source: Episode, request: ForkRequest, graph: InteractionGraph) -> PatternChange:
    assert request.give
    pattern = _pattern(graph.library, request.give, "--give")
    character = character_named(request.to or "protagonist", source.scenario, "--to")
    held = _carried(source.scenario, character, graph.library)
    if pattern in held:
        raise ForkInputError(f"{character} already carries {pattern!r}: give another pattern", "--give")
    clash = graph.violations([*held, pattern])
    if clash:
        raise ForkInputError(f"{character} would carry an excluded pair: {clash[0]}", "--give")
    return PatternChange(pattern=pattern, character=character)


def _withhold(source: Episode, request: ForkRequest, library: PatternLibrary) -> PatternChange:
    assert request.withhold
    pattern = _pattern(library, request.withhold, "--withhold")
    scenario = source.scenario
    if request.from_:
        character = character_named(request.from_, scenario, "--from")
        held = _carried(scenario, character, library)
        if pattern not in held:
            carries = ", ".join(repr(p) for p in held) or "no pattern"
            raise ForkInputError(f"{character} does not carry {pattern!r} (carries {carries})", "--withhold")
        return PatternChange(pattern=pattern, character=character)
    carriers = [p.name for p in scenario.characters if pattern in _carried(scenario, p.name, library)]
    if not carriers:
        raise ForkInputError(f"nobody in episode {source.id} carries {pattern!r}", "--withhold")
    if len(carriers) > 1:
        raise ForkInputError(f"{' and '.join(carriers)} both carry {pattern!r}: say --from NAME", "--from")
    return PatternChange(pattern=pattern, character=carriers[0])


def continued_length(original: int, at_turn: int, *, edited: bool) -> int:
    """The continuation's planned length: the kept turns, then as many new turns as the original had after
    them (at least `MIN_CONTINUED`)."""
    kept = at_turn if edited else at_turn - 1
    return kept + max(MIN_CONTINUED, original - kept)


def fork_measure(source: Episode, library: PatternLibrary, give: PatternChange | None) -> dict[str, list[str]]:
    """Character -> the patterns it is judged on: what it was measured on in the source, plus the given one."""
    measure: dict[str, list[str]] = {}
    for person in source.scenario.characters:
        names = [_pattern(library, name, "EPISODE") for name in measured_patterns(source, person.name)]
        if give is not None and give.character == person.name and give.pattern not in names:
            names.append(give.pattern)
        if names:
            measure[person.name] = list(dict.fromkeys(names))
    return measure


def plan_fork(
    source: Episode,
    request: ForkRequest,
    graph: InteractionGraph,
    *,
    model: str,
    generation: GenerationSpec,
) -> list[ForkSpec]:
    """The spec of each replicate of the fork; a request the episode cannot take fails with `ForkInputError`."""
    _check_request(request)
    turns = source.conversation.turns
    if not turns:
        raise ForkInputError(f"episode {source.id} has no turns to fork", "EPISODE")
    if not 1 <= request.at_turn <= len(turns):
        raise ForkInputError(f"episode {source.id} has turns 1-{len(turns)}, not {request.at_turn}", "--at-turn")
    cast = [p.name for p in source.scenario.characters]
    edit = None
    if request.edit is not None:
        original = turns[request.at_turn - 1]
        edit = edited_turn(request.edit, original.speaker, cast, request.at_turn)
        if edit.as_trinity() == original.as_trinity():
            raise ForkInputError(f"the new line is turn {request.at_turn} as it was: change it", "--edit")
    give = _give(source, request, graph) if request.give else None
    withhold = _withhold(source, request, graph.library) if request.withhold else None
    guidance = source.config.get("guidance")
    if (give or withhold) and guidance is False:
        raise ForkInputError(
            f"episode {source.id} was played without pattern guidance, so a pattern given or withheld would change "
            "no prompt: fork it with --edit",
            "--give" if give else "--withhold",
        )
    first = ForkSpec(
        source=source.id,
        at_turn=request.at_turn,
        edit=edit,
        give=give,
        withhold=withhold,
        replicate=0,
        model=model,
        generation=generation,
        guidance=guidance is not False,
        turns=continued_length(len(turns), request.at_turn, edited=edit is not None),
        templates=fork_templates(),
        measure=fork_measure(source, graph.library, give),
    )
    return [first.model_copy(update={"replicate": index}) for index in range(request.replicates)]


def fork_group(spec: ForkSpec) -> str:
    """What every replicate of one fork shares: the id of its first replicate's spec."""
    return spec_id(spec.model_copy(update={"replicate": 0}))
