"""`humanllm train export-config`: recipes as configs that TRL's own CLI and LLaMA-Factory take unchanged.

The TRL file is parsed by TRL's own parser exactly as `trl sft --config FILE` does (trl.scripts.sft's
`make_parser` and `parse_args_and_config`), without training. LLaMA-Factory is not installed: its file
is checked against the argument names of LLaMA-Factory's hparams dataclasses (model_args, data_args,
finetuning_args) and transformers' TrainingArguments as of the transformers version it pins (<= 4.57).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.errors import ConfigError, DataError
from humanllm.training import export_config, load_recipe
from humanllm.training._recipe import RECIPES as RECIPES_DIR
from humanllm.training._templates import has_generation_markers

MESSAGES = {
    "messages": [
        {"role": "system", "content": "You are Ana."},
        {"role": "user", "content": "Ben: (waves) Hi."},
        {"role": "assistant", "content": "[nervous] (smiles) Hello."},
    ]
}

LLAMAFACTORY_ARGUMENTS = frozenset(
    {
        # ModelArguments / DataArguments / FinetuningArguments (src/llamafactory/hparams/*.py)
        "model_name_or_path",
        "template",
        "dataset",
        "dataset_dir",
        "cutoff_len",
        "train_on_prompt",
        "stage",
        "finetuning_type",
        "lora_rank",
        "lora_alpha",
        "lora_dropout",
        "lora_target",
        # transformers.Seq2SeqTrainingArguments (transformers <= 4.57.1, which LLaMA-Factory pins)
        "do_train",
        "output_dir",
        "learning_rate",
        "lr_scheduler_type",
        "warmup_ratio",
        "num_train_epochs",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "bf16",
        "optim",
        "logging_steps",
        "save_strategy",
        "report_to",
        "seed",
        "deepspeed",
        "use_cpu",
    }
)


def _data(tmp_path: Path, row: dict[str, Any] = MESSAGES) -> Path:
    data = tmp_path / "data" / "sft.jsonl"
    data.parent.mkdir()
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    info = {"humanllm": {"file_name": "sft.jsonl", "formatting": "sharegpt", "columns": {"messages": "messages"}}}
    (data.parent / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    return data


@pytest.fixture(autouse=True)
def _bf16_capable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU recipes ask for bf16, which transformers' config checks refuse on a CPU-only machine; on a GPU
    machine the real check runs."""
    import torch
    import transformers.training_args

    if not torch.cuda.is_available():
        monkeypatch.setattr(transformers.training_args, "is_torch_bf16_gpu_available", lambda: True)


def _trl_parse(path: Path) -> tuple[Any, ...]:
    """What `trl sft --config PATH` does with the file before it launches training."""
    from trl.scripts.sft import make_parser

    return tuple(
        make_parser(prog="trl sft").parse_args_and_config(
            ["--config", str(path)], return_remaining_strings=True, separate_remaining_strings=True
        )
    )


def test_our_own_recipe_file_is_what_trl_rejects(tmp_path: Path) -> None:
    """The bug: a recipe's own keys reach `accelerate launch` as unknown arguments."""
    *_, from_config, _ = _trl_parse(RECIPES_DIR / "qwen3-8b-lora.yaml")
    assert "--name" in from_config


def test_a_lora_recipe_exports_to_what_trl_sft_parses_unchanged(tmp_path: Path) -> None:
    data = _data(tmp_path)
    out = export_config(load_recipe("qwen3-8b-lora"), "trl", data, tmp_path / "trl.yaml", output_dir="ckpt/q")
    script, training, model, datasets, from_config, from_cli = _trl_parse(out)
    assert from_config == [] and from_cli == []  # nothing left over for accelerate launch to choke on
    assert model.model_name_or_path == "Qwen/Qwen3-8B" and model.use_peft is True
    assert model.lora_r == 64 and model.lora_alpha == 128 and "gate_proj" in model.lora_target_modules
    assert training.learning_rate == 1e-4 and training.assistant_only_loss is True and training.max_length == 6144
    assert training.output_dir == "ckpt/q" and training.chat_template_path is None  # TRL patches Qwen3's itself
    assert [d.data_files for d in datasets.datasets] == [str(data.resolve())] and datasets.datasets[0].path == "json"
    assert script.dataset_name is None
    # the script's own entry point (python -m trl.scripts.sft --config ...) refuses unknown keys
    from trl.scripts.sft import make_parser

    make_parser().parse_args_and_config(["--config", str(out)], fail_with_unknown_args=True)


def test_the_cpu_recipe_points_trl_at_our_masking_template(tmp_path: Path) -> None:
    converted = Path(os.environ["XDG_CACHE_HOME"]) / "humanllm" / "models" / "smollm2-135m-instruct"
    converted.mkdir(parents=True)  # as if converted already: the export names the folder, it loads nothing
    (converted / "config.json").write_text("{}", encoding="utf-8")
    (converted / "model.safetensors").write_bytes(b"")
    out = export_config(load_recipe("smollm2-cpu"), "trl", _data(tmp_path), tmp_path / "trl.yaml")
    _script, training, model, _datasets, from_config, _ = _trl_parse(out)
    assert from_config == [] and model.model_name_or_path == str(converted)
    template = Path(training.chat_template_path)
    assert template.is_absolute() and has_generation_markers(template.read_text(encoding="utf-8"))
    assert training.use_cpu is True and model.lora_task_type == "CAUSAL_LM"


def test_a_full_recipe_names_the_shipped_deepspeed_file(tmp_path: Path) -> None:
    """Parsing it needs deepspeed installed (transformers checks); here its keys are checked against TRL's fields."""
    import dataclasses

    from trl import DatasetMixtureConfig, ModelConfig, ScriptArguments, SFTConfig

    out = export_config(load_recipe("qwen3-8b-full"), "trl", _data(tmp_path), tmp_path / "trl.yaml")
    config = yaml.safe_load(out.read_text(encoding="utf-8"))
    known = {
        f.name for c in (ScriptArguments, SFTConfig, ModelConfig, DatasetMixtureConfig) for f in dataclasses.fields(c)
    }
    assert set(config) <= known and Path(config["deepspeed"]).is_file() and "use_peft" not in config


def test_sharegpt_data_is_refused_for_trl(tmp_path: Path) -> None:
    data = _data(tmp_path, {"conversations": [{"from": "human", "value": "hi"}]})
    with pytest.raises(DataError, match="--format messages"):
        export_config(load_recipe("qwen3-8b-lora"), "trl", data, tmp_path / "trl.yaml")


def test_llamafactory_gets_only_its_own_argument_names(tmp_path: Path) -> None:
    data = _data(tmp_path)
    out = export_config(load_recipe("qwen3-8b-lora"), "llamafactory", data, tmp_path / "lf.yaml")
    config = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(config) <= LLAMAFACTORY_ARGUMENTS, set(config) - LLAMAFACTORY_ARGUMENTS
    assert config["template"] == "qwen3" and config["dataset"] == "humanllm"
    assert config["dataset_dir"] == str(data.parent.resolve()) and config["cutoff_len"] == 6144
    assert config["finetuning_type"] == "lora" and config["lora_rank"] == 64 and config["warmup_ratio"] == 0.03
    assert config["lora_target"] == "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
    assert "Not LLaMA-Factory arguments, left out: activation_checkpointing, assistant_only_loss" in out.read_text()


def test_llamafactory_asks_for_a_template_it_cannot_guess(tmp_path: Path) -> None:
    recipe = load_recipe("qwen3-8b-lora").model_copy(update={"model": "some/model"})
    with pytest.raises(ConfigError, match="--template NAME"):
        export_config(recipe, "llamafactory", _data(tmp_path), tmp_path / "lf.yaml")


def test_the_command_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["train", "export-config", "qwen3-8b-lora", "--data", str(data), "--format", "trl", "--out", "trl.yaml"]
    result = CliRunner().invoke(register(), args)
    assert result.exit_code == 0, result.output
    assert "trl sft --config trl.yaml" in result.output and (tmp_path / "trl.yaml").exists()
    again = CliRunner().invoke(register(), args)
    assert again.exit_code != 0 and "--force" in str(again.exception or again.output)


def test_a_bad_format_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUMANLLM_")}
    env.update(PYTHONPATH=str(Path(__file__).parents[1]), NO_COLOR="1")
    command = [sys.executable, "-m", "humanllm", "train", "export-config", "qwen3-8b-lora", "--data", "x.jsonl"]
    bad = subprocess.run([*command, "--format", "axolotl"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "'axolotl' is not one of: trl, llamafactory" in bad.stderr
