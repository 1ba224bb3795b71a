"""Author mode: the original method's one-call synthesis of a whole conversation (a cheap baseline).

One omniscient author sees every character's mind at once, so it is cheaper than agents but
breaks the information asymmetry between characters. The text is parsed and validated; an invalid
transcript is sent back with its problem, a bounded number of times.
"""

from __future__ import annotations

import itertools

from langchain_core.messages import HumanMessage, SystemMessage

from humanllm.agents._budget import max_tokens_of
from humanllm.agents._templates import render
from humanllm.agents.character import private_guidance
from humanllm.agents.director import TurnRules
from humanllm.agents.trinity import UnknownSpeakerError, parse_transcript
from humanllm.core import Pattern, Scenario, Turn
from humanllm.errors import StructuredOutputError
from humanllm.llm import RoleModel

TOKENS_PER_WORD = 1.7
"""Tokens per word of dialogue (SmolLM2's tokenizer, with the brackets and names of a line)."""
LINE_OVERHEAD_TOKENS = 6
"""Tokens of a line that are not its words: the speaker's name, the brackets, the newline."""


def words_per_line(max_tokens: int, max_turns: int) -> int:
    """The most words per line for `max_turns` lines to fit in `max_tokens` (never below 8)."""
    return max(8, int((max_tokens / max_turns - LINE_OVERHEAD_TOKENS) / TOKENS_PER_WORD))


def transcript_problem(turns: list[Turn], scenario: Scenario, rules: TurnRules, opener: str) -> str:
    """What is wrong with a parsed transcript, or '' when it follows the rules."""
    if not rules.min_turns <= len(turns) <= rules.max_turns:
        return f"it has {len(turns)} turns; write between {rules.min_turns} and {rules.max_turns}"
    if any(a.speaker == b.speaker for a, b in itertools.pairwise(turns)):
        return "someone speaks twice in a row"
    if rules.supporting_opens and turns[0].speaker != opener:
        return f"{opener} must speak first"
    if rules.protagonist_closes and turns[-1].speaker != scenario.protagonist.name:
        return f"{scenario.protagonist.name} must speak last"
    if any(not t.speech for t in turns):
        return "a turn has no spoken words"
    return ""


async def write_conversation(
    model: RoleModel,
    scenario: Scenario,
    cards: dict[str, list[Pattern]],
    rules: TurnRules,
    opener: str,
    *,
    attempts: int = 3,
    guidance: bool = True,
) -> list[Turn]:
    """The whole conversation in one call (plus bounded repairs)."""
    people = [
        {
            "name": p.name,
            "about_self": p.about_self,
            "about_others": p.about_others,
            "guidance": private_guidance(cards.get(p.name, [])) if guidance else [],
        }
        for p in scenario.characters
    ]
    cast = [p.name for p in scenario.characters]
    words = words_per_line(max_tokens_of(model), rules.max_turns)
    problem = ""
    for _attempt in range(attempts):
        prompt = render(
            "author",
            background=scenario.background,
            people=people,
            min_turns=rules.min_turns,
            max_turns=rules.max_turns,
            opener=opener,
            protagonist=scenario.protagonist.name,
            problem=problem,
            words=words,
        )
        text = await model.atext([SystemMessage(content=render("author_system")), HumanMessage(content=prompt)])
        try:
            turns = parse_transcript(text, cast)
        except UnknownSpeakerError as exc:
            problem = str(exc)
            continue
        problem = transcript_problem(turns, scenario, rules, opener)
        if not problem:
            return turns
    raise StructuredOutputError(
        f"author model {model.spec} did not write a valid conversation in {attempts} tries "
        f"(last problem: {problem}); use --mode agents or a stronger --character-model"
    )
