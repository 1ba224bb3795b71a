"""The root `humanllm` command: global options and the command groups."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from humanllm import __version__
from humanllm.cli import _state

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from humanllm.llm import ModelSettings

app = typer.Typer(
    name="humanllm",
    help=(
        "Make language models behave like people: sample psychological patterns, simulate "
        "multi-agent social scenarios, turn them into training data and judge them.\n\n"
        "Runs offline on the bundled local model by default; point --model at OpenAI, a vLLM "
        "server or any OpenAI-compatible endpoint for real quality."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"humanllm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details to stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """Global options."""
    _state.debug = debug
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormat("%(levelname)s %(name)s: %(message)s", tracebacks=debug))
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING, handlers=[handler]
    )


class _LogFormat(logging.Formatter):
    """Log lines on stderr; an exception logged by the library shows as one line unless --debug."""

    def __init__(self, fmt: str, *, tracebacks: bool) -> None:
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        from humanllm.redaction import redact

        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:
        if self.tracebacks:
            return super().formatException(ei)
        kind, value = ei[0], ei[1]
        name = kind.__name__ if kind is not None else "error"
        return f"  {name}: {value} (run again with --debug for the traceback)"

    def formatStack(self, stack_info: str) -> str:
        return stack_info if self.tracebacks else ""


def register() -> typer.Typer:
    """Attach every command group (once; later calls return the same app); imported lazily so `--help` stays fast."""
    if app.registered_commands:
        return app
    from humanllm.cli import data, generate, graph, models, patterns, simulate, study, train
    from humanllm.cli import eval as eval_
    from humanllm.llm import register_fake_backend

    register_fake_backend(_fake_model)  # the CLI offers `--model fake[:schema]`: built by the test kit

    app.command("models")(models.models)
    app.add_typer(patterns.app, name="patterns")
    app.add_typer(graph.app, name="graph")
    app.command("simulate")(simulate.simulate)
    app.command("generate")(generate.generate)
    app.add_typer(data.app, name="data")
    app.add_typer(train.app, name="train")
    app.add_typer(eval_.app, name="eval")
    app.add_typer(study.app, name="study")
    return app


def _fake_model(variant: str, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
    """A `fake[:schema]` model from the test kit, imported when the first one is built (so not for --help)."""
    from humanllm.testing import fake_builder

    return fake_builder()(variant, settings, common)
