"""`humanllm train ...`: fine-tune with TRL on a shipped or custom recipe; check loss masks; merge LoRA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from humanllm.cli._options import ForceOption
from humanllm.cli._output import console, fail, print_json
from humanllm.cli._validate import one_of
from humanllm.core import check_output_dir, read_text_file
from humanllm.errors import ConfigError

app = typer.Typer(
    help="Fine-tune a model on exported SFT data (TRL SFTTrainer; LoRA via peft), check loss masks, merge LoRA.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def run(
    ctx: typer.Context,
    recipe: Annotated[str | None, typer.Option(help="A shipped recipe (see `humanllm train recipes`).")] = None,
    config: Annotated[Path | None, typer.Option(help="A recipe YAML file of your own.")] = None,
    data: Annotated[Path | None, typer.Option(help="SFT data (ShareGPT or messages; json, jsonl, parquet).")] = None,
    output_dir: Annotated[Path | None, typer.Option(help="Where the checkpoint and its resolved config go.")] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many optimizer steps.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override: an SFTConfig field, lora.<field>, model or chat_template (key=value)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Train into an --output-dir that already holds files (they are replaced).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train: `humanllm train --recipe smollm2-cpu --data sft.jsonl --output-dir ckpt [--set learning_rate=1e-4]`.

    Multi-GPU: `accelerate launch --config_file CONFIG -m humanllm train --recipe qwen3-8b-full ...`
    (configs ship in humanllm/training/configs).

    --output-dir is checked first (a file, a place that cannot be written, or a folder that already
    holds files without --force fail at once), then the recipe and the data, before the model loads.
    """
    if ctx.invoked_subcommand is not None:
        return
    if (recipe is None) == (config is None):
        if recipe is None and data is None:
            console.print(ctx.get_help())
            raise typer.Exit(0)
        raise ConfigError("give exactly one of --recipe NAME or --config RECIPE.yaml")
    if data is None or output_dir is None:
        raise ConfigError("training needs --data FILE and --output-dir DIR")
    from humanllm.training import apply_overrides, load_recipe, train

    check_output_dir(output_dir, force=force, option="--output-dir")
    chosen = apply_overrides(load_recipe(str(recipe or config)), set_ or [])
    report = train(chosen, data, output_dir, max_steps=max_steps)
    if as_json:
        print_json(report)
        return
    console.print(
        f"trained {report.steps} steps in {report.seconds:.0f}s ({report.seconds_per_step:.2f} s/step); "
        f"loss {report.first_loss} -> {report.last_loss}; saved to {report.output_dir}"
    )


@app.command("export-config")
def export_config_command(
    recipe: Annotated[str, typer.Argument(help="A shipped recipe name or a recipe YAML file.", show_default=False)],
    format_: Annotated[
        str, typer.Option("--format", callback=one_of("trl", "llamafactory"), help="trl or llamafactory.")
    ],
    data: Annotated[
        Path, typer.Option(help="The SFT file from `data export-sft` (messages format for trl).", dir_okay=False)
    ],
    out: Annotated[Path | None, typer.Option(help="Config file to write (default <recipe>-<format>.yaml).")] = None,
    output_dir: Annotated[
        str | None, typer.Option(help="Where the trainer saves the checkpoint (default ckpt/<recipe>).")
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="llamafactory: its template name (default from the model, e.g. qwen3).")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Write a recipe as a config that `trl sft --config FILE` or `llamafactory-cli train FILE` takes unchanged.

    The file names our masking chat template (trl: chat_template_path) and the data file by absolute
    path; LLaMA-Factory reads the data through the dataset_info.json that `data export-sft` writes beside it.
    """
    from humanllm.training import TrainerFormat, export_config, load_recipe

    chosen = load_recipe(recipe)
    fmt: TrainerFormat = "llamafactory" if format_ == "llamafactory" else "trl"
    path = export_config(
        chosen,
        fmt,
        data,
        out or Path(f"{chosen.name}-{fmt}.yaml"),
        output_dir=output_dir,
        template=template,
        force=force,
    )
    run = f"trl sft --config {path}" if fmt == "trl" else f"llamafactory-cli train {path}"
    console.print(f"wrote {path}; train with: {run}", soft_wrap=True)


@app.command("recipes")
def recipes(as_json: Annotated[bool, typer.Option("--json", help="Print the recipes as JSON.")] = False) -> None:
    """List the shipped recipes with their global batch (per device x accumulation x GPUs)."""
    from humanllm.training import load_recipe, recipe_names

    shipped = [load_recipe(name) for name in recipe_names()]
    if as_json:
        print_json([{**r.model_dump(), "batch": r.batch_formula()} for r in shipped])
        return
    table = Table(title="recipes")
    table.add_column("name")
    table.add_column("model")
    table.add_column("global batch", overflow="fold")
    table.add_column("description", overflow="fold")
    for item in shipped:
        table.add_row(item.name, item.model, item.batch_formula(), item.description)
    console.print(table)


@app.command("check-masks")
def check_masks_command(
    data: Annotated[Path, typer.Argument(help="SFT file (ShareGPT or messages).")],
    model: Annotated[str, typer.Option("--model", help="Tokenizer: a model folder, hub id, or bundled:smollm2.")],
    template: Annotated[
        str | None, typer.Option(help="'chatml' or a .jinja file with {% generation %} markers.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Check only the first N records.")] = None,
    show: Annotated[int, typer.Option(min=0, help="Record to print, coloured by mask.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify that only the target character's turns carry loss; exit 1 if anything else does."""
    from transformers import AutoTokenizer

    from humanllm.training import (
        NAMED_TEMPLATES,
        check_masks,
        masking_template,
        read_rows,
        resolve_model_path,
        to_messages,
        tokenize_with_mask,
    )

    rows = [to_messages(r, f"{data}[{i}]") for i, r in enumerate(read_rows(data))]  # before the tokenizer loads
    if template and template not in NAMED_TEMPLATES:
        read_text_file(Path(template), what="chat template")
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(model))
    except OSError as exc:
        fail(
            f"cannot load the tokenizer of {model!r} ({str(exc).splitlines()[0]}): give a model folder, a hub id "
            "that is cached or reachable, or bundled:smollm2"
        )
    chosen = masking_template(tokenizer, template)
    report = check_masks(tokenizer, rows, chosen, limit)
    if as_json:
        print_json({**report.model_dump(), "ok": report.ok})
    else:
        if rows:
            ids, mask = tokenize_with_mask(tokenizer, rows[min(show, len(rows) - 1)]["messages"], chosen)
            sample = Text()
            for token, bit in zip(ids, mask, strict=True):
                sample.append(str(tokenizer.decode([token])), style="bold green" if bit else "dim")
            console.print(f"record {show} (green = carries loss, dim = context):")
            console.print(sample)
        share = report.trained_tokens / max(1, report.total_tokens)
        console.print(
            f"{report.records} records, {report.assistant_turns} target turns, "
            f"{report.trained_tokens}/{report.total_tokens} tokens carry loss ({share:.0%})"
        )
    if not report.ok:
        for problem in report.problems[:20]:
            console.print(f"[red]✗[/] record {problem.record}: {problem.problem}")
        fail(f"{len(report.problems)} masking problem(s): do not train on this setup")
    if not as_json:
        console.print("[green]✓[/] only target turns carry loss")


@app.command("merge")
def merge(
    adapter: Annotated[Path, typer.Argument(help="A LoRA output folder from `humanllm train`.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the merged model (use as --model hf:<out>).")],
    force: ForceOption = False,
) -> None:
    """Fold a LoRA adapter into its base model (an --out folder that already holds files needs --force)."""
    from humanllm.training import merge_lora

    if not (adapter / "adapter_config.json").exists():
        fail(f"{adapter} has no adapter_config.json: it is not a LoRA output folder")
    check_output_dir(out, force=force)
    merge_lora(adapter, out)
    console.print(f"merged into {out}; run it with --model hf:{out}")
