"""`humanllm patterns ...`: browse, show, validate and import pattern cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from humanllm.cli._options import JsonOption, PatternsDirOption, library
from humanllm.cli._output import console, fail, print_json
from humanllm.core import Family, Pattern, PatternKind
from humanllm.patterns import BUILTIN_CARDS, validate_directory

app = typer.Typer(help="Browse, show, validate and import pattern cards.", no_args_is_help=True)


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
) -> None:
    """Check every card in a folder; report each problem with its file and field. Exit 1 if any."""
    target = directory or BUILTIN_CARDS
    problems = validate_directory(target)
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}", soft_wrap=True)
        fail(f"{len(problems)} problem(s) in {target}")
    count = sum(1 for _ in target.rglob("*.y*ml"))
    console.print(f"[green]✓[/] {target}: all cards valid ({count} files)")


@app.command("import")
def import_released(
    patterns_data: Annotated[Path, typer.Option("--patterns-data", help="The authors' patterns_data.json.")],
    checklists: Annotated[
        Path | None, typer.Option("--checklists", help="The authors' pattern_level_checklist.json.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write cards to (use with --patterns-dir).")] = Path(
        "imported-patterns"
    ),
    as_json: JsonOption = False,
) -> None:
    """Import the authors' released pattern files into a cards folder."""
    from humanllm.patterns._importer import import_released_files

    report = import_released_files(patterns_data, checklists, out)
    if as_json:
        print_json(report)
        return
    console.print(f"wrote {len(report.written)} card(s) to {out}")
    for label, names in (("matched built-in", report.matched), ("new", report.new)):
        if names:
            console.print(f"  {label}: {len(names)}")
    for name, why in report.skipped.items():
        console.print(f"  [yellow]skipped[/] {name}: {why}", soft_wrap=True)
