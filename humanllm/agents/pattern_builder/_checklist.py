"""Checklist synthesis the paper's way: 12-15 behaviour-focused yes/no items, then a self-review.

The review asks the model, item by item, whether a neighbouring pattern in the graph would predict
the behaviour just as well; such items are rewritten or dropped, so each kept item discriminates.
A deterministic gate then drops any item that names the pattern, nearly copies a neighbour's own
item, or repeats one already kept. Rounds continue until 12 items survive; if the model cannot get
there, the rest is derived from the card's markers (and counted in the provenance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from humanllm.agents.pattern_builder._provenance import ChecklistRecord, ItemChange
from humanllm.agents.pattern_builder._schemas import checklist_schema, review_schema
from humanllm.agents.pattern_builder._steps import StepRunner
from humanllm.agents.pattern_builder._text import as_question, clip, name_phrases, names_pattern, redact, similarity
from humanllm.core import Pattern, PatternKind
from humanllm.patterns import InteractionGraph

MIN_ITEMS, MAX_ITEMS = 12, 15
NEAR_COPY = 0.8
"""Similarity at or above which an item counts as a neighbour's own item."""


@dataclass(frozen=True)
class Neighbour:
    """A pattern the new one must be told apart from."""

    name: str
    definition: str
    checklist: tuple[str, ...]
    trait: bool = False
    """Trait names are everyday adjectives ("kind"), so only other patterns' names count as naming."""

    @property
    def examples(self) -> list[str]:
        return list(self.checklist[:3])


def choose_neighbours(
    name: str, graph: InteractionGraph, proposed: Sequence[str], similar: Sequence[str], *, limit: int = 5
) -> list[Neighbour]:
    """Graph neighbours first (when the pattern is in the graph), then proposed targets, then look-alikes."""
    names: list[str] = []
    if name in graph.library:
        names += graph.interactions(graph.library.get(name).name)
    names += [*proposed, *similar]
    own = graph.library.get(name).name if name in graph.library else name
    chosen = [n for n in dict.fromkeys(names) if n != own][:limit]
    cards = [graph.library.get(n) for n in chosen]
    return [
        Neighbour(c.name, clip(c.definition, 300), tuple(c.checklist), trait=c.kind is PatternKind.TRAIT) for c in cards
    ]


@dataclass
class _Gate:
    """The deterministic checks every kept item passes."""

    phrases: list[str]
    neighbours: list[Neighbour]
    taken: set[str]
    """Lower-cased items of every other card in the library."""
    kept: list[str] = field(default_factory=list)

    def problem(self, item: str) -> str | None:
        if len(item) < 20 or "character" not in item.lower():
            return "not a behavioural question about the character"
        named = names_pattern(item, self.phrases)
        if named:
            return f"names the pattern ({named!r})"
        for neighbour in self.neighbours:
            if not neighbour.trait and names_pattern(item, name_phrases([neighbour.name])):
                return f"names another pattern ({neighbour.name!r})"
        for neighbour in self.neighbours:
            for theirs in neighbour.checklist:
                if similarity(item, theirs) >= NEAR_COPY:
                    return f"equally predicted by {neighbour.name} (near copy of its item {theirs!r})"
        if item.lower() in self.taken:
            return "repeats an item of another card"
        if any(similarity(item, k) >= NEAR_COPY for k in self.kept):
            return "repeats an item already kept"
        return None


async def synthesise_checklist(
    runner: StepRunner,
    card: dict[str, Any],
    *,
    neighbours: list[Neighbour],
    names: list[str],
    taken: set[str],
    rounds: int = 2,
) -> tuple[list[str], ChecklistRecord]:
    """12-15 reviewed items for a card (its fields as a dict, without the checklist)."""
    gate = _Gate(phrases=name_phrases(names), neighbours=neighbours, taken=taken)
    record = ChecklistRecord(neighbours=[n.name for n in neighbours])
    rejected: list[str] = []
    for round_index in range(rounds):
        need = MAX_ITEMS - len(gate.kept)
        if len(gate.kept) >= MIN_ITEMS or need <= 0:
            break
        record.rounds += 1
        runner.progress.stage("checklist", 2)
        low = MIN_ITEMS if round_index == 0 else max(1, need - 2)
        reply = await runner.ask(
            "checklist",
            "pattern_builder/checklist",
            checklist_schema(low, need),
            stage="checklist",
            instead="no new items this round",
            name=card["name"],
            definition=card["definition"],
            behavioral=card["core_mechanisms"]["behavioral"],
            markers=card["markers"],
            neighbours=neighbours,
            count=f"{low} to {need}" if low != need else str(need),
            avoid=[*gate.kept, *rejected],
        )
        items = list(dict.fromkeys(as_question(q) for q in (reply.model_dump()["questions"] if reply else [])))
        items = [i for i in items if i]
        record.generated += len(items)
        verdicts = await _review(runner, card, items, neighbours)
        for item, verdict in zip(items, verdicts, strict=True):
            final, change = _apply(item, verdict)
            if final is not None:
                problem = gate.problem(final)
                if problem is None:
                    gate.kept.append(final)
                    if change is not None:
                        record.changes.append(change)
                    continue
                change = ItemChange(item=item, action="dropped", reason=problem)
            if change is not None:
                record.changes.append(change)
            rejected.append(item)
    kept = gate.kept[:MAX_ITEMS]
    if len(kept) < MIN_ITEMS:
        filled = _from_markers(card["markers"], gate)
        record.filled_from_markers = min(len(filled), MIN_ITEMS - len(kept))
        kept += filled[: MIN_ITEMS - len(kept)]
        runner.fallbacks.append(
            f"checklist: {record.filled_from_markers} item(s) derived from the markers to reach {MIN_ITEMS}"
        )
    return kept, record


async def _review(
    runner: StepRunner, card: dict[str, Any], items: list[str], neighbours: list[Neighbour]
) -> list[dict[str, str] | None]:
    """The model's verdict per item; None for every item when the review is unusable."""
    if not items:
        return []
    reply = await runner.ask(
        "checklist-review",
        "pattern_builder/checklist_review",
        review_schema(len(items), tuple(n.name for n in neighbours)),
        stage="checklist",
        instead="items went through the deterministic checks only",
        name=card["name"],
        definition=card["definition"],
        neighbours=neighbours,
        items=items,
    )
    if reply is None:
        return [None] * len(items)
    data = reply.model_dump()
    return [data[f"item_{i:02d}"] for i in range(1, len(items) + 1)]


def _apply(item: str, verdict: dict[str, str] | None) -> tuple[str | None, ItemChange | None]:
    """The item as the review leaves it (None: dropped) and the change to record."""
    if verdict is None:
        return item, None
    other = verdict["also_predicted_by"]
    why = f"review: {other} predicts it just as well" if other != "none" else "review: not specific to the pattern"
    if verdict["verdict"] == "rewrite":
        rewritten = as_question(verdict["rewrite"])
        if len(rewritten) >= 20 and rewritten.lower() != item.lower():
            return rewritten, ItemChange(item=item, action="rewritten", reason=why, rewritten_as=rewritten)
        return None, ItemChange(item=item, action="dropped", reason=why + " (and no usable rewrite)")
    if verdict["verdict"] == "drop" or other != "none":
        return None, ItemChange(item=item, action="dropped", reason=why)
    return item, None


_FILL = (
    "Does the character's {where} show this sign: {marker}?",
    "At a turning point of the conversation, does the character's {where} show this sign: {marker}?",
    "More than once in the conversation, does the character's {where} show this sign: {marker}?",
)
_WHERE = {"thought": "inner thought", "action": "visible behaviour", "speech": "speech"}


def _from_markers(markers: dict[str, list[str]], gate: _Gate) -> list[str]:
    """Items derived from the markers, each passing the same gate as the model's items."""
    out: list[str] = []
    for template in _FILL:
        for channel in ("thought", "action", "speech"):
            for marker in markers[channel]:
                text = redact(marker, gate.phrases).rstrip(".?! ")
                item = as_question(template.format(where=_WHERE[channel], marker=text[:1].lower() + text[1:]))
                if item.lower() in {o.lower() for o in [*gate.kept, *out]} or names_pattern(item, gate.phrases):
                    continue
                out.append(item)
    return out


def library_items(cards: Sequence[Pattern], own_id: str) -> set[str]:
    """Every other card's checklist items, lower-cased (an item must not repeat one of them)."""
    return {item.lower() for card in cards if card.id != own_id for item in card.checklist}
