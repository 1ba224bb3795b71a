"""What a batch will cost before it runs: calls, prompt and completion tokens, dollars.

The estimate renders every prompt with the real prompt builders: it plays a sample of the planned
episodes through the real episode graph with stand-in models (`standin`, built by the caller: no
request leaves the process) that answer each schema with a reply of typical size and count the
tokens of what they are sent and what they write. The growth of the prefix over turns (each
character call re-sends the conversation so far) is therefore measured, not modelled. The sample
is played at the lowest and at the highest turn count of the bounds; the point estimate is the
midpoint of the two (the director draws each episode's length between the bounds). Completions
are given twice: the typical size (the stand-in's replies, halfway between each schema's bounds)
and the upper bound (every call writing `max_tokens`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from humanllm.core import TokenUsage
from humanllm.llm import PriceTable
from humanllm.patterns import InteractionGraph
from humanllm.simulation._config import SimulationConfig
from humanllm.simulation._run import Plan, RoleModels, run_episode

ROLES = ("writer", "character")


class RoleEstimate(BaseModel):
    """One role's share of the run, over every job (turn counts: low, high, and the midpoint)."""

    model: str = Field(description="The role's model spec.")
    calls: tuple[float, float, float] = Field(description="Calls at the lowest, highest and midpoint turn count.")
    prompt_tokens: tuple[float, float, float] = Field(description="Prompt tokens at the same three turn counts.")
    completion_tokens: tuple[float, float, float] = Field(description="Typical completion tokens, same turn counts.")
    completion_upper: float = Field(
        description="Completion tokens if every call at the highest count wrote max_tokens."
    )
    cost_usd: float | None = Field(description="Midpoint prompt + typical completion, in USD; None: no price known.")
    cost_upper_usd: float | None = Field(description="Highest-count prompt + max_tokens completions, in USD.")


class RunEstimate(BaseModel):
    """The estimate of a whole `generate` run (nothing called, nothing written)."""

    jobs: int = Field(description="Episodes the run would make (already stored ones included).")
    sampled: int = Field(description="Episodes played with stand-in models to measure the prompts.")
    turns: tuple[int, int] = Field(description="The turn bounds; figures are given at both and at their midpoint.")
    point: str = Field(default="midpoint of the turn bounds", description="What the point estimate is.")
    max_tokens: int = Field(description="Completion limit per call (the upper bound of every completion).")
    token_unit: str = Field(description="How tokens were counted.")
    roles: dict[str, RoleEstimate]
    prices_written: str | None = Field(default=None, description="Date of the price table used.")

    def total(self, field: str) -> tuple[float, float, float]:
        values = [getattr(role, field) for role in self.roles.values()]
        return (sum(v[0] for v in values), sum(v[1] for v in values), sum(v[2] for v in values))

    @property
    def cost_usd(self) -> float | None:
        costs = [role.cost_usd for role in self.roles.values()]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    @property
    def cost_upper_usd(self) -> float | None:
        costs = [role.cost_upper_usd for role in self.roles.values()]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)


def evenly(items: Sequence[tuple[SimulationConfig, Plan]], k: int) -> list[tuple[SimulationConfig, Plan]]:
    """`k` items spread over the list (all of them when there are fewer)."""
    if len(items) <= k:
        return list(items)
    return [items[round(i * (len(items) - 1) / max(1, k - 1))] for i in range(k)]


async def _played(
    sample: Sequence[tuple[SimulationConfig, Plan]], graph: InteractionGraph, standin: RoleModels, turns: int
) -> dict[str, TokenUsage]:
    """Per role, what the sample spent when every episode takes exactly `turns` turns."""
    total = {role: TokenUsage() for role in ROLES}
    for config, plan in sample:
        rules = config.rules.model_copy(update={"min_turns": turns, "max_turns": turns})
        metered = standin.metered()
        await run_episode(config.model_copy(update={"rules": rules}), graph, metered, plan=plan, fresh_meters=False)
        for role, usage in metered.usage().items():
            total[role] = total[role].add(usage)
    return total


async def estimate_run(
    planned: Sequence[tuple[SimulationConfig, Plan]],
    graph: InteractionGraph,
    standin: Callable[[SimulationConfig], RoleModels],
    prices: PriceTable,
    *,
    sample: int = 6,
    token_unit: str = "stand-in count",
) -> RunEstimate:
    """Estimate the run of `planned`: see the module's docstring. `standin(config)` builds the stand-in models."""
    if not planned:
        raise ValueError("nothing planned to estimate")
    base = planned[0][0]
    low, high = base.rules.min_turns, base.rules.max_turns
    chosen = evenly(planned, sample)
    models = standin(base)
    at_low = await _played(chosen, graph, models, low)
    at_high = at_low if high == low else await _played(chosen, graph, models, high)
    scale = len(planned) / len(chosen)
    specs = {"writer": base.models.writer, "character": base.models.character}
    roles = {}
    for role in ROLES:
        a, b = at_low[role], at_high[role]

        def three(x: float, y: float) -> tuple[float, float, float]:
            return (x * scale, y * scale, (x + y) / 2 * scale)

        calls = three(a.calls, b.calls)
        prompt = three(a.prompt_tokens, b.prompt_tokens)
        completion = three(a.completion_tokens, b.completion_tokens)
        upper = calls[1] * base.settings.max_tokens
        roles[role] = RoleEstimate(
            model=specs[role],
            calls=calls,
            prompt_tokens=prompt,
            completion_tokens=completion,
            completion_upper=upper,
            cost_usd=prices.cost(specs[role], prompt[2], completion[2]),
            cost_upper_usd=prices.cost(specs[role], prompt[1], upper),
        )
    return RunEstimate(
        jobs=len(planned),
        sampled=len(chosen),
        turns=(low, high),
        max_tokens=base.settings.max_tokens,
        token_unit=token_unit,
        roles=roles,
        prices_written=prices.written,
    )
