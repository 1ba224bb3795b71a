"""`generate --dry-run`: the estimate of a run (calls, tokens, cost), printed; nothing called or written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from humanllm.cli._async import run_interruptibly
from humanllm.cli._output import console, print_json

if TYPE_CHECKING:
    from humanllm.patterns import InteractionGraph
    from humanllm.simulation import Plan, RoleModels, RunEstimate, SimulationConfig


def standin_models(config: SimulationConfig) -> RoleModels:
    """Stand-ins for the run's role models: the real settings and specs, typical-size replies, no requests."""
    from humanllm.llm import RoleModel, parse_spec
    from humanllm.simulation import RoleModels
    from humanllm.testing import StandInChatModel

    def role(name: str, spec: str) -> RoleModel:
        chat = StandInChatModel(max_tokens=config.settings.max_tokens)
        return RoleModel(role=name, spec=parse_spec(spec), chat=chat, settings=config.settings, max_retries=0)

    return RoleModels(writer=role("writer", config.models.writer), character=role("character", config.models.character))


def dry_run(
    planned: Sequence[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    out: Path,
    prices_file: Path | None,
    *,
    as_json: bool,
) -> None:
    """Estimate the episodes of `planned` not yet in `out` (read only) and print the estimate.

    The jobs are the episodes left to run (`jobs`; `already_done` are in the store), so the
    estimate of a resumed run is what the resume will spend."""
    from humanllm.llm import load_prices
    from humanllm.simulation import EpisodeStore, estimate_run
    from humanllm.testing import TOKEN_UNIT

    done = EpisodeStore.open_for_reading(out).done if out.is_dir() else set()
    todo = [(c, p) for c, p in planned if p.id not in done]
    prices = load_prices(prices_file)
    if not todo:
        if as_json:
            print_json({"jobs": 0, "already_done": len(planned), "roles": {}, "cost_usd": 0.0, "cost_upper_usd": 0.0})
        else:
            console.print(f"all {len(planned)} jobs are already in {out}: nothing to run")
        return
    estimate = run_interruptibly(estimate_run(todo, graph, standin_models, prices, token_unit=TOKEN_UNIT))
    if as_json:
        data = estimate.model_dump(mode="json")
        data.update(
            already_done=len(planned) - len(todo), cost_usd=estimate.cost_usd, cost_upper_usd=estimate.cost_upper_usd
        )
        print_json(data)
        return
    console.print(_table(estimate, already=len(planned) - len(todo)))
    console.print(_notes(estimate), soft_wrap=True)


def _n(value: float) -> str:
    """12,345 below 100k, else 1.23M / 456k (the exact figures are in --json)."""
    if value < 100_000:
        return f"{value:,.0f}"
    return f"{value / 1e6:.3g}M" if value >= 1e6 else f"{value / 1e3:.3g}k"


def _three(values: tuple[float, float, float], same: bool) -> str:
    low, high, point = values
    return _n(point) if same or low == high else f"{_n(point)}\n[dim]{_n(low)}-{_n(high)}[/]"


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown (add it to --prices)"
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"


def _table(estimate: RunEstimate, *, already: int) -> Table:
    low, high = estimate.turns
    same = low == high
    title = f"dry run: {estimate.jobs} episodes to run" + (f" ({already} already stored)" if already else "")
    table = Table(title=title)
    for column in ("role", "model", "calls", "prompt tokens", "completion tokens", "cost"):
        table.add_column(column, justify="left" if column in ("role", "model") else "right", overflow="fold")
    for name, role in estimate.roles.items():
        table.add_row(
            name,
            role.model,
            _three(role.calls, same),
            _three(role.prompt_tokens, same),
            f"{_three(role.completion_tokens, same)}\n[dim]at most {_n(role.completion_upper)}[/]",
            f"{_usd(role.cost_usd)}\n[dim]at most {_usd(role.cost_upper_usd)}[/]",
        )
    table.add_row("director", "rules", "0", "0", "0", "$0.00")
    table.add_row(
        "[bold]total[/]",
        "",
        _three(estimate.total("calls"), same),
        _three(estimate.total("prompt_tokens"), same),
        _three(estimate.total("completion_tokens"), same),
        f"{_usd(estimate.cost_usd)}\n[dim]at most {_usd(estimate.cost_upper_usd)}[/]",
    )
    return table


def _notes(estimate: RunEstimate) -> str:
    low, high = estimate.turns
    turns = (
        f"{low} turns per episode"
        if low == high
        else f"the midpoint of {low}-{high} turns (below each: at {low} and at {high} turns)"
    )
    return (
        f"[dim]figures at {turns}; prompts rendered by the real prompt builders for {estimate.sampled} sampled "
        f"episodes, scaled to {estimate.jobs}; tokens: {estimate.token_unit}; completions: typical size (halfway "
        f"between each reply's bounds), 'at most' = every call writing --max-tokens {estimate.max_tokens}; prices "
        f"of {estimate.prices_written or 'unknown date'} (edit with --prices FILE.yaml); repairs and retries not "
        "counted. Nothing was called and nothing was written.[/]"
    )
