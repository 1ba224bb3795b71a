"""Option checks at parse time: a bad value is a usage error (exit 2) naming the option, never a traceback.

Each check is a typer `callback=`; click adds the option's name to the message
("Invalid value for '--timeout': must be above 0, not 0"). The parsers of structured
values (--turns, --mode) live here too, so a command body only sees values that passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

import typer
from pydantic import ValidationError

from humanllm.errors import ConfigError, HumanLLMError

N = TypeVar("N", int, float)

_TURNS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one line: `field: problem; ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or str(exc).splitlines()[0]


def _least_turns() -> int:
    """The fewest turns `TurnRules` accepts (its `ge` bound on min_turns)."""
    from humanllm.agents.director import TurnRules

    for rule in TurnRules.model_fields["min_turns"].metadata:
        bound = getattr(rule, "ge", None)
        if isinstance(bound, int):
            return bound
    return 1


def parse_turns(text: str) -> tuple[int, int]:
    """'12-20' -> (12, 20); '8' -> (8, 8); bounds the director cannot use raise `ConfigError`."""
    from humanllm.agents.director import TurnRules

    match = _TURNS.match(text)
    if not match:
        raise ConfigError(f"takes MIN-MAX like 12-20, not {text!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    least = _least_turns()
    if low < least:
        raise ConfigError(f"MIN must be at least {least}, not {low} (in {text!r})")
    if low > high:
        raise ConfigError(f"MIN {low} is above MAX {high} (in {text!r}); give MIN-MAX with MIN <= MAX")
    try:
        TurnRules(min_turns=low, max_turns=high)
    except ValidationError as exc:
        raise ConfigError(f"{text!r} is not a usable turn range: {validation_message(exc)}") from exc
    return low, high


def parse_mode(text: str) -> Literal["agents", "author"]:
    """--mode: 'agents' (one agent per character) or 'author' (one call writes it all)."""
    if text == "agents":
        return "agents"
    if text == "author":
        return "author"
    raise ConfigError(f"must be agents or author, not {text!r}")


def positive(value: N | None) -> N | None:
    """A number above 0 (timeouts, rates)."""
    if value is not None and value <= 0:
        raise typer.BadParameter(f"must be above 0, not {value:g}")
    return value


def one_of(*choices: str) -> Callable[[str], str]:
    """A string option that takes one of `choices`."""

    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(choices)}")
        return value

    return check


def checked(parse: Callable[[str], object]) -> Callable[[str | None], str | None]:
    """A string option checked by a parser that raises `HumanLLMError` (or a pydantic error)."""

    def check(value: str | None) -> str | None:
        if value is not None:
            with usage_error():
                parse(value)
        return value

    return check


def checked_each(parse: Callable[[str], object]) -> Callable[[list[str] | None], list[str] | None]:
    """A repeatable string option, each value checked like `checked`."""

    def check(values: list[str] | None) -> list[str] | None:
        for value in values or []:
            with usage_error():
                parse(value)
        return values

    return check


turn_bounds = checked(parse_turns)
"""Callback of --turns."""
mode_choice = checked(parse_mode)
"""Callback of simulate's and generate's --mode."""


@contextmanager
def usage_error() -> Iterator[None]:
    """Turn the library's rejection of an option value into `typer.BadParameter` (exit 2)."""
    try:
        yield
    except ValidationError as exc:
        raise typer.BadParameter(validation_message(exc)) from exc
    except HumanLLMError as exc:
        raise typer.BadParameter(str(exc)) from exc


@contextmanager
def options_config() -> Iterator[None]:
    """Around config built from a command's options: a setting pydantic rejects is a usage error (exit 2)."""
    try:
        yield
    except ValidationError as exc:
        raise typer.BadParameter(f"invalid {exc.title} setting: {validation_message(exc)}") from exc


__all__ = [
    "checked",
    "checked_each",
    "mode_choice",
    "one_of",
    "options_config",
    "parse_mode",
    "parse_turns",
    "positive",
    "turn_bounds",
    "usage_error",
    "validation_message",
]
