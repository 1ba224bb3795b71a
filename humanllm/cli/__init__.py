"""The `humanllm` command line. Commands parse options, build config and call the library."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from humanllm.errors import HumanLLMError


def main() -> None:
    """Console-script entry point: exits with the code of `run` (see `humanllm.cli._exit`)."""
    sys.exit(run())


def run(args: Sequence[str] | None = None) -> int:
    """Run the CLI on `args` (default: sys.argv) and return the exit code; never raises unless --debug.

    typer vendors its own click (`typer._click`): its exceptions are caught here through the classes
    typer exports (`typer.Exit`, `typer.Abort`, and `typer.TyperException`, the base of click's
    `ClickException`), never through a separately installed `click`. With `standalone_mode=False`
    click returns the code of `typer.Exit(n)` (and 130 on Ctrl-C) instead of exiting with it.
    """
    import typer
    from pydantic import ValidationError

    from humanllm.cli import _exit, _state
    from humanllm.cli._app import register
    from humanllm.cli._output import err_console
    from humanllm.cli._validate import validation_message

    def error(message: str) -> None:
        err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)

    try:
        app = register()
        result = app(args=list(args) if args is not None else None, prog_name="humanllm", standalone_mode=False)
    except typer.Exit as exc:  # raised outside a command's invocation
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return _exit.ERROR
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return _exit.INTERRUPTED
    except HumanLLMError as exc:
        if _state.debug:
            raise
        error(_escape(str(exc)))
        return _exit.ERROR
    except typer.TyperException as exc:  # click's ClickException (UsageError, BadParameter, ...) derives from it
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            error(_escape(exc.format_message()))
        return int(getattr(exc, "exit_code", _exit.USAGE))
    except ValidationError as exc:  # settings rejected outside option parsing (a file, a stored record, ...)
        if _state.debug:
            raise
        error(_escape(f"invalid {exc.title}: {validation_message(exc)}"))
        return _exit.ERROR
    except OSError as exc:  # a file or folder that cannot be read or written: the user's to fix, not a bug
        if _state.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        error(_escape(f"{where}{exc.strerror or exc}"))
        return _exit.ERROR
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        if _state.debug:
            raise
        detail = str(exc).strip().splitlines()
        error(
            _escape(f"unexpected {type(exc).__name__}{': ' + detail[0] if detail else ''}")
            + " (a bug: run again with --debug for the traceback)"
        )
        return _exit.ERROR
    if result == _exit.INTERRUPTED:
        err_console.print("interrupted")
    return result if isinstance(result, int) and not isinstance(result, bool) else _exit.OK


def command_paths() -> list[list[str]]:
    """Every group and command of the CLI as the words that name it (`[]` is the root), hidden ones left out.

    For tools that walk the whole CLI, such as `benchmarks/startup.py` timing every `--help`.
    """
    import typer
    import typer.main

    from humanllm.cli._app import register

    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        if not hasattr(command, "list_commands"):
            return
        ctx = typer.Context(command, info_name=path[-1] if path else "humanllm")
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                walk(sub, [*path, name])

    walk(typer.main.get_command(register()), [])
    return paths


def _escape(text: str) -> str:
    """Error text made safe to print: secrets redacted, rich markup escaped."""
    from rich.markup import escape

    from humanllm.redaction import redact

    return escape(redact(text))


__all__ = ["command_paths", "main", "run"]
