"""The root `humanllm` command: global options and the command groups."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer

from humanllm import __version__
from humanllm.cli import _state
from humanllm.cli._lazy_group import LazyCommand, LazyGroup

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from humanllm.llm import ModelSettings


class _Commands(LazyGroup):
    """The root's commands, imported when one runs (or shows its own help): `humanllm --help` imports none."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "models": LazyCommand(
            "humanllm.cli.models:models",
            "List model backends, whether each is available on this machine, and the default.",
        ),
        "simulate": LazyCommand(
            "humanllm.cli.simulate:simulate",
            "Simulate one social scenario: characters carrying patterns talk, each as its own agent.",
        ),
        "generate": LazyCommand(
            "humanllm.cli.generate:generate",
            "Generate episodes at scale: bundles x situations, run concurrently, stored as JSONL.",
        ),
        "patterns": LazyCommand("humanllm.cli.patterns:app", "Browse, show, validate and import pattern cards."),
        "graph": LazyCommand(
            "humanllm.cli.graph:app", "The pattern-interaction graph: which patterns combine, and how."
        ),
        "data": LazyCommand("humanllm.cli.data:app", "Inspect, merge, split, import and export episode stores."),
        "train": LazyCommand(
            "humanllm.cli.train:app",
            "Fine-tune a model on exported SFT data (TRL SFTTrainer; LoRA via peft), check loss masks, merge LoRA.",
        ),
        "eval": LazyCommand(
            "humanllm.cli.eval:app",
            "Judge and benchmark: IPE/MPD checklists, the holistic baseline, human alignment and reports.",
        ),
        "view": LazyCommand(
            "humanllm.cli.view:view",
            "Browse stores in a local web page: episodes with each character's perspective, the judge's evidence, "
            "studies.",
        ),
        "study": LazyCommand(
            "humanllm.cli.study:app",
            "Controlled experiments: give or withhold patterns from characters in one fixed scenario, play every "
            "cell several times, judge every pattern in every cell, and estimate main effects and interactions.",
        ),
    }


app = typer.Typer(
    name="humanllm",
    cls=_Commands,
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
    """The app, with the `fake` backend registered (once); its commands are imported as they are used."""
    _offer_fakes()
    return app


@functools.cache
def _offer_fakes() -> None:
    """The CLI offers `--model fake[:schema]`: the model layer builds it with the test kit."""
    from humanllm.llm import register_fake_backend

    register_fake_backend(_fake_model)


def _fake_model(variant: str, settings: ModelSettings, common: dict[str, Any]) -> BaseChatModel:
    """A `fake[:schema]` model from the test kit, imported when the first one is built (so not for --help)."""
    from humanllm.testing import fake_builder

    return fake_builder()(variant, settings, common)
