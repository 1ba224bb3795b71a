"""`humanllm simulate`: one social simulation, shown as it happens and saved as JSON."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from humanllm.cli._config_file import ConfigOption, beside, save_resolved
from humanllm.cli._options import (
    MAX_TOKENS,
    MODEL,
    TEMPERATURE,
    TIMEOUT_S,
    BaseUrlOption,
    CharacterModelOption,
    ForceOption,
    JsonOption,
    MaxTokensOption,
    ModelOption,
    PatternsDirOption,
    TemperatureOption,
    ThreadsOption,
    TimeoutOption,
    WriterModelOption,
    graph,
)
from humanllm.cli._output import console, err_console, print_json
from humanllm.cli._render import render_scenario, render_summary, render_turn, speaker_colours
from humanllm.cli._validate import mode_choice, options_config, parse_mode, parse_turns, turn_bounds
from humanllm.core import Scenario, Turn, check_output_dir, check_output_file, write_text_or_rescue

DEFAULT_FOLDER = Path("runs") / "simulate"


def simulate(
    ctx: typer.Context,
    patterns: Annotated[
        str | None, typer.Option(help='Comma-separated patterns, e.g. "sunk cost fallacy, anxious". Default: sampled.')
    ] = None,
    situation: Annotated[
        str | None,
        typer.Option(
            help="A DIAMONDS type (duty, intellect, adversity, mating, positivity, negativity, deception, "
            "sociality), a domain, or free text. Default: drawn with the seed."
        ),
    ] = None,
    characters: Annotated[int, typer.Option(min=2, max=6, help="Characters, protagonist included.")] = 2,
    turns: Annotated[str, typer.Option(callback=turn_bounds, metavar="MIN-MAX", help="Turn bounds MIN-MAX.")] = "12-20",
    mode: Annotated[
        str,
        typer.Option(
            callback=mode_choice, help="agents: one agent per character; author: one call writes it all (baseline)."
        ),
    ] = "agents",
    model: ModelOption = MODEL,
    writer_model: WriterModelOption = None,
    character_model: CharacterModelOption = None,
    base_url: BaseUrlOption = None,
    temperature: TemperatureOption = TEMPERATURE,
    max_tokens: MaxTokensOption = MAX_TOKENS,
    threads: ThreadsOption = None,
    timeout: TimeoutOption = TIMEOUT_S,
    guidance: Annotated[bool, typer.Option(help="Give characters private guidance from their patterns.")] = True,
    variation: Annotated[
        bool, typer.Option("--variation", help="Also write a counterfactual scenario with changed situational factors.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed: bundle, situation, names, turn plan and sampling.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Episode JSON file (default runs/simulate/<id>.json).")] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", help="You play the protagonist, typing [thought] (action) speech.")
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Save every step of the run to this SQLite file (LangGraph's checkpointer), to inspect it "
            "afterwards; needs the langgraph-checkpoint-sqlite package (pip install 'humanllm[studio]').",
            dir_okay=False,
        ),
    ] = None,
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
    config_file: ConfigOption = None,
) -> None:
    """Simulate one social scenario: characters carrying patterns talk, each as its own agent.

    With no options it samples a bundle of interacting patterns and runs offline on the bundled
    local model. The scenario and each turn are printed as they are produced (thoughts in
    magenta square brackets, actions in yellow parentheses, speech plain), and the episode is saved as JSON.

    --out is checked before any model call (a folder, a parent that is a file, a place that cannot
    be written, or an existing file without --force all fail at once); missing folders are created.
    If the write still fails at the end, the episode is saved to humanllm-rescue-<id>.json instead.
    """
    from humanllm.agents.director import TurnRules
    from humanllm.llm import ModelSettings
    from humanllm.simulation import RoleSpecs, SimulationConfig, check_checkpointing
    from humanllm.simulation import simulate as run_simulation

    if out is not None:
        check_output_file(out, force=force)
    else:
        check_output_dir(DEFAULT_FOLDER)
    low, high = parse_turns(turns)
    chosen_mode = parse_mode(mode)
    if interactive and chosen_mode == "author":
        raise typer.BadParameter("needs --mode agents", param_hint="'--interactive'")
    if checkpoint is not None:
        check_checkpointing()
    with options_config():
        config = SimulationConfig(
            patterns=[p for p in patterns.split(",") if p.strip()] if patterns else None,
            situation=situation,
            characters=characters,
            rules=TurnRules(min_turns=low, max_turns=high),
            mode=chosen_mode,
            seed=seed,
            guidance=guidance,
            variation=variation,
            models=RoleSpecs(writer=writer_model or model, character=character_model or model),
            settings=ModelSettings(
                temperature=temperature,
                max_tokens=max_tokens,
                threads=threads,
                base_url=base_url,
                timeout_s=timeout,
            ),
        )
    g = graph(patterns_dir)
    live = _LiveView(quiet=as_json)
    reader = (lambda prompt: typer.prompt(prompt)) if interactive else None
    spinner = console.status("writing the scenario...", spinner="dots")
    with spinner if not as_json and not interactive else contextlib.nullcontext():
        episode = run_simulation(config, g, progress=live, human=reader, checkpoint=checkpoint)
    path = out or _free_path(DEFAULT_FOLDER, episode.id)
    path = write_text_or_rescue(path, episode.model_dump_json(indent=2), rescue_id=episode.id, what="episode")
    save_resolved(ctx, beside(path))
    if as_json:
        print_json(episode)
        return
    console.print(render_summary(episode, str(path)))


def _free_path(folder: Path, episode_id: str) -> Path:
    """`folder/<id>.json`, or `<id>-2.json`, ... when that is taken: the default path never overwrites."""
    path = folder / f"{episode_id}.json"
    count = 2
    while path.exists():
        path = folder / f"{episode_id}-{count}.json"
        count += 1
    return path


class _LiveView:
    """Prints the scenario, then each turn, as the simulation produces them."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.colours: dict[str, str] = {}
        self.count = 0

    def __call__(self, kind: str, value: object) -> None:
        if self.quiet:
            if kind == "scenario":
                err_console.print("[dim]scenario written; the characters are talking...[/]")
            return
        if kind == "scenario" and isinstance(value, Scenario):
            self.colours = speaker_colours(value)
            console.print(render_scenario(value))
        elif kind == "turn" and isinstance(value, Turn):
            self.count += 1
            console.print(render_turn(value, self.colours.get(value.speaker, "white"), self.count))
