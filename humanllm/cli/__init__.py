"""The `humanllm` command line. Commands parse options, build config and call the library."""

from __future__ import annotations

import sys

from humanllm.errors import HumanLLMError


def main() -> None:
    """Console-script entry point: one-line errors unless --debug."""
    from humanllm.cli import _state
    from humanllm.cli._app import register
    from humanllm.cli._output import err_console

    app = register()
    try:
        app(standalone_mode=False)
    except HumanLLMError as exc:
        if _state.debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors and Exit are handled below
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


__all__ = ["main"]
