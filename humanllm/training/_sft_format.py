"""Episodes -> SFT records, one per character: the released ShareGPT shape or chat messages.

Per REFERENCE §7: the system prompt says who the character is (self description, perception of
the others, the scene, output rules) and names no pattern; the target's turns are `gpt` with
thoughts kept; the others' turns between two target turns lose their thoughts and merge into one
`human` message; an empty `human` turn starts the record when the target speaks first; every
record ends on a `gpt` turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from humanllm.agents import render
from humanllm.agents.character import private_guidance
from humanllm.core import Episode, Pattern, Turn, render_turns

Format = Literal["sharegpt", "messages"]


class Exchange(BaseModel):
    """What the others did since the target's last turn, and the target's reply."""

    context: str = Field(description="Others' visible turns, merged; '' when the target opens.")
    reply: str = Field(description="The target's turn with thought, action and speech.")


def system_prompt(episode: Episode, character: str, guidance: list[str] | None = None) -> str:
    profile = episode.scenario.profile(character)
    return render(
        "sft_system",
        name=character,
        about_self=profile.about_self,
        about_others=profile.about_others,
        background=episode.scenario.background,
        guidance=guidance or [],
    )


def history(turns: Sequence[Turn], character: str) -> tuple[list[Exchange], str]:
    """The target's exchanges in `turns`, and the others' visible turns since its last one, merged.

    The one place a conversation is cut into a character's training turns: `exchanges` (the
    records of `export-sft`) and `prompt_messages` (what `eval run --format sharegpt` sends the
    model under test) both come from here, so the two cannot drift.
    """
    out: list[Exchange] = []
    pending: list[Turn] = []
    for turn in turns:
        if turn.speaker == character:
            out.append(Exchange(context=render_turns(pending, character), reply=turn.as_trinity()))
            pending = []
        else:
            pending.append(turn)
    return out, render_turns(pending, character)


def exchanges(turns: Sequence[Turn], character: str) -> list[Exchange]:
    """Target replies with the merged visible context before each; trailing others are dropped."""
    return history(turns, character)[0]


def windows(items: list[Exchange], system: str, max_chars: int | None) -> list[list[Exchange]]:
    """Consecutive chunks of exchanges that fit `max_chars` with the system prompt ('sliding' split).

    Each chunk becomes its own record, so a long conversation is never cut mid-turn and every
    target turn is trained on exactly once. A single exchange longer than the limit stays alone.
    """
    if max_chars is None:
        return [items] if items else []
    chunks: list[list[Exchange]] = []
    current: list[Exchange] = []
    size = len(system)
    for item in items:
        cost = len(item.context) + len(item.reply)
        if current and size + cost > max_chars:
            chunks.append(current)
            current, size = [], len(system)
        current.append(item)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def chat_messages(system: str, items: Sequence[Exchange], pending: str | None = None) -> list[dict[str, str]]:
    """`system`, then each exchange as a user and an assistant message, then `pending` as the last user message."""
    messages = [{"role": "system", "content": system}]
    for item in items:
        messages.append({"role": "user", "content": item.context})
        messages.append({"role": "assistant", "content": item.reply})
    if pending is not None:
        messages.append({"role": "user", "content": pending})
    return messages


_SHAREGPT_ROLES = {"user": "human", "assistant": "gpt"}


def to_sharegpt(system: str, items: Sequence[Exchange]) -> dict[str, Any]:
    turns = chat_messages(system, items)[1:]
    return {
        "system": system,
        "conversations": [{"from": _SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in turns],
    }


def to_messages(system: str, items: Sequence[Exchange]) -> dict[str, Any]:
    return {"messages": chat_messages(system, items)}


def prompt_messages(
    episode: Episode, character: str, turns: Sequence[Turn], guidance: list[str] | None = None
) -> list[dict[str, str]]:
    """What a model trained on `export-sft` records sees before it writes `character`'s next turn after `turns`.

    The system prompt and history of the character's record, up to the user message that the
    next target turn answers: for an original turn, exactly the prefix of the (unwindowed)
    record that `episode_records` writes for this episode and character.
    """
    items, pending = history(turns, character)
    return chat_messages(system_prompt(episode, character, guidance), items, pending)


def episode_records(
    episode: Episode,
    *,
    fmt: Format = "sharegpt",
    cards: dict[str, list[Pattern]] | None = None,
    keep_guidance: bool = False,
    max_chars: int | None = None,
) -> list[dict[str, Any]]:
    """One record per character who speaks (more when a long conversation is windowed)."""
    records = []
    for profile in episode.scenario.characters:
        items = exchanges(episode.conversation.turns, profile.name)
        if not items:
            continue
        guidance = private_guidance((cards or {}).get(profile.name, [])) if keep_guidance else None
        system = system_prompt(episode, profile.name, guidance)
        for chunk in windows(items, system, max_chars):
            records.append(to_sharegpt(system, chunk) if fmt == "sharegpt" else to_messages(system, chunk))
    return records
