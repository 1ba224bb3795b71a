"""`humanllm patterns ...`: browse, show, validate and import pattern cards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from humanllm.cli._options import (
    BaseUrlOption,
    ForceOption,
    JsonOption,
    ModelOption,
    PatternsDirOption,
    TemperatureOption,
    ThreadsOption,
    library,
)
from humanllm.cli._output import console, fail, print_json
from humanllm.cli.discriminate import discriminate_command
from humanllm.core import Family, Pattern, PatternKind, Pole, check_output_dir, read_text_file
from humanllm.errors import PatternDataError
from humanllm.patterns import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from humanllm.patterns import NearDuplicate, PatternLibrary

app = typer.Typer(help="Browse, show, validate and import pattern cards.", no_args_is_help=True)
app.command("discriminate")(discriminate_command)


@app.command("list")
def list_patterns(
    kind: Annotated[PatternKind | None, typer.Option(help="Only this kind.")] = None,
    family: Annotated[Family | None, typer.Option(help="Only this family (or Big-Five dimension).")] = None,
    search: Annotated[str | None, typer.Option(help="Text to find in names, aliases and definitions.")] = None,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List pattern cards, optionally filtered."""
    cards = library(patterns_dir).select(kind=kind, family=family, search=search)
    if as_json:
        print_json([{"name": c.name, "id": c.id, "kind": c.kind, "family": c.family, "pole": c.pole} for c in cards])
        return
    table = Table(title=f"{len(cards)} patterns")
    for column in ("name", "kind", "family", "definition"):
        table.add_column(column, overflow="fold")
    for card in cards:
        family_label = f"{card.family.value} ({card.pole.value})" if card.pole else card.family.value
        table.add_row(card.name, card.kind.value, family_label, card.definition.split(". ")[0] + ".")
    console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Pattern name, id or alias (any case).")],
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one pattern card in full."""
    card = library(patterns_dir).get(name)
    if as_json:
        print_json(card)
        return
    console.print(render_card(card))


def render_card(card: Pattern) -> Panel:
    """A readable card for the terminal."""
    family = f"{card.family.value} / {card.pole.value} pole" if card.pole else card.family.value
    mech = card.core_mechanisms
    lines = [
        f"[dim]{card.kind.value} · {family} · id {card.id}"
        + (f" · aka {', '.join(card.aliases)}" if card.aliases else "")
        + "[/]",
        "",
        card.definition,
        "",
        "[bold]Core mechanisms[/]",
        f"  [cyan]cognitive[/]  {mech.cognitive}",
        f"  [cyan]emotional[/]  {mech.emotional}",
        f"  [cyan]behavioural[/] {mech.behavioral}",
    ]
    if mech.motivation:
        lines.append(f"  [cyan]why[/]        {mech.motivation}")
    rwm = card.real_world_manifestation
    lines += [
        "",
        "[bold]In everyday life[/]",
        f"  {rwm.everyday}",
        f"  [red]costs[/] {rwm.costs}",
        f"  [green]benefits[/] {rwm.benefits}",
        "",
        "[bold]Triggers[/]",
        f"  situations: {', '.join(s.value for s in card.triggers.situations)}",
    ]
    lines += [f"  - {cue}" for cue in card.triggers.cues]
    lines += ["", "[bold]Markers[/]"]
    for channel, style, items in (
        ("thought", "italic magenta", card.markers.thought),
        ("action", "yellow", card.markers.action),
        ("speech", "white", card.markers.speech),
    ):
        lines += [f"  [{style}]{channel}:[/] {item}" for item in items]
    lines += ["", f"[bold]Checklist ({len(card.checklist)} items)[/]"]
    lines += [f"  {i:>2}. {q}" for i, q in enumerate(card.checklist, 1)]
    if card.references:
        lines += ["", "[bold]References[/]"]
        lines += [f"  {r.authors} ({r.year}). {r.title}." for r in card.references]
    return Panel("\n".join(lines), title=f"[bold]{card.name}[/]", expand=False)


@app.command("validate")
def validate(
    directory: Annotated[Path | None, typer.Argument(help="Folder of card YAML files (default: built-in).")] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail on warnings too (incomplete imported cards, checklist sizes, old 'conflicts' relations).",
        ),
    ] = False,
) -> None:
    """Check every card in a folder, and its relation files (DIR/relations/*.yaml); report each problem
    with its file and field or line. Exit 1 if any.

    Relation files are checked against the built-in cards plus the folder's own: unknown pattern
    names, relation types, rationales, self-relations, duplicates, a tension on a pair that cannot
    share a character, and malformed YAML.
    Imported cards that lack parts (markers, for one) are INCOMPLETE warnings, and so is a relation of the
    old type 'conflicts' (read as clash); warnings fail only with --strict.
    """
    from humanllm.patterns import (
        BUILTIN_CARDS,
        BUILTIN_RELATIONS,
        check_directory,
        check_relation_files,
        near_duplicate_items,
        relation_warnings,
    )

    target = directory or BUILTIN_CARDS
    relations = BUILTIN_RELATIONS if directory is None else directory / "relations"
    check = check_directory(target)
    relation_problems = check_relation_files(relations, _names_for(directory)) if relations.is_dir() else []
    warnings = [*map(str, check.warnings), *(relation_warnings(relations) if relations.is_dir() else [])]
    for warning in [] if strict else warnings:
        console.print(f"[yellow]![/] {escape(warning)}", soft_wrap=True)
    problems = [*map(str, check.problems), *relation_problems, *(warnings if strict else [])]
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {escape(problem)}", soft_wrap=True)
        fail(f"{len(problems)} problem(s) in {target}")
    count = sum(1 for _ in target.rglob("*.y*ml"))
    files = len(list(relations.rglob("*.y*ml"))) if relations.is_dir() else 0
    console.print(
        f"[green]✓[/] {target}: all cards valid ({count} files)"
        + (f", {files} relation file(s) valid" if files and directory is not None else "")
    )
    if warnings:
        console.print(f"  {len(warnings)} warning(s) above; --strict makes them fail")
    similar = near_duplicate_items(_names_for(directory) if directory is None else _cards_in(target))
    if similar:
        where = "" if directory is None else f" {target}"
        console.print(
            f"  [yellow]≈[/] {len(similar)} pair(s) of near-duplicate checklist items across cards (cosine >= "
            f"{DEFAULT_THRESHOLD}); list them with: humanllm patterns similar{where}"
        )


def _cards_in(directory: Path) -> list[Pattern]:
    from humanllm.patterns import card_files, read_card_file

    return [card for path in card_files(directory) for card in read_card_file(path)[0]]


SimilarityOption = Annotated[
    float,
    typer.Option(
        "--threshold",
        min=0.05,
        max=1.0,
        help="TF-IDF cosine at or above which two items count as near-duplicates.",
    ),
]


@app.command("similar")
def similar(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder of card YAML files (default: the built-in library).")
    ] = None,
    threshold: SimilarityOption = DEFAULT_THRESHOLD,
    pattern: Annotated[str | None, typer.Option("--pattern", help="Only pairs that involve this pattern.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Checklist items of different cards that ask for nearly the same behaviour.

    Similarity is TF-IDF cosine over the items' stemmed content words (the "Does the character"
    boilerplate and function words dropped), computed across every card of the folder; the shared words
    are shown as the reason. Items of opposite poles of one Big-Five dimension mirror each other by
    design and are left out. A lexical measure misses paraphrases in other words: `patterns
    discriminate` tests checklists on played transcripts."""
    from humanllm.patterns import PatternLibrary, near_duplicate_items

    cards = list(_names_for(None)) if directory is None else _cards_in(directory)
    found = near_duplicate_items(cards, threshold=threshold)
    if pattern is not None:
        name = PatternLibrary(cards).get(pattern).name
        found = [d for d in found if name in (d.first_card, d.second_card)]
    if as_json:
        print_json([_pair_json(d) for d in found])
        return
    table = Table(title=f"{len(found)} near-duplicate pair(s) at cosine >= {threshold}")
    for column in ("cosine", "card", "item", "card", "item", "shared words"):
        table.add_column(column, overflow="fold")
    for d in found:
        table.add_row(
            f"{d.similarity:.2f}", d.first_card, d.first_item, d.second_card, d.second_item, ", ".join(d.shared)
        )
    console.print(table)


def _pair_json(duplicate: NearDuplicate) -> dict[str, object]:
    return {
        "similarity": duplicate.similarity,
        "first": {"pattern": duplicate.first_card, "item": duplicate.first_item},
        "second": {"pattern": duplicate.second_card, "item": duplicate.second_item},
        "shared_terms": list(duplicate.shared),
    }


def _names_for(directory: Path | None) -> PatternLibrary:
    """The patterns a folder's relations may name: the built-in cards plus the folder's readable ones."""
    from humanllm.patterns import PatternLibrary, load_library

    try:
        return load_library([directory] if directory is not None else [])
    except PatternDataError:  # the card problems are reported on their own; check names against what reads
        return PatternLibrary([*load_library([]), *([] if directory is None else _cards_in(directory))])


@app.command("import")
def import_released(
    patterns_data: Annotated[Path, typer.Option("--patterns-data", help="The authors' patterns_data.json.")],
    checklists: Annotated[
        Path | None, typer.Option("--checklists", help="The authors' pattern_level_checklist.json.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write cards to (use with --patterns-dir).")] = Path(
        "imported-patterns"
    ),
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            metavar="FAMILY|NAME=FAMILY",
            help="Family of released patterns with no built-in card: FAMILY for all of them, or 'NAME=FAMILY' "
            f"for one (repeatable); one of {', '.join(f.value for f in Family)}. Default: a guess, reported per card.",
            show_default=False,
        ),
    ] = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import the authors' released pattern files into a cards folder.

    Known patterns merge into their built-in card; others become new INCOMPLETE cards that load and can be judged.

    Checklists are kept whole, with each item's evidence_status and the entry's case_review and notes.
    An --out folder that already holds cards (you may have edited them) needs --force.
    """
    from humanllm.patterns import import_released_files, parse_family_option

    check_output_dir(out)
    if not force and out.is_dir() and (held := sorted(p.name for p in out.glob("*.y*ml"))):
        fail(
            f"{out} already holds {len(held)} card file(s) ({held[0]}, ...): pass --force to overwrite them, or "
            "choose another --out"
        )

    report = import_released_files(patterns_data, checklists, out, families=parse_family_option(family or []))
    if as_json:
        print_json(report)
        return
    console.print(f"wrote {len(report.written)} card(s) to {out}")
    for label, names in (("matched built-in", report.matched), ("new", report.new)):
        if names:
            console.print(f"  {label}: {len(names)}")
    for card in report.cards:
        if card.new:
            pole = f" / {card.pole.value} pole" if card.pole else ""
            console.print(
                f"  [cyan]new[/] {escape(card.name)}: {card.family.value}{pole} ({escape(card.family_source)})",
                soft_wrap=True,
            )
        if card.missing:
            console.print(
                f"  [yellow]incomplete[/] {escape(card.name)}: missing {', '.join(card.missing)}", soft_wrap=True
            )
        for note in card.warnings:
            console.print(f"  [yellow]warning[/] {escape(card.name)}: {escape(note)}", soft_wrap=True)
    for note in report.warnings:
        console.print(f"  [yellow]warning[/] {escape(note)}", soft_wrap=True)
    for name, why in report.skipped.items():
        console.print(f"  [yellow]skipped[/] {name}: {why}", soft_wrap=True)
    if report.incomplete:
        console.print(
            f"  {len(report.incomplete)} incomplete card(s) load and can be judged; write their triggers and markers "
            f"to guide simulated characters (see 'humanllm patterns validate {out}')",
            soft_wrap=True,
        )


@app.command("build")
def build(
    name: Annotated[
        str | None, typer.Argument(help="Name of the new pattern, e.g. 'escalation of commitment'.", show_default=False)
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Folder of .txt, .md and .pdf documents about the pattern.")
    ] = None,
    from_knowledge: Annotated[
        bool, typer.Option("--from-knowledge", help="No corpus: write from the model's own knowledge (so marked).")
    ] = False,
    card: Annotated[
        Path | None, typer.Option("--card", help="A card YAML without a checklist: synthesise only its checklist.")
    ] = None,
    family: Annotated[
        Family | None,
        typer.Option(help="Family or Big-Five dimension (default: the model picks a social-cognitive one)."),
    ] = None,
    pole: Annotated[Pole | None, typer.Option(help="Pole, for a Big-Five trait.")] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the card (load it with --patterns-dir), provenance, review.")
    ] = Path("built-patterns"),
    model: ModelOption = "local",
    base_url: BaseUrlOption = None,
    temperature: TemperatureOption = 0.3,  # the builder's own default: drafting wants little randomness
    max_tokens: Annotated[int, typer.Option(min=64, help="Completion token limit per call.")] = 1024,
    threads: ThreadsOption = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed where the backend takes one.")] = None,
    max_chars: Annotated[
        int, typer.Option("--max-chars", min=1, help="Refuse a corpus with more characters of text than this.")
    ] = 1_000_000,
    chunk_chars: Annotated[
        int | None, typer.Option(min=500, help="Characters per chunk (default: what fits the model's context).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Model calls in flight at once.")] = 4,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse finished steps (resume).")] = True,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build a pattern card from documents (or the model's knowledge), with a reviewed checklist.

    Summarises the corpus map-reduce style into the card's sections, synthesises 12-15 checklist
    items and drops those a neighbouring pattern would equally predict, and proposes relations to
    OUT/review/relations/ for you to review. Writes OUT/<id>.yaml and OUT/<id>.provenance.json.
    Run the same command again to resume: finished steps are cached in OUT/.build-cache.
    """
    from humanllm.agents.pattern_builder import BuildConfig, build_pattern
    from humanllm.cli._build_view import BuildView, render_build
    from humanllm.cli._options import graph
    from humanllm.llm import ModelSettings

    config = BuildConfig(
        name=name,
        corpus=corpus,
        from_knowledge=from_knowledge,
        card=card,
        family=family,
        pole=pole,
        out=out,
        model=model,
        settings=ModelSettings(
            temperature=temperature, max_tokens=max_tokens, threads=threads, base_url=base_url, seed=seed
        ),
        max_chars=max_chars,
        chunk_chars=chunk_chars,
        concurrency=concurrency,
        use_cache=cache,
    )
    config.source()  # a bad combination of options fails before anything is loaded
    check_output_dir(out)  # resumes: files already there are the cache and earlier results
    if card is not None:
        read_text_file(card, what="card file")  # missing, a folder or not UTF-8: one line, before any model call
    interaction_graph = graph(patterns_dir)
    with BuildView(quiet=as_json) as view:
        result = build_pattern(config, interaction_graph, progress=view)
    if as_json:
        print_json(result)
        return
    console.print(render_build(result))
