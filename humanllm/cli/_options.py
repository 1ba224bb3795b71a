"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel

from humanllm.agents import JUDGE_MAX_TOKENS, JUDGE_TEMPERATURE
from humanllm.agents.holistic import HOLISTIC_CHOICES
from humanllm.cli._validate import one_of, positive
from humanllm.evaluation import JudgeOptions
from humanllm.llm import DEFAULT_SPEC, ModelSettings

if TYPE_CHECKING:
    from humanllm.agents.holistic import HolisticChoice
    from humanllm.patterns import InteractionGraph, PatternLibrary

PatternsDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--patterns-dir",
        help="Folder of your own pattern cards (YAML) that add to or override the built-in ones. "
        "Repeatable; also read from $HUMANLLM_PATTERNS_DIR.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of readable text.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing output (without it, an existing one is an error).")
]


def library(patterns_dir: list[Path] | None) -> PatternLibrary:
    from humanllm.patterns import load_library

    return load_library(patterns_dir or [])


def graph(patterns_dir: list[Path] | None) -> InteractionGraph:
    from humanllm.patterns import load_graph

    return load_graph(library(patterns_dir), patterns_dir or [])


# --- model options: declared once, defaults taken from the library ------------------------------


def _default(model: type[BaseModel], name: str) -> Any:
    return model.model_fields[name].get_default(call_default_factory=True)


TEMPERATURE: float = _default(ModelSettings, "temperature")
MAX_TOKENS: int = _default(ModelSettings, "max_tokens")
TIMEOUT_S: float = _default(ModelSettings, "timeout_s")
MODEL: str = DEFAULT_SPEC
JUDGE_TEMPERATURE_DEFAULT: float = JUDGE_TEMPERATURE
JUDGE_MAX_TOKENS_DEFAULT: int = JUDGE_MAX_TOKENS
RUNS: int = _default(JudgeOptions, "runs")
BATCH_SIZE: int = _default(JudgeOptions, "batch_size")
RETRIES: int = _default(JudgeOptions, "retries")
HOLISTIC: str = _default(JudgeOptions, "holistic")
JUDGE_CONCURRENCY: int = _default(JudgeOptions, "concurrency")

ModelOption = Annotated[
    str, typer.Option("--model", envvar="HUMANLLM_MODEL", help="Model spec for every role (see `humanllm models`).")
]
WriterModelOption = Annotated[
    str | None, typer.Option(envvar="HUMANLLM_WRITER_MODEL", help="Model spec for the scenario writer.")
]
CharacterModelOption = Annotated[
    str | None, typer.Option(envvar="HUMANLLM_CHARACTER_MODEL", help="Model spec for the characters.")
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="HUMANLLM_BASE_URL", help="OpenAI-compatible endpoint for openai:<model> specs (e.g. a vLLM server)."
    ),
]
BaseUrlsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url",
        envvar="HUMANLLM_BASE_URL",
        help="OpenAI-compatible endpoint for openai:<model> specs (e.g. a vLLM server). Repeat it for replicas of "
        "one model: each episode goes to one of them (by a hash of its id), weighted equally.",
        show_default=False,
    ),
]
EndpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--endpoints",
        help="YAML list of replicas instead of --base-url: '- {url: http://gpu-1:8000/v1, weight: 2, concurrency: 64}' "
        "(weight and concurrency optional; keys stay in OPENAI_API_KEY).",
        show_default=False,
    ),
]
TemperatureOption = Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature.")]
MaxTokensOption = Annotated[int, typer.Option(min=16, help="Completion token limit per call.")]
ThreadsOption = Annotated[
    int | None, typer.Option(min=1, envvar="HUMANLLM_THREADS", help="CPU threads for the local model.")
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        callback=positive, envvar="HUMANLLM_TIMEOUT", help="Per-request timeout in seconds (remote endpoints)."
    ),
]
RpmOption = Annotated[
    float | None, typer.Option(callback=positive, envvar="HUMANLLM_RPM", help="Requests per minute, across roles.")
]

JudgeSpecOption = Annotated[
    str,
    typer.Option(
        "--judge", envvar="HUMANLLM_JUDGE", help="Judge model spec, e.g. openai:gpt-5-mini (see `humanllm models`)."
    ),
]
JudgeBaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--judge-base-url",
        envvar="HUMANLLM_JUDGE_BASE_URL",
        help="OpenAI-compatible endpoint of the judge (e.g. a vLLM server).",
    ),
]
JudgeTemperatureOption = Annotated[
    float, typer.Option("--judge-temperature", min=0.0, max=2.0, help="Judge sampling temperature.")
]
JudgeMaxTokensOption = Annotated[
    int, typer.Option("--judge-max-tokens", min=64, help="Judge completion limit per call (fit a whole batch).")
]
RunsOption = Annotated[int, typer.Option(min=1, help="Independent judge runs, reported as mean ± SD.")]
BatchSizeOption = Annotated[int, typer.Option(min=1, help="Checklist items per judge call; 1 = one call per item.")]
RetriesOption = Annotated[int, typer.Option(min=0, help="Extra rounds for unscored items (each halves the batch).")]
HolisticOption = Annotated[
    str,
    typer.Option(
        "--holistic",
        callback=one_of(*HOLISTIC_CHOICES),
        help="Holistic baseline (anthropomorphism, character fidelity, 0-100): coser (CoSER's flaw penalty, as the "
        "paper compares against), direct (a 0-100 rating) or off.",
    ),
]
NoHolisticOption = Annotated[bool, typer.Option("--no-holistic", help="No holistic baseline (= --holistic off).")]


def holistic_choice(holistic: str, no_holistic: bool) -> HolisticChoice:
    """The holistic setting of `--holistic` and `--no-holistic` (which wins)."""
    if no_holistic or holistic == "off":
        return "off"
    return "direct" if holistic == "direct" else "coser"


JudgeConcurrencyOption = Annotated[
    int, typer.Option(min=1, envvar="HUMANLLM_CONCURRENCY", help="Characters judged (or played) at once.")
]
BOOTSTRAP: int = _default(JudgeOptions, "bootstrap")
BootstrapOption = Annotated[
    int,
    typer.Option(
        "--bootstrap",
        min=0,
        help="Bootstrap resamples for the 95% confidence intervals over samples shown next to each mean "
        "(seeded from --seed); 0 = none.",
    ),
]
NaAsZeroOption = Annotated[
    bool,
    typer.Option(
        "--na-as-zero",
        help="Count items the judge answered n/a (no opportunity in the transcript) as 0, the paper-comparable "
        "number; by default they are left out of IPE/MPD and counted in the coverage.",
    ),
]
