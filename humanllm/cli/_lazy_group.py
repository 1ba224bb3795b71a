"""A command group whose commands are imported on first use, so `humanllm --help` imports none of them.

The root lists each command by name with a one-line summary (`LazyCommand.summary`) and imports its
module (`humanllm.cli.data`, ...) only when that command runs, shows its own help or is completed;
`humanllm data --help` then builds the `data` group alone. `tests/test_startup.py` checks that the
root help reads the same with every command loaded, so a summary cannot drift from its docstring.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from humanllm.cli._help_text import reflow_command

if TYPE_CHECKING:  # typer's own (vendored) click
    from typer._click import Command, Context, HelpFormatter


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and what the root help says about it without importing it."""

    target: str
    """`module:attribute`: a `typer.Typer` (a command group) or a command function."""
    summary: str
    """The first paragraph of the command's help, as the root help lists it."""


class LazyGroup(TyperGroup):
    """A `TyperGroup` that also offers the commands of `lazy`, each imported when first asked for."""

    lazy: ClassVar[dict[str, LazyCommand]] = {}
    """Name -> command, in the order the help lists them (set by a subclass)."""
    pretty_exceptions_short: ClassVar[bool] = True

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return self.commands.get(cmd_name)
        if self._listing:  # the help lists it: its summary is enough
            return TyperCommand(name=cmd_name, help=self.lazy[cmd_name].summary)
        self.commands[cmd_name] = self.load(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def load(self, name: str) -> Command:
        """The click command of `name`, built by typer exactly as `add_typer` / `command` would."""
        module_name, attribute = self.lazy[name].target.split(":")
        target = getattr(importlib.import_module(module_name), attribute)
        if isinstance(target, typer.Typer):
            group = typer.main.get_group_from_info(
                TyperInfo(target, name=name),
                pretty_exceptions_short=self.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
                suggest_commands=self.suggest_commands,
            )
            return reflow_command(group)
        command = typer.main.get_command_from_info(
            CommandInfo(name=name, callback=target),
            pretty_exceptions_short=self.pretty_exceptions_short,
            rich_markup_mode=self.rich_markup_mode,
        )
        return reflow_command(command)


__all__ = ["LazyCommand", "LazyGroup"]
