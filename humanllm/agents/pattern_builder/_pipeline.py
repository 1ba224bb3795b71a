"""Build a pattern card end to end: corpus -> notes -> sections -> relations -> checklist -> files.

Outputs in `out/`: `<id>.yaml` (the card, loadable with `--patterns-dir out`), `<id>.provenance.json`
(where each part came from) and `review/relations/<id>.yaml` (proposed relations, not loaded).
Finished steps are cached under `out/.build-cache/`, so running the same command again after an
interruption only makes the calls that did not finish.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import yaml

from humanllm import __version__
from humanllm.agents.pattern_builder._assemble import assemble, finish, read_partial_card
from humanllm.agents.pattern_builder._cache import StepCache, write_atomic
from humanllm.agents.pattern_builder._checklist import choose_neighbours, library_items, synthesise_checklist
from humanllm.agents.pattern_builder._config import CACHE_DIR, REVIEW_DIR, BuildConfig, BuildResult
from humanllm.agents.pattern_builder._corpus import Chunk, Corpus, chunk_corpus, read_corpus
from humanllm.agents.pattern_builder._proposals import candidate_patterns, propose_relations, write_review
from humanllm.agents.pattern_builder._provenance import SECTIONS, BuildProvenance, DocumentRecord, SectionRecord, Source
from humanllm.agents.pattern_builder._steps import BuildProgress, NullProgress, StepRunner
from humanllm.agents.pattern_builder._summarise import Subject, take_notes, write_sections
from humanllm.agents.pattern_builder._text import name_phrases, normalise_space
from humanllm.core import Pattern, slugify
from humanllm.errors import ConfigError, EndpointError
from humanllm.llm import RoleModel, build_role_model
from humanllm.patterns import InteractionGraph

logger = logging.getLogger(__name__)


def _check_new_name(name: str, graph: InteractionGraph, card_path: Path) -> None:
    clash = next((key for key in (name, slugify(name)) if key in graph.library), None)
    if clash is None:
        return
    existing = graph.library.get(clash)
    source = graph.library.sources.get(existing.id)
    if source is not None and source.resolve() == card_path.resolve():
        return  # rebuilding our own output
    raise ConfigError(
        f"pattern {name!r} already exists as {existing.name!r} ({source or 'built-in'}); choose another name, or "
        "pass --card FILE to synthesise the checklist of a card that has none"
    )


def _documents(corpus: Corpus, chunks: list[Chunk]) -> list[DocumentRecord]:
    return [
        DocumentRecord(
            name=d.name,
            kind=d.kind,
            sha256=d.sha256,
            chars=d.chars,
            chunks=sum(1 for c in chunks if c.document == d.name),
            pages=d.pages,
        )
        for d in corpus.documents
    ]


async def abuild_pattern(
    config: BuildConfig,
    graph: InteractionGraph,
    *,
    model: RoleModel | None = None,
    progress: BuildProgress | None = None,
) -> BuildResult:
    """Build (or complete) one card and write its files; see the module docstring."""
    source = config.source()
    role = model or build_role_model("builder", config.model, config.settings)
    cache = StepCache(config.out / CACHE_DIR) if config.use_cache else None
    runner = StepRunner(role, cache, progress or NullProgress(), concurrency=config.concurrency)
    try:
        return await _build(config, source, graph, runner)
    except EndpointError as exc:
        where = f"; finished steps are cached in {config.out / CACHE_DIR}: run the same command to resume"
        raise EndpointError(f"{exc}{where if cache else ''}") from exc


async def _build(config: BuildConfig, source: Source, graph: InteractionGraph, runner: StepRunner) -> BuildResult:
    records: dict[str, SectionRecord] = {}
    documents: list[DocumentRecord] = []
    skipped: dict[str, str] = {}
    chunk_chars: int | None = None
    repairs: list[str] = []
    if source == "card":
        assert config.card is not None
        card = read_partial_card(config.card, config.name)
        records = {s: SectionRecord(method="given") for s in SECTIONS}
    else:
        name = normalise_space((config.name or "").lower())
        _check_new_name(name, graph, config.out / f"{slugify(name)}.yaml")
        subject = Subject(name=name, family=config.family, trait=bool(config.family and config.family.is_big_five))
        chunk_chars = config.resolved_chunk_chars()
        notes = None
        if source == "corpus":
            assert config.corpus is not None
            corpus = read_corpus(config.corpus, max_chars=config.max_chars)
            chunks = chunk_corpus(corpus, chunk_chars)
            documents, skipped = _documents(corpus, chunks), corpus.skipped
            notes = await take_notes(runner, name, chunks)
        taken = {n.lower() for c in graph.library if c.id != slugify(name) for n in c.names()}
        sections, family = await write_sections(runner, subject, notes, budget=chunk_chars, taken_names=taken)
        records = sections.records
        label = Subject(name, family, subject.trait).family_label
        card, repairs = assemble(
            name=name,
            family=family,
            pole=config.pole,
            fields=sections.fields,
            phrases=name_phrases([name]),
            family_label=label,
        )
    name, card_id = card["name"], card["id"]
    mechanisms = " ".join(v for v in card["core_mechanisms"].values() if v)
    text = f"{name} {card['definition']} {mechanisms}"
    candidates = candidate_patterns(text, card_id, graph, config.relation_candidates)
    relations = await propose_relations(runner, name, card["definition"], mechanisms, candidates, graph)
    proposed = [r.target if r.source == name else r.source for r in relations]
    similar = [c.name for c in candidates]
    neighbours = choose_neighbours(name, graph, proposed, similar, limit=config.neighbours)
    checklist, checklist_record = await synthesise_checklist(
        runner,
        card,
        neighbours=neighbours,
        names=[name, card_id, *card.get("aliases", [])],
        taken=library_items(list(graph.library), card_id),
        rounds=config.checklist_rounds,
    )
    pattern = finish(card, checklist)
    out = config.out
    card_path = out / f"{pattern.id}.yaml"
    review_path = out / REVIEW_DIR / f"{pattern.id}.yaml"
    provenance_path = out / f"{pattern.id}.provenance.json"
    provenance = BuildProvenance(
        pattern=pattern.name,
        pattern_id=pattern.id,
        source=source,
        model=str(runner.model.spec),
        created=datetime.now(UTC).replace(microsecond=0),
        humanllm_version=__version__,
        prompt_versions=dict(sorted(runner.templates.items())),
        settings=config.settings.public_dict(),
        corpus=str(config.corpus) if config.corpus else None,
        documents=documents,
        skipped_files=skipped,
        chunk_chars=chunk_chars,
        sections=records,
        checklist=checklist_record,
        relations_review=str(review_path),
        relations_proposed=len(relations),
        fallbacks=[*runner.fallbacks, *repairs],
        usage=runner.usage,
        cache_hits=runner.cache_hits,
    )
    write_card(card_path, pattern, provenance_path.name)
    write_review(review_path, pattern.name, relations)
    write_atomic(provenance_path, provenance.model_dump_json(indent=2) + "\n")
    logger.info("wrote %s (%d calls, %d cached)", card_path, provenance.usage.calls, runner.cache_hits)
    return BuildResult(
        card=pattern,
        card_path=card_path,
        provenance_path=provenance_path,
        review_path=review_path,
        relations=relations,
        provenance=provenance,
    )


def write_card(path: Path, card: Pattern, provenance_name: str) -> None:
    """The card as a one-card YAML list, the same shape as the built-in files."""
    header = f"# Built by `humanllm patterns build`; where each part came from: {provenance_name}\n"
    body = yaml.safe_dump(
        [card.model_dump(mode="json", exclude_defaults=True)], sort_keys=False, allow_unicode=True, width=100
    )
    write_atomic(path, header + body)


def build_pattern(
    config: BuildConfig,
    graph: InteractionGraph,
    *,
    model: RoleModel | None = None,
    progress: BuildProgress | None = None,
) -> BuildResult:
    """Synchronous `abuild_pattern`."""
    return asyncio.run(abuild_pattern(config, graph, model=model, progress=progress))
