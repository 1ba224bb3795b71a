"""Per-model token prices (USD per 1M tokens) for cost estimates: a small table shipped with the package.

`humanllm/llm/prices.yaml` holds a handful of common models with the date it was written; a user's
file of the same shape (`--prices FILE.yaml`) adds to it and replaces its entries. In-process
backends (local, hf, vllm, fake) cost 0; a model in neither table has no price (None), never a guess.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.core import kind_of, read_yaml_file
from humanllm.errors import ConfigError
from humanllm.llm._spec import canonical_spec, parse_spec

BUNDLED = Path(__file__).parent / "prices.yaml"
FREE_BACKENDS = frozenset({"local", "hf", "vllm", "fake"})
"""Backends that run in this process: no per-token price."""


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, description="USD per 1M prompt tokens.")
    output: float = Field(ge=0, description="USD per 1M completion tokens.")


class PriceTable(BaseModel):
    """A price file: when it was written and the price per model spec."""

    model_config = ConfigDict(extra="forbid")

    written: str | None = Field(default=None, description="When the prices were taken (they change).")
    prices: dict[str, Price] = Field(default_factory=dict, description="Model spec -> price.")

    def price_of(self, spec: str) -> Price | None:
        """The spec's price; 0 for in-process backends; None when the table does not know it."""
        parsed = parse_spec(spec)
        if parsed.backend in FREE_BACKENDS:
            return Price(input=0, output=0)
        return self.prices.get(canonical_spec(spec)) or self.prices.get(spec)

    def cost(self, spec: str, prompt_tokens: float, completion_tokens: float) -> float | None:
        """USD for that many tokens of the spec, or None for a model without a price."""
        price = self.price_of(spec)
        if price is None:
            return None
        return (prompt_tokens * price.input + completion_tokens * price.output) / 1e6


def _read(path: Path, what: str) -> PriceTable:
    raw = read_yaml_file(path, what=what)
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} {path} holds {kind_of(raw)}: write 'prices:' with 'spec: {{input: X, output: Y}}'")
    try:
        return PriceTable.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"{what} {path}: {where}: {error['msg']}") from exc


def load_prices(path: Path | None = None) -> PriceTable:
    """The bundled table, with the entries of `path` (a user's file of the same shape) over it."""
    table = _read(BUNDLED, "price table")
    if path is None:
        return table
    own = _read(path, "prices file")
    return PriceTable(written=own.written or table.written, prices={**table.prices, **own.prices})
