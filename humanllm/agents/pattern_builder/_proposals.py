"""Relations of a new card to the library: model proposals, written to a review file, never merged.

The review file has the exact shape of a relations file (a YAML list of source/target/type/
rationale), so accepted entries can be moved into `<patterns-dir>/relations/` as they are. It is
written to `<out>/review/relations/`, where neither the card loader (it skips `relations` folders)
nor the graph loader (it reads only `<patterns-dir>/relations/`) picks it up.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from humanllm.agents.pattern_builder._cache import write_atomic
from humanllm.agents.pattern_builder._schemas import relations_schema
from humanllm.agents.pattern_builder._steps import StepRunner
from humanllm.agents.pattern_builder._text import clip, rank_by_overlap
from humanllm.core import Pattern
from humanllm.patterns import InteractionGraph, Relation, RelationType

DEFINITION_CHARS = 260
"""Each candidate's definition is cut to this length to keep the prompt small."""


def candidate_patterns(text: str, own_id: str, graph: InteractionGraph, k: int = 8) -> list[Pattern]:
    """The library patterns sharing the most distinctive words with the new card's text."""
    library = graph.library
    documents = {c.id: " ".join([*c.names(), c.definition, c.core_mechanisms.behavioral]) for c in library}
    documents.pop(own_id, None)
    return [library.get(i) for i in rank_by_overlap(text, documents, k)]


async def propose_relations(
    runner: StepRunner, name: str, definition: str, mechanisms: str, candidates: list[Pattern], graph: InteractionGraph
) -> list[Relation]:
    """Up to four relations to existing patterns, each with a rationale; known edges are left out."""
    runner.progress.stage("relations", 1 if candidates else 0)
    if not candidates:
        return []
    reply = await runner.ask(
        "relations",
        "pattern_builder/relations",
        relations_schema(tuple(c.name for c in candidates)),
        stage="relations",
        instead="no relations proposed",
        name=name,
        definition=definition,
        mechanisms=mechanisms,
        candidates=[{"name": c.name, "definition": clip(c.definition, DEFINITION_CHARS)} for c in candidates],
    )
    if reply is None:
        return []
    out: list[Relation] = []
    seen: set[tuple[str, str]] = set()
    for proposal in reply.model_dump()["proposals"]:
        kind = RelationType(proposal["type"])
        target = proposal["target"]
        if (target, kind.value) in seen or _known(graph, name, target, kind):
            continue
        seen.add((target, kind.value))
        incoming = kind is RelationType.MODULATES and proposal["direction"] == "incoming"
        source, dest = (target, name) if incoming else (name, target)
        out.append(Relation(source=source, target=dest, type=kind, rationale=proposal["rationale"].strip()))
    return out


def _known(graph: InteractionGraph, name: str, target: str, kind: RelationType) -> bool:
    if name not in graph.library:
        return False
    return any(edge.type is kind for edge in graph.edges_between(name, target))


def write_review(path: Path, name: str, relations: list[Relation]) -> None:
    """The proposals as a relations file with a header that says how to accept them."""
    header = (
        f"# Proposed relations for '{name}', written by `humanllm patterns build`: NOT loaded.\n"
        "# Review each entry; move the ones you accept into <patterns-dir>/relations/<file>.yaml.\n"
    )
    body = yaml.safe_dump(
        [r.model_dump(mode="json", exclude_defaults=True) for r in relations],
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    write_atomic(path, header + (body if relations else "[]\n"))
