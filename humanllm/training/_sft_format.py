"""Episodes -> SFT records, one per character: the released ShareGPT shape or chat messages.

Per REFERENCE §7: the system prompt says who the character is (self description, perception of
the others, the scene, output rules) and names no pattern; the target's turns are `gpt` with
thoughts kept; the others' turns between two target turns lose their thoughts and merge into one
`human` message; an empty `human` turn starts the record when the target speaks first; every
record ends on a `gpt` turn.
"""

from __future__ import annotations

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


def exchanges(turns: list[Turn], character: str) -> list[Exchange]:
    """Target replies with the merged visible context before each; trailing others are dropped."""
    out: list[Exchange] = []
    pending: list[Turn] = []
    for turn in turns:
        if turn.speaker == character:
            out.append(Exchange(context=render_turns(pending, character), reply=turn.as_trinity()))
            pending = []
        else:
            pending.append(turn)
    return out


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


def to_sharegpt(system: str, items: list[Exchange]) -> dict[str, Any]:
    conversations = []
    for item in items:
        conversations.append({"from": "human", "value": item.context})
        conversations.append({"from": "gpt", "value": item.reply})
    return {"system": system, "conversations": conversations}


def to_messages(system: str, items: list[Exchange]) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}]
    for item in items:
        messages.append({"role": "user", "content": item.context})
        messages.append({"role": "assistant", "content": item.reply})
    return {"messages": messages}


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
