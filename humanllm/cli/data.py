"""`humanllm data ...`: inspect, merge, split, import and export episode stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from humanllm.cli._options import JsonOption, PatternsDirOption, library
from humanllm.cli._output import console, fail, print_json
from humanllm.cli._validate import checked_each, one_of
from humanllm.errors import ConfigError
from humanllm.simulation._released import episode_to_released, import_released
from humanllm.simulation._splits import SPLITS, split_store
from humanllm.simulation._store import EpisodeStore

app = typer.Typer(help="Inspect, merge, split, import and export episode stores.", no_args_is_help=True)


def _store(path: Path) -> EpisodeStore:
    if not path.is_dir():
        fail(f"{path} is not a store folder (make one with `humanllm generate --out {path}`)")
    return EpisodeStore(path)


@app.command("status")
def status(store_dir: Annotated[Path, typer.Argument(help="Store folder.")], as_json: JsonOption = False) -> None:
    """Done, failed (by reason), remaining and tokens of a store."""
    store = _store(store_dir)
    manifest = store.read_manifest()
    requested = set(manifest.get("requested_ids", []))
    done = store.done
    failures = store.open_failures()
    usage = store.total_usage()
    data = {
        "done": len(done),
        "failed": sum(failures.values()),
        "failed_by_reason": dict(failures.most_common()),
        "remaining": len(requested - done) if requested else None,
        "tokens": usage.model_dump(),
    }
    if as_json:
        print_json(data)
        return
    table = Table(title=str(store_dir))
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    table.add_row("done", str(data["done"]))
    table.add_row("remaining", "-" if data["remaining"] is None else str(data["remaining"]))
    table.add_row("failed (not yet retried successfully)", str(data["failed"]))
    for reason, count in failures.most_common():
        table.add_row(f"  {reason}", str(count))
    table.add_row(
        "tokens", f"{usage.total_tokens} ({usage.prompt_tokens} prompt + {usage.completion_tokens} completion)"
    )
    console.print(table)


@app.command("merge")
def merge(
    stores: Annotated[list[Path], typer.Argument(help="Store folders (e.g. one per shard).")],
    out: Annotated[Path, typer.Option("--out", help="Merged store folder.")],
) -> None:
    """Merge stores into one, keeping each episode id once."""
    target = EpisodeStore(out, shard="merged")
    added = seen = 0
    for path in stores:
        for episode in _store(path).iter_episodes():
            seen += 1
            added += target.add_episode(episode)
    console.print(
        f"merged {seen} episodes from {len(stores)} store(s): {added} new, {seen - added} duplicates -> {out}"
    )


@app.command("split")
def split(
    store_dir: Annotated[Path, typer.Argument(help="Store folder.")],
    out: Annotated[Path | None, typer.Option(help="Where to write the splits (default STORE/splits).")] = None,
    ood: Annotated[str | None, typer.Option(help="Comma-separated OOD patterns (default: 4+4 least frequent).")] = None,
    eval_size: Annotated[int, typer.Option(min=1, help="Episodes sampled for id_eval and ood_eval.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed for OOD ties and eval sampling.")] = 42,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Split into train / id_eval / ood_eval / mixed_eval by out-of-domain patterns."""
    target = out or store_dir / "splits"
    plan = split_store(
        _store(store_dir),
        library(patterns_dir),
        target,
        ood_patterns=[p for p in ood.split(",") if p.strip()] if ood else None,
        eval_size=eval_size,
        seed=seed,
    )
    if as_json:
        print_json(plan)
        return
    console.print(f"OOD patterns: {', '.join(plan.ood_patterns)}")
    table = Table(title=f"splits in {target}")
    columns = ["episodes", "patterns", "families", "situations", "mean_turns", "mean_characters"]
    table.add_column("split")
    for column in columns:
        table.add_column(column, justify="right")
    for name in SPLITS:
        table.add_row(name, *(f"{plan.stats[name][c]:g}" for c in columns))
    console.print(table)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="The authors' released split files (JSON or JSONL).")],
    out: Annotated[Path, typer.Option("--out", help="Store folder to write.")],
    as_json: JsonOption = False,
) -> None:
    """Read the authors' released scenario files into a store."""
    episodes, report = import_released(files)
    store = EpisodeStore(out, shard="imported")
    added = sum(store.add_episode(e) for e in episodes)
    if as_json:
        print_json({**report.model_dump(), "written": added})
        return
    console.print(f"read {report.read} records, imported {report.imported} ({added} new) into {out}")
    for label, why in report.skipped.items():
        console.print(f"  [yellow]skipped[/] {label}: {why}", soft_wrap=True)


@app.command("export")
def export(
    store_dir: Annotated[Path, typer.Argument(help="Store folder.")],
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    fmt: Annotated[
        str, typer.Option("--format", callback=one_of("released"), help="released: the authors' split-file schema.")
    ] = "released",
) -> None:
    """Write a store in another schema."""
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for episode in _store(store_dir).iter_episodes():
            handle.write(json.dumps(episode_to_released(episode), ensure_ascii=False) + "\n")
            count += 1
    console.print(f"wrote {count} records to {out}")


@app.command("export-sft")
def export_sft_command(
    store_dir: Annotated[Path, typer.Argument(help="Store folder (or a split folder's parent).")],
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (dataset_info.json goes beside it).")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            callback=one_of("sharegpt", "messages"),
            help="sharegpt (the released shape) or messages (OpenAI/TRL).",
        ),
    ] = "sharegpt",
    keep_guidance: Annotated[
        bool, typer.Option("--keep-guidance", help="Keep the private pattern guidance in the system prompt.")
    ] = False,
    max_chars: Annotated[
        int | None,
        typer.Option(min=1, help="Context limit in characters; longer conversations are split into windows."),
    ] = None,
    dedup: Annotated[bool, typer.Option(help="Drop identical records.")] = True,
    seed: Annotated[int, typer.Option(help="Seed for the record order.")] = 0,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """One SFT record per character per episode: others' thoughts removed, ending on the target's turn."""
    from humanllm.training import export_sft

    report = export_sft(
        _store(store_dir).iter_episodes(),
        out,
        fmt="sharegpt" if fmt == "sharegpt" else "messages",
        library=library(patterns_dir) if keep_guidance else None,
        keep_guidance=keep_guidance,
        max_chars=max_chars,
        dedup=dedup,
        seed=seed,
    )
    if as_json:
        print_json(report)
        return
    console.print(
        f"{report.records} records from {report.episodes} episodes ({report.duplicates} duplicates dropped) -> {out}\n"
        f"LLaMA-Factory entry: {report.dataset_info}"
    )


def _source(text: str) -> object:
    from humanllm.training import parse_source

    source = parse_source(text)
    if source.weight <= 0:
        raise ConfigError(f"the weight of {source.name!r} must be above 0, not {source.weight:g}")
    return source


@app.command("mix")
def mix_command(
    source: Annotated[
        list[str],
        typer.Option(
            "--source", callback=checked_each(_source), help="NAME=PATH:WEIGHT, repeatable (e.g. humanllm=sft.jsonl:4)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Mixed JSONL (chat messages).")],
    total: Annotated[
        int | None, typer.Option(min=1, help="Records in the mix (default: the most all sources can fill).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and order.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Mix SFT sources in exact ratios; ShareGPT and messages inputs are normalised to messages."""
    from humanllm.training import mix, parse_source

    report = mix([parse_source(s) for s in source], out, total=total, seed=seed)
    if as_json:
        print_json(report)
        return
    table = Table(title=f"{report.total} records -> {out}")
    for column in ("source", "taken", "available"):
        table.add_column(column, justify="right" if column != "source" else "left")
    for name, count in report.counts.items():
        table.add_row(name, str(count), str(report.available[name]))
    console.print(table)
