"""Readable terminal views of scenarios and conversations."""

from __future__ import annotations

import json

from pydantic import JsonValue
from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from humanllm.core import Channel, Episode, Scenario, Turn, bracketed

_COLOURS = ["cyan", "green", "magenta", "yellow", "blue", "red"]


def speaker_colours(scenario: Scenario) -> dict[str, str]:
    return {p.name: _COLOURS[i % len(_COLOURS)] for i, p in enumerate(scenario.characters)}


def render_scenario(scenario: Scenario) -> Panel:
    """Situation, who carries what, background and profiles."""
    colours = speaker_colours(scenario)
    parts: list[Text] = [Text.assemble(("situation: ", "bold"), scenario.situation)]
    for person in scenario.characters:
        role = "protagonist" if person.name == scenario.protagonist.name else "supporting"
        held = ", ".join(scenario.char2pattern.get(person.name, [])) or "no pattern"
        parts.append(Text.assemble((f"{person.name}", f"bold {colours[person.name]}"), f" ({role}) carries: {held}"))
    parts += [Text(""), Text("Background", style="bold"), Text(scenario.background)]
    for person in scenario.characters:
        parts += [
            Text(""),
            Text(person.name, style=f"bold {colours[person.name]}"),
            Text(f"  about self: {person.about_self}"),
            Text(f"  about others: {person.about_others}", style="dim"),
        ]
    if scenario.checklists:
        parts += [Text(""), Text("Expected behaviours (MPD checklist)", style="bold")]
        for checklist in scenario.checklists:
            for item in checklist.items:
                parts.append(Text(f"  {checklist.character}: {item}", style="dim"))
    if scenario.variation is not None:
        varied = scenario.variation
        parts += [
            Text(""),
            Text("Variation (counterfactual)", style="bold"),
            Text(f"  factors: {_as_text(varied.factor_analysis)}"),
            Text(f"  changed: {_as_text(varied.new_factor_settings)}"),
            Text(f"  scene: {varied.background}", style="dim"),
        ]
    return Panel(Group(*parts), title="scenario", expand=False)


def _as_text(value: JsonValue) -> str:
    """A variation field as one line: text as it is, an imported structure as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_CHANNEL_STYLES: dict[Channel, str] = {"thought": "italic dim magenta", "action": "yellow", "speech": ""}


def render_turn(turn: Turn, colour: str, index: int) -> Text:
    """`n. Name [thought] (action) speech`, each channel styled differently."""
    text = Text(f"{index:>2}. ", style="dim")
    text.append(turn.speaker, style=f"bold {colour}")
    for channel, part in turn.parts():
        text.append(f"  {bracketed(channel, part)}", style=_CHANNEL_STYLES[channel])
    return text


def render_summary(episode: Episode, path: str) -> Text:
    usage = ", ".join(
        f"{role}: {u.calls} calls, {u.prompt_tokens}+{u.completion_tokens} tokens" for role, u in episode.usage.items()
    )
    return Text.assemble(
        ("ended: ", "bold"),
        episode.conversation.ended_by or "-",
        f" after {len(episode.conversation.turns)} turns\n",
        ("tokens: ", "bold"),
        usage,
        "\n",
        ("saved: ", "bold"),
        path,
    )
