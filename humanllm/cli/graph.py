"""`humanllm graph ...`: the pattern-interaction graph: check, show, sample, stats, export, plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humanllm.cli._async import run_interruptibly
from humanllm.cli._options import MODEL, BaseUrlOption, ForceOption, JsonOption, ModelOption, PatternsDirOption, graph
from humanllm.cli._output import console, print_json
from humanllm.cli._validate import one_of, options_config
from humanllm.core import SituationType, check_output_file, save_or_rescue, write_text_atomic
from humanllm.patterns import INTERACTION_TYPES, BundleRecipe

app = typer.Typer(help="The pattern-interaction graph: which patterns combine, and how.", no_args_is_help=True)

_STYLE = {
    "reinforces": "green",
    "tension": "yellow",
    "clash": "red",
    "modulates": "cyan",
    "excludes": "dim",
    "not_same_character": "magenta",
}


def _interaction(value: str | None) -> str | None:
    """--interaction: an interaction type; 'conflicts' (split in two) is refused with a one-line hint."""
    from humanllm.patterns import interaction_type

    if value is not None:
        try:
            interaction_type(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return value


@app.command("check")
def check(
    patterns: Annotated[str, typer.Argument(help='Comma-separated patterns for ONE character, e.g. "shy, bold".')],
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Can one character carry all these patterns? Exit code 1 when not, naming the pair and rule."""
    g = graph(patterns_dir)
    names = [p.name for p in g.library.resolve(patterns)]
    problems = g.violations(names)
    edges = g.internal_edges(names)
    if as_json:
        print_json(
            {
                "patterns": names,
                "valid": not problems,
                "violations": [p.__dict__ for p in problems],
                "edges": [e.describe() for e in edges],
            }
        )
    else:
        for edge in edges:
            console.print(
                f"  [{_STYLE[edge.type.value]}]{edge.type.value}[/] {escape(edge.describe())}", soft_wrap=True
            )
        if not problems:
            console.print(f"[green]✓[/] one character can carry: {', '.join(names)}")
    if problems:
        if not as_json:
            for problem in problems:
                console.print(f"[red]✗[/] {escape(str(problem))}", soft_wrap=True)
        raise typer.Exit(1)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Pattern name, id or alias.")],
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """A pattern's neighbours, grouped by relation type, with rationales."""
    from humanllm.patterns import RelationType

    g = graph(patterns_dir)
    card = g.library.get(name)
    edges = g.neighbours(card.name)
    if as_json:
        print_json({"pattern": card.name, "edges": [{**e.__dict__, "type": e.type.value} for e in edges]})
        return
    console.print(f"[bold]{card.name}[/] [dim]({card.kind.value}, {card.family.value})[/]")
    for kind in RelationType:
        group = [e for e in edges if e.type is kind]
        if group:
            console.print(f"\n[{_STYLE[kind.value]} bold]{kind.value}[/] ({len(group)})")
            for edge in group:
                other = edge.b if edge.a == card.name else edge.a
                arrow = "" if not edge.directed else (" →" if edge.a == card.name else " ←")
                console.print(f"  {other}{arrow}: [dim]{edge.rationale}[/]", soft_wrap=True)


@app.command("sample")
def sample(
    n: Annotated[int, typer.Option("--n", min=1, help="How many bundles.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bundles.")] = 0,
    min_size: Annotated[int, typer.Option(min=1, help="Fewest patterns per bundle.")] = 2,
    max_size: Annotated[int, typer.Option(min=1, help="Most patterns per bundle.")] = 5,
    include: Annotated[str, typer.Option(help="Comma-separated patterns every bundle must hold.")] = "",
    exclude: Annotated[str, typer.Option(help="Comma-separated patterns no bundle may hold.")] = "",
    min_traits: Annotated[int, typer.Option(min=0, help="At least this many Big-Five trait markers.")] = 0,
    min_social: Annotated[int, typer.Option(min=0, help="At least this many social-cognitive patterns.")] = 0,
    interaction: Annotated[
        str | None,
        typer.Option(
            callback=_interaction,
            help=f"Require an edge of this type inside the bundle: {', '.join(k.value for k in INTERACTION_TYPES)} "
            "(the old 'conflicts' is now tension or clash).",
        ),
    ] = None,
    situation: Annotated[SituationType | None, typer.Option(help="Prefer patterns this situation triggers.")] = None,
    characters: Annotated[int, typer.Option(min=2, max=6, help="Characters to assign the patterns to.")] = 2,
    recipe: Annotated[
        BundleRecipe,
        typer.Option(
            help="'graph' (interacting patterns, no excluded pair; takes the options above) or 'paper' (the "
            "authors' recipe: 3-4 Big-Five markers, with p=0.7 one social-cognitive pattern; takes none of them)."
        ),
    ] = BundleRecipe.GRAPH,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sample bundles of interacting patterns, with their assignment to characters and the edges inside.

    --recipe paper draws the way the paper's authors did; an excluded pair it draws goes to two characters.
    """
    from humanllm.patterns import BundleConstraints, assign, bundle_source, interaction_type

    if min_size > max_size:
        raise typer.BadParameter(
            f"--min-size {min_size} is above --max-size {max_size}", param_hint="'--min-size' / '--max-size'"
        )
    g = graph(patterns_dir)
    with options_config():
        constraints = BundleConstraints(
            min_size=min_size,
            max_size=max_size,
            include=[p for p in include.split(",") if p.strip()],
            exclude=[p for p in exclude.split(",") if p.strip()],
            min_traits=min_traits,
            min_social=min_social,
            interaction=interaction_type(interaction) if interaction else None,
            situation=situation,
        )
    if recipe is BundleRecipe.PAPER and constraints != BundleConstraints():
        raise typer.BadParameter(
            "the paper recipe takes no bundle constraints (sizes, include/exclude, kinds, interaction, situation); "
            "drop them or use --recipe graph",
            param_hint="'--recipe'",
        )
    sampler = bundle_source(recipe, g, seed=seed, constraints=constraints, characters=characters)
    drawn = [(bundle, assign(g, bundle.patterns, characters)) for bundle in sampler.sample_many(n)]
    if as_json:
        print_json([{"patterns": b.patterns, "assignment": a.slots, "edges": b.edges} for b, a in drawn])
        return
    for i, (bundle, assignment) in enumerate(drawn, 1):
        console.print(f"[bold]{i}.[/] {', '.join(bundle.patterns)}")
        for slot, held in enumerate(assignment.slots):
            who = "protagonist" if slot == 0 else f"character {slot}"
            console.print(f"   {who}: {', '.join(held) or '-'}")
        for edge in bundle.edges:
            console.print(f"   [dim]{escape(edge)}[/]", soft_wrap=True)


@app.command("stats")
def stats(patterns_dir: PatternsDirOption = None, as_json: JsonOption = False) -> None:
    """Degrees, relation counts by type and family, coverage and components."""
    from humanllm.patterns import graph_statistics

    data = graph_statistics(graph(patterns_dir))
    if as_json:
        print_json(data)
        return
    table = Table(title="pattern-interaction graph")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(key, json.dumps(value) if not isinstance(value, int) else str(value))
    console.print(table)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[
        str, typer.Option("--format", callback=one_of("graphml", "json"), help="graphml or json (node-link).")
    ] = "graphml",
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
) -> None:
    """Write the whole graph for other tools (Gephi, Cytoscape, networkx); an existing --out needs --force."""
    from humanllm.patterns import export_graph

    check_output_file(out, force=force)
    text, nodes, edges = export_graph(graph(patterns_dir), "json" if fmt == "json" else "graphml")
    write_text_atomic(out, text)
    console.print(f"wrote {out} ({nodes} nodes, {edges} edges)")


@app.command("plot")
def plot(
    target: Annotated[str, typer.Argument(help='A pattern (its neighbourhood) or a bundle "a, b, c".')],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")] = Path("pattern-graph.png"),
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
) -> None:
    """Draw a pattern's neighbourhood or a bundle: nodes coloured by family, edges styled by type.

    An existing --out needs --force.
    """
    from humanllm.patterns import draw

    check_output_file(out, force=force)
    g = graph(patterns_dir)
    names = [p.name for p in g.library.resolve(target)]
    out.parent.mkdir(parents=True, exist_ok=True)
    draw(g, names, out)
    console.print(f"wrote {out}")


@app.command("annotate")
def annotate(
    name: Annotated[str, typer.Argument(help="The pattern to propose relations for.")],
    model: ModelOption = MODEL,
    out: Annotated[Path, typer.Option(help="Review folder; a file <id>.yaml is written in it.")] = Path(
        "review/relations"
    ),
    candidates: Annotated[int, typer.Option(min=1, max=20, help="Library patterns offered to the model.")] = 8,
    base_url: BaseUrlOption = None,
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
) -> None:
    """Optional: let a model propose new relations for a pattern, with rationales, into a review file.

    Nothing is merged: read the file and move the entries you accept into
    <patterns-dir>/relations/<file>.yaml. An existing review file (you may be editing it) needs
    --force; the path is checked before the model is called.
    """

    from humanllm.agents.pattern_builder import write_review
    from humanllm.agents.relation_annotator import annotate_pattern
    from humanllm.llm import ModelSettings, build_role_model

    g = graph(patterns_dir)
    card = g.library.get(name)
    path = check_output_file(out / f"{card.id}.yaml", force=force)
    role = build_role_model("writer", model, ModelSettings(base_url=base_url, temperature=0.3))
    relations = run_interruptibly(annotate_pattern(role, g, card.name, candidates))
    save_or_rescue(
        path, lambda where: write_review(where, card.name, relations), rescue_id=card.id, what="proposed relations"
    )
    console.print(f"{len(relations)} proposed relation(s) for {card.name!r} -> {path} (review them; nothing merged)")
