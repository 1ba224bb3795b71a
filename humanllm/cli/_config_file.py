"""`--config FILE.yaml` for the commands that run models, and the resolved config saved beside their outputs.

The file's values become click's `default_map` (read in an eager callback, before the other options), so
click's own precedence holds: command line > environment variable (`HUMANLLM_*`) > config file > default,
and every value from the file passes the same checks as a flag. `save_resolved` records what a run used,
with each value's source from `ctx.get_parameter_source`.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any

import typer

from humanllm.core import OptionField, option_key, read_options_file, resolved_options_text, write_text_atomic
from humanllm.errors import ConfigError

RESOLVED_NAME = "config.resolved.yaml"
"""The resolved config of a command whose output is a folder (a store): DIR/config.resolved.yaml."""
_SKIPPED = frozenset({"config", "help", "install_completion", "show_completion"})
_SOURCES = {"COMMANDLINE": "command line", "ENVIRONMENT": "environment", "DEFAULT_MAP": "config file"}


def _load(ctx: typer.Context, _param: typer.CallbackParam, value: Path | None) -> Path | None:
    if value is None:
        return None
    try:
        values = read_options_file(value, option_fields(ctx), command=command_name(ctx))
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    ctx.default_map = {**(ctx.default_map or {}), **values}
    return value


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        is_eager=True,
        callback=_load,
        dir_okay=False,
        metavar="FILE.yaml",
        help="YAML file of this command's options (keys = option names, e.g. `judge-base-url: ...`). Flags and "
        "HUMANLLM_* environment variables override it; the values a run used are saved beside its output.",
        show_default=False,
    ),
]


def command_name(ctx: typer.Context) -> str:
    """'eval run' for `humanllm eval run` (the path under the root command)."""
    return " ".join(ctx.command_path.split()[1:]) or ctx.info_name or "humanllm"


def option_fields(ctx: typer.Context) -> dict[str, OptionField]:
    """Every option of the command a file may set, by key: its long flag, the parameter, the Python type."""
    callback = ctx.command.callback
    hints = typing.get_type_hints(callback) if callback is not None else {}
    fields = {}
    for param in ctx.command.params:
        if getattr(param, "param_type_name", "") != "option" or param.name is None:
            continue
        flags = [flag for flag in param.opts if flag.startswith("--")] or list(param.opts)
        key = option_key(flags[0])
        if key not in _SKIPPED:
            fields[key] = OptionField(key, param.name, hints.get(param.name, Any))
    return fields


def save_resolved(ctx: typer.Context, path: Path) -> Path:
    """Write every option value this run used (and where it came from) to `path`, as a reusable options file."""
    fields = option_fields(ctx)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, field in fields.items():
        values[key] = ctx.params.get(field.param)
        source = ctx.get_parameter_source(field.param)
        sources[key] = _SOURCES.get(source.name, "default") if source is not None else "default"
    arguments = {
        p.name: ctx.params.get(p.name)
        for p in ctx.command.params
        if getattr(p, "param_type_name", "") == "argument" and p.name is not None
    }
    from humanllm import __version__

    given = [ctx.params.get(p.name) for p in ctx.command.params if p.name and "--config" in getattr(p, "opts", ())]
    config_file = given[0] if given and isinstance(given[0], Path) else None
    text = resolved_options_text(
        command_name(ctx), values, sources, arguments=arguments, version=__version__, config_file=config_file
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return path


def beside(result: Path) -> Path:
    """Where the resolved config of a one-file result goes: `X.json` -> `X.config.yaml`."""
    return result.with_name(f"{result.stem}.config.yaml")


__all__ = ["RESOLVED_NAME", "ConfigOption", "beside", "command_name", "option_fields", "save_resolved"]
