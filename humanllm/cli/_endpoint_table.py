"""The per-endpoint figures of a store's last run (`data status`), as rows of its table."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table


def _ms(seconds: object) -> str:
    return "-" if not isinstance(seconds, int | float) else f"{seconds * 1000:.0f}"


def endpoint_line(row: dict[str, Any]) -> str:
    """One endpoint's figures in a line: episodes, calls, errors, tokens, latency, health."""
    latency = "/".join(_ms(row.get(key)) for key in ("latency_mean_s", "latency_p50_s", "latency_p95_s"))
    health = "ok" if row.get("healthy", True) else f"out ({row.get('last_problem') or 'failed its check'})"
    return (
        f"{row.get('episodes', 0)} episodes (weight {row.get('weight', 1):g}), {row.get('calls', 0)} calls, "
        f"{row.get('errors', 0)} errors, {row.get('prompt_tokens', 0)} + {row.get('completion_tokens', 0)} tokens, "
        f"{latency} ms per call (mean/p50/p95), {health}"
    )


def add_endpoint_rows(table: Table, endpoints: dict[str, Any]) -> None:
    """A heading row, then one row per endpoint of the last run (URLs are redacted in the manifest)."""
    if not endpoints:
        return
    table.add_row("endpoints (last run)", str(len(endpoints)))
    for name, row in endpoints.items():
        table.add_row(f"  {escape(name)}", escape(endpoint_line(row)))
