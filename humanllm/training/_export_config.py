"""A recipe as a config file for other trainers: `trl sft --config FILE` and `llamafactory-cli train FILE`.

A recipe holds our own keys (name, description, gpus, global_batch, a nested `sft` and `lora`), which
TRL's parser passes on to `accelerate launch` as unknown arguments ("unrecognized arguments: --name").
The exported file holds only the trainer's own argument names, with our masking chat template and the
exported data file as absolute paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml

from humanllm.core import check_output_file, read_json_file, write_text_atomic
from humanllm.errors import ConfigError, DataError
from humanllm.training._bundled import resolve_model_path
from humanllm.training._recipe import Recipe, resolve_builtin_paths
from humanllm.training._templates import NAMED, TEMPLATES

TrainerFormat = Literal["trl", "llamafactory"]
FORMATS: tuple[TrainerFormat, ...] = ("trl", "llamafactory")

_TRL_LORA = {"r": "lora_r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout", "task_type": "lora_task_type"}
"""peft.LoraConfig field -> trl.ModelConfig field (target_modules is handled on its own)."""

LLAMAFACTORY_TRAINING_ARGS = frozenset(
    {
        "learning_rate",
        "lr_scheduler_type",
        "warmup_ratio",
        "warmup_steps",
        "num_train_epochs",
        "max_steps",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "bf16",
        "fp16",
        "optim",
        "weight_decay",
        "max_grad_norm",
        "logging_steps",
        "save_strategy",
        "save_steps",
        "save_total_limit",
        "report_to",
        "seed",
        "deepspeed",
        "use_cpu",
        "ddp_timeout",
    }
)
"""transformers.TrainingArguments fields a recipe may carry that LLaMA-Factory (transformers <= 4.57) takes as is."""

_LLAMAFACTORY_TEMPLATES = {"qwen3": "qwen3"}
"""A model id fragment (lower case) -> LLaMA-Factory's template name; others need `template=`."""


def chat_template_path(recipe: Recipe) -> str | None:
    """The absolute path of the recipe's masking template file ({% generation %} markers), if it names one."""
    if recipe.chat_template is None:
        return None
    path = TEMPLATES / NAMED[recipe.chat_template] if recipe.chat_template in NAMED else Path(recipe.chat_template)
    if not path.exists():
        raise ConfigError(f"chat template {recipe.chat_template!r}: use one of {sorted(NAMED)} or a .jinja file path")
    return str(path.resolve())


def trl_config(recipe: Recipe, data: Path, output_dir: str) -> dict[str, Any]:
    """The fields of trl's ScriptArguments, SFTConfig, ModelConfig and DatasetMixtureConfig for this recipe."""
    _check_messages(data)
    config: dict[str, Any] = {"model_name_or_path": resolve_model_path(recipe.model), "output_dir": output_dir}
    config.update(resolve_builtin_paths(dict(recipe.sft)))
    template = chat_template_path(recipe)
    if template is not None:
        config["chat_template_path"] = template
    if recipe.lora:
        lora = dict(recipe.lora)
        config["use_peft"] = True
        if "target_modules" in lora:
            config["lora_target_modules"] = list(lora.pop("target_modules"))
        unknown = sorted(set(lora) - set(_TRL_LORA))
        if unknown:
            raise ConfigError(f"trl's ModelConfig has no field for lora.{', lora.'.join(unknown)}: drop them")
        config.update({_TRL_LORA[key]: value for key, value in lora.items()})
    config["datasets"] = [{"path": _loader(data), "data_files": str(data.resolve())}]
    return config


def llamafactory_config(
    recipe: Recipe, data: Path, output_dir: str, template: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """LLaMA-Factory's arguments for this recipe, and the recipe's `sft` keys it has no use for."""
    chosen = template or next((t for key, t in _LLAMAFACTORY_TEMPLATES.items() if key in recipe.model.lower()), None)
    if chosen is None:
        raise ConfigError(
            f"LLaMA-Factory needs its template name for {recipe.model}: pass --template NAME (e.g. qwen3, llama3)"
        )
    sft = resolve_builtin_paths(dict(recipe.sft))
    config: dict[str, Any] = {
        "model_name_or_path": resolve_model_path(recipe.model),
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "lora" if recipe.lora else "full",
        "template": chosen,
        "dataset": _dataset_name(data),
        "dataset_dir": str(data.resolve().parent),
        "train_on_prompt": False,  # loss on the assistant turns only: what assistant_only_loss does in TRL
        "output_dir": output_dir,
    }
    if "max_length" in sft:
        config["cutoff_len"] = sft.pop("max_length")
    warmup = sft.get("warmup_steps")
    if isinstance(warmup, float) and warmup < 1:  # transformers 5 reads a float below 1 as a ratio; 4.x has a field
        config["warmup_ratio"] = sft.pop("warmup_steps")
    config.update({key: value for key, value in sft.items() if key in LLAMAFACTORY_TRAINING_ARGS})
    dropped = sorted(key for key in sft if key not in LLAMAFACTORY_TRAINING_ARGS)
    if recipe.lora:
        lora = recipe.lora
        config["lora_rank"] = lora.get("r", 8)
        for key in ("lora_alpha", "lora_dropout"):
            if key in lora:
                config[key] = lora[key]
        if "target_modules" in lora:
            config["lora_target"] = ",".join(lora["target_modules"])
    return config, dropped


def export_config(
    recipe: Recipe,
    fmt: TrainerFormat,
    data: Path,
    out: Path,
    *,
    output_dir: str | None = None,
    template: str | None = None,
    force: bool = False,
) -> Path:
    """Write the recipe as `fmt`'s config file to `out` (an existing one needs `force`)."""
    check_output_file(out, force=force)
    if not data.is_file():
        raise DataError(f"{data} is not a file: export the SFT data first with `humanllm data export-sft`")
    where = output_dir or f"ckpt/{recipe.name}"
    if fmt == "trl":
        config = trl_config(recipe, data, where)
        header = [f"Run: trl sft --config {out.name}", "(multi-GPU: accelerate launch ... trl sft --config ...)"]
    else:
        config, dropped = llamafactory_config(recipe, data, where, template)
        header = [f"Run: llamafactory-cli train {out.name}"]
        if dropped:
            header.append(f"Not LLaMA-Factory arguments, left out: {', '.join(dropped)}")
    lines = [f"# recipe {recipe.name} exported by `humanllm train export-config --format {fmt}`.", *header]
    if recipe.global_batch:
        lines.append(f"Sized for {recipe.batch_formula()}.")
    text = "\n# ".join(lines) + "\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    write_text_atomic(out, text)
    return out


def _loader(data: Path) -> str:
    suffix = data.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".json", ".jsonl"):
        return "json"
    raise DataError(f"{data}: TRL reads .jsonl, .json or .parquet SFT files")


def _check_messages(data: Path) -> None:
    """TRL reads `messages` rows; ShareGPT rows (`from`/`value`, human/gpt) would lose their roles."""
    if data.suffix.lower() != ".jsonl":
        return
    with data.open(encoding="utf-8") as handle:
        first = handle.readline()
    try:
        row = json.loads(first) if first.strip() else {}
    except json.JSONDecodeError as exc:
        raise DataError(f"{data}: the first line is not JSON ({exc.msg})") from exc
    if isinstance(row, dict) and "conversations" in row:
        raise DataError(
            f"{data} is ShareGPT (human/gpt turns), which TRL would train on without roles: export it for TRL "
            "with `humanllm data export-sft ... --format messages`"
        )


def _dataset_name(data: Path) -> str:
    """The entry of `dataset_info.json` beside `data` (written by `data export-sft`) that reads it."""
    info_path = data.resolve().parent / "dataset_info.json"
    if not info_path.exists():
        raise DataError(f"no {info_path}: export the data with `humanllm data export-sft` (it writes one)")
    info = read_json_file(info_path, what="LLaMA-Factory dataset list")
    if not isinstance(info, dict):
        raise DataError(f"{info_path} is not an object of datasets: fix it or move it away")
    names = [n for n, e in info.items() if isinstance(e, dict) and e.get("file_name") == data.name]
    if not names:
        raise DataError(f"{info_path} has no dataset for {data.name}: export it with `humanllm data export-sft`")
    return str(names[0])


__all__ = ["FORMATS", "TrainerFormat", "chat_template_path", "export_config", "llamafactory_config", "trl_config"]
