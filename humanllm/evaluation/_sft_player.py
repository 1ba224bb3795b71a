"""A model under test playing one character in the format it was fine-tuned on (`--format sharegpt`).

It gets exactly what `humanllm data export-sft` writes for that character: the SFT system prompt,
then the conversation as alternating user (the others' visible turns, merged) and assistant (its
own turns) messages, built by the same function (`humanllm.training.prompt_messages`). It answers
in plain trinity text, `[thought] (action) speech`, read by the trinity parser.

A reply that cannot be used (empty, or no speech) is answered with one repair request (the bad
reply as its turn, then what to fix), as the JSON path repairs invalid JSON, up to the model's
`repairs`; then the play fails with a `StructuredOutputError`, which the benchmark records as a
failed play with its reason. Nothing else is added to the prompt: no closing hint and no
regeneration when a turn names a pattern, since neither is in the training data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from humanllm.agents import render
from humanllm.agents.trinity import parse_trinity
from humanllm.core import Episode, Turn
from humanllm.errors import StructuredOutputError
from humanllm.llm import RoleModel
from humanllm.training import prompt_messages

logger = logging.getLogger(__name__)

SFT_TEMPLATES = ("sft_system", "character_text_repair")
"""The prompts a `--format sharegpt` player renders."""

_MESSAGE = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def as_chat(messages: Sequence[dict[str, str]]) -> list[BaseMessage]:
    """`{role, content}` dicts as LangChain messages (the model layer turns them back into the same dicts)."""
    return [_MESSAGE[m["role"]](content=m["content"]) for m in messages]


def _label(name: str) -> re.Pattern[str]:
    """A line that starts with `Name:` (optionally in bold), as the transcript lines in the context do."""
    return re.compile(rf"^\s*\**\s*{re.escape(name)}\s*\**\s*:\s*\**", re.IGNORECASE)


def read_turn(reply: str, name: str, others: Sequence[str]) -> tuple[Turn, str]:
    """The turn in a plain-text reply, and '' or the problem that makes it unusable.

    A leading `Name:` label of the speaker is dropped, and so is everything from the first line
    that starts with another character's label (a model that goes on writing their turns too); a
    reply that starts as another character is unusable.
    """
    lines = reply.strip().splitlines()
    labels = {other: _label(other) for other in others}
    kept: list[str] = []
    for number, line in enumerate(lines):
        speaker = next((other for other, label in labels.items() if label.match(line)), None)
        if speaker is not None:
            if not number:
                return Turn(speaker=name), f"it is written as {speaker}, not {name}"
            logger.info("%s's reply goes on with %s's turn; cut there", name, speaker)
            break
        kept.append(line)
    text = _label(name).sub("", "\n".join(kept), count=1).strip()
    if not text:
        return Turn(speaker=name), "the reply is empty"
    turn = parse_trinity(text, name)
    if not turn.speech.strip():
        return turn, "it has nothing said aloud"
    return turn, ""


@dataclass
class SftPlayer:
    """Plays `character` of `episode` through the export-sft prompt; a `Speaker` for the conversation graph."""

    episode: Episode
    character: str
    model: RoleModel
    guidance: list[str] | None = None
    """Private guidance lines in the system prompt (`export-sft --keep-guidance`); None for none."""

    @property
    def name(self) -> str:
        return self.character

    def messages(self, turns: Sequence[Turn]) -> list[BaseMessage]:
        """The export-sft record of this character up to its next turn after `turns`."""
        return as_chat(prompt_messages(self.episode, self.character, turns, self.guidance))

    async def take_turn(self, turns: Sequence[Turn], *, closing: bool = False) -> Turn:
        """The next turn, from the model's plain-text reply (`closing` is not in the training format)."""
        messages = self.messages(turns)
        others = [p.name for p in self.episode.scenario.characters if p.name != self.character]
        problem = ""
        for attempt in range(self.model.repairs + 1):
            reply = await self.model.atext(messages)
            turn, problem = read_turn(reply, self.character, others)
            if not problem:
                return turn
            logger.info(
                "%s: unusable reply for %s (%s, attempt %d)", self.model.spec, self.character, problem, attempt + 1
            )
            repair = render("character_text_repair", problem=problem, name=self.character)
            messages = [*self.messages(turns), AIMessage(content=reply), HumanMessage(content=repair)]
        raise StructuredOutputError(
            f"{self.model.spec} kept returning unusable turns for {self.character} after {self.model.repairs + 1} "
            f"tries (last problem: {problem}); check that the model was trained on `humanllm data export-sft` "
            "data, raise --max-tokens, or use --format json"
        )
