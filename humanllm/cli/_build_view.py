"""Terminal view of `humanllm patterns build`: a progress bar per stage with token usage, and a summary."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:
    from humanllm.agents.pattern_builder import BuildResult
from humanllm.cli._output import err_console
from humanllm.core import TokenUsage


def _tokens(usage: TokenUsage) -> str:
    return f"{usage.total_tokens:,} tokens in {usage.calls} call(s)"


class BuildView:
    """Implements the builder's progress protocol with rich progress bars on stderr."""

    def __init__(self, *, quiet: bool) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[info]}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=quiet,
        )
        self.tasks: dict[str, TaskID] = {}
        self.cached: dict[str, int] = {}

    def __enter__(self) -> BuildView:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def stage(self, name: str, total: int) -> None:
        if name in self.tasks:
            task = self.tasks[name]
            done = self.progress.tasks[task].completed
            self.progress.update(task, total=done + total)
        else:
            self.tasks[name] = self.progress.add_task(name, total=total, info="")
            self.cached[name] = 0

    def advance(self, name: str, *, cached: bool, usage: TokenUsage) -> None:
        if name not in self.tasks:
            self.stage(name, 1)
        self.cached[name] += int(cached)
        hits = f"{self.cached[name]} cached · " if self.cached[name] else ""
        self.progress.update(self.tasks[name], advance=1, info=f"{hits}{_tokens(usage)}")


def render_build(result: BuildResult) -> Group:
    """What was built, from what, and what to do next."""
    p = result.provenance
    lines = [Text.from_markup(f"[green]✓[/] built [bold]{p.pattern}[/] -> {result.card_path}")]
    for section, record in p.sections.items():
        where = ", ".join(record.documents) or ("model knowledge" if record.knowledge else "-")
        style = "" if record.method in ("model", "given") else "yellow"
        lines.append(Text(f"  {section}: {record.method} ({where})", style=style))
    c = p.checklist
    dropped = sum(1 for ch in c.changes if ch.action == "dropped")
    rewritten = sum(1 for ch in c.changes if ch.action == "rewritten")
    lines.append(
        Text(
            f"  checklist: {len(result.card.checklist)} items ({c.generated} generated, {dropped} dropped, "
            f"{rewritten} rewritten, {c.filled_from_markers} from markers); told apart from: "
            f"{', '.join(c.neighbours) or '-'}"
        )
    )
    lines.append(
        Text(f"  relations: {p.relations_proposed} proposed in {result.review_path} (review them; they are not loaded)")
    )
    lines.append(Text(f"  provenance: {result.provenance_path}"))
    lines.append(Text(f"  usage: {_tokens(p.usage)}, {p.cache_hits} step(s) from the cache"))
    for fallback in p.fallbacks:
        lines.append(Text(f"  ! {fallback}", style="yellow"))
    if p.skipped_files:
        lines.append(Text(f"  skipped files: {', '.join(sorted(p.skipped_files))}", style="dim"))
    folder = result.card_path.parent
    lines.append(Text.from_markup(f'  next: humanllm patterns show "{p.pattern}" --patterns-dir {folder}'))
    return Group(*lines)
