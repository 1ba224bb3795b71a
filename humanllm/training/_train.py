"""The TRL SFT entry point: recipe + data -> a checkpoint with its resolved config beside it."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from humanllm.core import check_output_dir
from humanllm.errors import DataError
from humanllm.training._bundled import resolve_model_path
from humanllm.training._mix import read_rows, to_messages
from humanllm.training._recipe import Recipe, resolve_builtin_paths
from humanllm.training._templates import masking_template

logger = logging.getLogger(__name__)

RESOLVED_CONFIG = "humanllm-train.yaml"


class TrainReport(BaseModel):
    output_dir: str
    steps: int
    first_loss: float | None
    last_loss: float | None
    seconds: float
    seconds_per_step: float
    tokens_per_second: float | None
    global_batch: int = Field(
        description="Samples per optimizer step in this run: per device x accumulation x processes."
    )


def load_sft_dataset(path: Path) -> Any:
    """A `datasets.Dataset` of `{"messages": [...]}` rows from ShareGPT or messages JSON/JSONL/parquet."""
    from datasets import Dataset

    rows = [to_messages(r, f"{path}[{i}]") for i, r in enumerate(read_rows(path))]
    if not rows:
        raise DataError(f"{path} has no rows; export some with `humanllm data export-sft`")
    return Dataset.from_list(rows)


def train(
    recipe: Recipe,
    data: Path,
    output_dir: Path,
    *,
    max_steps: int | None = None,
    model_cache: Path | None = None,
    callbacks: list[Any] | None = None,
) -> TrainReport:
    """Fine-tune with TRL's `SFTTrainer` (LoRA through peft when the recipe has `lora`).

    The output folder and the data are checked before the model loads: a folder that cannot be
    written or data that cannot be read fails in a second, not after the first steps.
    """
    check_output_dir(output_dir, option="--output-dir")  # before the data, the model or any step
    dataset = load_sft_dataset(data)
    output_dir.mkdir(parents=True, exist_ok=True)
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    model_path = resolve_model_path(recipe.model, model_cache)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.chat_template = masking_template(tokenizer, recipe.chat_template)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    sft = resolve_builtin_paths(dict(recipe.sft))
    if max_steps is not None:
        sft["max_steps"] = max_steps
    args = SFTConfig(output_dir=str(output_dir), **sft)
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate / torchrun
    global_batch = args.per_device_train_batch_size * args.gradient_accumulation_steps * processes
    if recipe.global_batch is not None and global_batch != recipe.global_batch:
        logger.warning(
            "recipe %s is sized for a global batch of %d (%s); this run has %d process(es), so %d: set "
            "gradient_accumulation_steps to keep the recipe's batch",
            recipe.name,
            recipe.global_batch,
            recipe.batch_formula(),
            processes,
            global_batch,
        )
    peft_config = None
    if recipe.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(**recipe.lora)
    trainer = SFTTrainer(
        model=model_path,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    resolved = {
        **recipe.model_dump(),
        "sft": sft,
        "model_path": model_path,
        "data": str(data),
        "run_global_batch": global_batch,
    }
    (output_dir / RESOLVED_CONFIG).write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    losses = [float(entry["loss"]) for entry in trainer.state.log_history if "loss" in entry]
    seen = [float(entry["num_tokens"]) for entry in trainer.state.log_history if "num_tokens" in entry]
    tokens = seen[-1] if seen else None
    steps = int(result.global_step)
    return TrainReport(
        output_dir=str(output_dir),
        steps=steps,
        first_loss=losses[0] if losses else None,
        last_loss=losses[-1] if losses else None,
        seconds=seconds,
        seconds_per_step=seconds / max(1, steps),
        tokens_per_second=tokens / seconds if tokens else None,
        global_batch=global_batch,
    )


def merge_lora(adapter_dir: Path, out: Path) -> Path:
    """Fold a LoRA adapter into its base model and save a plain checkpoint (usable as hf:<out>)."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    check_output_dir(out)  # before the base model loads
    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir))
    merged = model.merge_and_unload()
    merged.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(str(out))
    return out
