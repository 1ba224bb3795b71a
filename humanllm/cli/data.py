"""`humanllm data ...`: inspect, merge, split, import and export episode stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from humanllm.cli._endpoint_table import add_endpoint_rows
from humanllm.cli._options import ForceOption, JsonOption, PatternsDirOption, library
from humanllm.cli._output import console, err_console, fail, print_json
from humanllm.cli._validate import checked_each, one_of
from humanllm.core import check_output_dir, check_output_file
from humanllm.errors import ConfigError

if TYPE_CHECKING:
    from humanllm.core import Episode
    from humanllm.simulation import EpisodeStore, ImportReport, SplitPlan

app = typer.Typer(help="Inspect, merge, split, import and export episode stores.", no_args_is_help=True)

WaitOption = Annotated[
    bool, typer.Option("--wait", help="If another command writes the folder, wait instead of failing.")
]


def _store(path: Path) -> EpisodeStore:
    """A store opened for reading: nothing in it is written, locked or repaired."""
    from humanllm.simulation import EpisodeStore

    if not path.is_dir():
        fail(f"{path} is not a store folder (make one with `humanllm generate --out {path}`)")
    return EpisodeStore.open_for_reading(path)


@app.command("status")
def status(store_dir: Annotated[Path, typer.Argument(help="Store folder.")], as_json: JsonOption = False) -> None:
    """Done, failed (by root cause), remaining and tokens of a store; reads only, even a store being written."""
    store = _store(store_dir)
    manifest = store.read_manifest()
    requested = set(manifest.get("requested_ids", []))
    done = store.done
    failures = store.failure_groups()
    usage = store.total_usage()
    endpoints: dict[str, Any] = (manifest.get("last_run") or {}).get("endpoints") or {}
    data = {
        "done": len(done),
        "duplicates": store.duplicates,
        "failed": sum(group.episodes for group in failures),
        "failed_by_reason": {group.cause: group.episodes for group in failures},
        "failed_examples": {group.cause: group.example for group in failures},
        "remaining": len(requested - done) if requested else None,
        "untriggered_jobs": manifest.get("untriggered_jobs"),
        "tokens": usage.model_dump(),
        "endpoints": endpoints,
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
    if data["untriggered_jobs"]:
        table.add_row(
            "jobs in a situation none of their patterns is triggered by",
            f"{data['untriggered_jobs']} (generate with --situations triggered to avoid them)",
        )
    for group in failures:
        example = group.example if len(group.example) <= 160 else group.example[:159] + "…"
        table.add_row(f"  {escape(group.cause)}", f"{group.episodes}  [dim]e.g. {escape(example)}[/]")
    if store.duplicates:
        table.add_row(
            "duplicate lines (each id is read once)",
            f"{store.duplicates}: compact with `humanllm data merge {escape(str(store_dir))} --out NEW`",
        )
    table.add_row(
        "tokens", f"{usage.total_tokens} ({usage.prompt_tokens} prompt + {usage.completion_tokens} completion)"
    )
    add_endpoint_rows(table, endpoints)
    console.print(table)


@app.command("verify")
def verify(
    store_dir: Annotated[Path, typer.Argument(help="Store folder (episodes and judgements; subfolders too).")],
    as_json: JsonOption = False,
) -> None:
    """Recompute every episode and judgement id from the spec stored on it; exit 1 naming each mismatch.

    Reads only (no lock: a store being written can be verified). Records written before specs were
    stored are counted as legacy (unverifiable), not as mismatches.
    """
    from humanllm.evaluation import verify_store

    if not store_dir.is_dir():
        fail(f"{store_dir} is not a store folder")
    report = verify_store(store_dir)
    if as_json:
        print_json({**report.model_dump(), "ok": report.ok})
    else:
        for mismatch in report.mismatches:
            err_console.print(f"mismatch: {escape(mismatch.line())}", soft_wrap=True)
        console.print(report.summary(), soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("merge")
def merge(
    stores: Annotated[list[Path], typer.Argument(help="Store folders (e.g. one per shard).")],
    out: Annotated[Path, typer.Option("--out", help="Merged store folder.")],
    wait: WaitOption = False,
) -> None:
    """Merge stores into one, keeping each episode id once (written in one go, fsynced once)."""
    from humanllm.simulation import EpisodeStore, refresh_card

    sources = [_store(path) for path in stores]
    seen = 0

    def episodes() -> Iterator[Episode]:
        nonlocal seen
        for source in sources:
            for episode in source.iter_episodes():
                seen += 1
                yield episode

    with EpisodeStore.open_for_writing(out, shard="merged", wait=wait) as target:
        added = target.add_episodes(episodes())
        refresh_card(out)
    console.print(
        f"merged {seen} episodes from {len(stores)} store(s): {added} new, {seen - added} duplicates -> {out}"
    )


@app.command("split")
def split(
    store_dir: Annotated[Path, typer.Argument(help="Store folder.")],
    out: Annotated[Path | None, typer.Option(help="Where to write the splits (default STORE/splits).")] = None,
    ood: Annotated[
        str | None, typer.Option(help="Comma-separated OOD patterns (default: 4+4 least frequent, see below).")
    ] = None,
    new_ood: Annotated[
        bool, typer.Option("--new-ood", help="Choose the OOD patterns again instead of keeping those of --out's plan.")
    ] = False,
    eval_size: Annotated[int, typer.Option(min=1, help="Episodes sampled for id_eval and ood_eval.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed for OOD ties and eval sampling.")] = 42,
    patterns_dir: PatternsDirOption = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Split into train / id_eval / ood_eval / mixed_eval by out-of-domain patterns (the store is only read).

    OOD: 4 social-cognitive patterns and 4 traits from 4 distinct Big-Five dimensions, the least
    frequent (unused first, seeded ties). Splitting the same folder again keeps its OOD patterns
    (--new-ood chooses again), so OOD-only scenarios from `generate --ood-topup` fill ood_eval.
    A split folder inside the store (the default) marks the store as split: `export-sft STORE`
    then leaves the eval episodes out.
    """
    from humanllm.simulation import StoreLock, plan_warnings, read_plan, split_store

    target = out or store_dir / "splits"
    source = _store(store_dir)
    with StoreLock(target, wait=wait):  # the split folder is where `eval score` writes its judgements
        kept = None if ood or new_ood else read_plan(target)
        chosen = [p for p in ood.split(",") if p.strip()] if ood else None
        plan = split_store(
            source,
            library(patterns_dir),
            target,
            ood_patterns=kept.ood_patterns if kept else chosen,
            eval_size=eval_size,
            seed=seed,
        )
    warnings = plan_warnings(plan, store_dir, target)
    if as_json:
        print_json({**plan.model_dump(mode="json", exclude={"eval_ids"}), "warnings": warnings})
        return
    _print_split(plan, target, kept=kept is not None)
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def _print_split(plan: SplitPlan, target: Path, *, kept: bool) -> None:
    from humanllm.simulation import SPLITS

    how = " (kept from the previous split; --new-ood chooses again)" if kept else ""
    console.print(f"OOD patterns{how}: {', '.join(plan.ood_patterns)}")
    table = Table(title=f"splits in {target}")
    columns = ["episodes", "patterns", "families", "situations", "mean_turns", "mean_characters"]
    table.add_column("split")
    for column in columns:
        table.add_column(column, justify="right")
    for name in SPLITS:
        table.add_row(name, *(f"{plan.stats[name][c]:g}" for c in columns))
    console.print(table)


_NO_EPISODES = "generate some with `humanllm generate --out STORE` or import them with `humanllm data import`"
_SHOWN = 20
"""Lines of each kind (renamed, skipped) the import prints; --json has them all."""


def _print_some(rows: list[str], what: str) -> None:
    for row in rows[:_SHOWN]:
        console.print(f"  {row}", soft_wrap=True, markup=False)
    if len(rows) > _SHOWN:
        console.print(f"  ... and {len(rows) - _SHOWN} more {what} (see --json)")


def _print_skipped(report: ImportReport) -> None:
    _print_some([f"skipped {where}: {why}" for where, why in report.skipped.items()], "skipped")


@app.command("import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(help="The authors' released split files (JSON array or JSONL), or their split folder."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Store folder to write.")],
    as_json: JsonOption = False,
) -> None:
    """Read the authors' released scenario files into a store (appending to it when it exists).

    A folder stands for its split files (train.json, id_eval.json, ood_eval.json, mixed_eval.json);
    each episode keeps its split label (from the file name, or a record's `split` field). Decorated
    names are read as one canonical name (the mapping is printed). A record that cannot be read is
    skipped and named with its index and why. Exit 1 when a file is unreadable, not UTF-8, not JSON,
    holds a record that is not an object or holds no records, and when no record at all could be
    imported.
    """
    from humanllm.simulation import EpisodeStore, import_released, refresh_card

    check_output_dir(out)  # appending to a store is not overwriting: no --force
    episodes, report = import_released(files)
    if not episodes:
        _print_skipped(report)
        fail(
            f"none of the {report.read} record(s) could be imported (reasons above); give the authors' released "
            "split files (records with scenario.charactersProfiles and conversation)"
        )
    with EpisodeStore.open_for_writing(out, shard="imported") as store:
        added = store.add_episodes(episodes)
        refresh_card(out)
    if as_json:
        print_json({**report.model_dump(), "written": added})
        return
    splits = ", ".join(f"{name} {count}" for name, count in report.splits.items())
    console.print(
        f"read {report.read} records, imported {report.imported} ({added} new) into {out}"
        + (f"; splits: {splits}" if splits else ""),
        soft_wrap=True,
        markup=False,
    )
    if report.renamed:
        console.print(f"{len(report.renamed)} name(s) read as one canonical name:")
        _print_some([f"{written!r} -> {name!r}" for written, name in report.renamed.items()], "names")
    if report.unmatched:
        console.print(f"{len(report.unmatched)} record(s) name someone outside their cast (kept as written):")
        _print_some([f"{where}: {'; '.join(names)}" for where, names in report.unmatched.items()], "records")
    if report.unknown_fields:
        fields = ", ".join(f"{name} ({count})" for name, count in report.unknown_fields.items())
        console.print(f"fields outside the released schema, not imported: {fields}", soft_wrap=True, markup=False)
    _print_skipped(report)


@app.command("export")
def export(
    source: Annotated[Path, typer.Argument(help="Store folder, or a split folder from `data split`.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="released: folder for OUT/<split>.json when episodes carry splits, else one JSON file. "
            "parquet: folder for OUT/<split>.parquet and its dataset card.",
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            callback=one_of("released", "parquet"),
            help="released: the authors' split-file schema; parquet: one Parquet file per split (our schema).",
        ),
    ] = "released",
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write episodes as the authors' released split files (JSON arrays) or as Parquet, one file per split.

    released: episodes with split labels (imported split files, or a split folder) go to
    OUT/train.json, OUT/id_eval.json, ... (OUT/unsplit.json for those without); otherwise OUT is one
    array file. parquet: a split folder's splits with rows go to OUT/<split>.parquet, a store's
    episodes to OUT/train.parquet, with a dataset card (OUT/README.md), so `datasets.load_dataset(OUT)`
    reads them. An existing output file needs --force; an empty source is an error.
    """
    from humanllm.simulation import ParquetReport, export_parquet, export_released

    if not source.is_dir():
        fail(f"{source} is not a store folder (make one with `humanllm generate --out {source}`)")
    report = export_parquet(source, out, force=force) if fmt == "parquet" else export_released(source, out, force=force)
    if as_json:
        print_json(report)
        return
    unit = "rows" if fmt == "parquet" else "records"
    for path, count in report.files.items():
        console.print(f"wrote {count} {unit} to {path}", soft_wrap=True, markup=False)
    if isinstance(report, ParquetReport):
        console.print(f"dataset card: {report.card}", soft_wrap=True, markup=False)


LicenseOption = Annotated[
    str | None,
    typer.Option(
        "--license",
        help="Hub licence id for the card (e.g. cc-by-4.0); default: the card's, else `other`.",
        show_default=False,
    ),
]


@app.command("card")
def card(
    folder: Annotated[Path, typer.Argument(help="Store, split folder or Parquet export.")],
    license: LicenseOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a README.md that humanllm did not write.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write FOLDER/README.md: a dataset card whose `configs` make `datasets.load_dataset(FOLDER)` read the splits.

    Stores and split folders get theirs whenever they are written; this writes it again (e.g. after
    a split inside the store, or to set --license). The data files of each config exclude the
    manifest, the split plan, locks and judgements; empty splits are left out.
    """
    from humanllm.simulation import card_data, write_card

    path = write_card(folder, license=license, force=force)
    data = card_data(folder)
    if as_json:
        print_json({"card": str(path), **data.model_dump()})
        return
    for config in data.configs:
        splits = ", ".join(f"{split.name} {split.rows}" for split in config.splits)
        console.print(f"config {config.name}: {splits}", soft_wrap=True, markup=False)
    console.print(f"wrote {path}", soft_wrap=True, markup=False)


@app.command("push")
def push(
    folder: Annotated[Path, typer.Argument(help="Store, split folder or Parquet export.")],
    repo_id: Annotated[str, typer.Argument(help="Dataset repo on the Hub, OWNER/NAME (created if missing).")],
    private: Annotated[
        bool, typer.Option("--private", help="Create the repo private (an existing repo keeps its setting).")
    ] = False,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            help="Environment variable holding the Hub token (default: HF_TOKEN, then `hf auth login`).",
            show_default=False,
        ),
    ] = None,
    license: LicenseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish FOLDER to the Hugging Face Hub as a dataset: its card (written first) and the files it names.

    Uploads the data files of the card's configs, README.md, manifest.json and splits.json; never
    locks, torn tails or other files. The token is never printed. Exit 1 with one line when there is
    no token, HF_HUB_OFFLINE is set, or the upload fails.
    """
    from humanllm.simulation import push_folder

    if not folder.is_dir():
        fail(f"{folder} is not a folder: give a store, a split folder or a Parquet export")
    report = push_folder(folder, repo_id, private=private, token_env=token_env, license=license)
    if as_json:
        print_json(report)
        return
    console.print(f"pushed {len(report.files)} files from {folder} to {report.url}", soft_wrap=True, markup=False)


def _split_name(value: str | None) -> str | None:
    from humanllm.simulation import SPLITS

    return None if value is None else one_of(*SPLITS)(value)


@app.command("export-sft")
def export_sft_command(
    store_dir: Annotated[
        Path, typer.Argument(help="Split folder (its train split) or store (without the eval episodes of its split).")
    ],
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (dataset_info.json goes beside it).")],
    split_name: Annotated[
        str | None,
        typer.Option("--split", callback=_split_name, help="Split folder: the split to export (default train)."),
    ] = None,
    include_eval: Annotated[
        bool,
        typer.Option("--include-eval", help="Store that has been split: keep its eval episodes (leaks them into SFT)."),
    ] = False,
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
    dataset_name: Annotated[
        str | None,
        typer.Option(
            help="Name of the entry merged into the dataset_info.json beside --out (LLaMA-Factory). "
            "Default: the --out file name without its extension.",
            show_default=False,
        ),
    ] = None,
    force: ForceOption = False,
    patterns_dir: PatternsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """One SFT record per character per episode: others' thoughts removed, ending on the target's turn.

    A split folder exports its train split (--split NAME another). A store whose split folder is
    inside it (`data split STORE`) exports all but the eval episodes of that split and those holding
    its OOD patterns, and warns how many it left out (--include-eval keeps them). Nothing to export
    is an error. Streams (memory stays flat with the store's size). The entry --dataset-name is
    merged into the dataset_info.json beside --out, keeping every other entry; an existing --out, or
    an entry of that name for another file, needs --force.
    """
    from humanllm.simulation import training_set
    from humanllm.training import export_sft

    check_output_file(out, force=force)
    source = training_set(store_dir, split=split_name, include_eval=include_eval)
    report = export_sft(
        source.episodes(),
        out,
        fmt="sharegpt" if fmt == "sharegpt" else "messages",
        library=library(patterns_dir) if keep_guidance else None,
        keep_guidance=keep_guidance,
        max_chars=max_chars,
        dedup=dedup,
        seed=seed,
        name=dataset_name or out.stem,
        force=force,
    )
    warning = source.warning()
    if as_json:
        eval_episodes = dict(source.eval_episodes)
        print_json({**report.model_dump(), "split": source.split, "eval_episodes": eval_episodes, "warning": warning})
        return
    if warning:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    what = f"the {source.split} split of " if source.split else ""
    console.print(
        f"{report.records} records from {report.episodes} episodes of {what}{store_dir} ({report.duplicates} "
        f"duplicates dropped) -> {out}\n"
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
            "--source",
            callback=checked_each(_source),
            help="NAME=PATH:WEIGHT, repeatable; PATH is a file, a folder of .parquet/.jsonl/.json shards or a quoted "
            "glob (e.g. humanllm=sft.jsonl:4 'openthoughts=ot/data/*.parquet:4').",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Mixed JSONL (chat messages).")],
    total: Annotated[
        int | None, typer.Option(min=1, help="Records in the mix (default: the most all sources can fill).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and order.")] = 0,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Mix SFT sources in exact ratios (largest remainder); ShareGPT and messages inputs are normalised to messages.

    A source may be several files (a folder or a glob: their rows in file-name order). An existing
    --out needs --force; a source with no rows is an error.
    """
    from humanllm.training import mix, parse_source

    check_output_file(out, force=force)
    report = mix([parse_source(s) for s in source], out, total=total, seed=seed)
    if as_json:
        print_json(report)
        return
    table = Table(title=f"{report.total} records -> {out}")
    for column in ("source", "taken", "available", "files"):
        table.add_column(column, justify="right" if column != "source" else "left")
    for name, count in report.counts.items():
        table.add_row(name, str(count), str(report.available[name]), str(len(report.files[name])))
    console.print(table)
