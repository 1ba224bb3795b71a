"""Training recipes: YAML files naming a model, TRL `SFTConfig` fields and optional LoRA fields."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import logging
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from humanllm.core import kind_of, read_yaml_file
from humanllm.errors import ConfigError

RECIPES = Path(__file__).parent / "recipes"
CONFIGS = Path(__file__).parent / "configs"
BATCH_FIELDS = ("per_device_train_batch_size", "gradient_accumulation_steps")
"""The SFTConfig fields that, with `gpus`, make the global batch."""

logger = logging.getLogger(__name__)


class Recipe(BaseModel):
    """A model plus the `SFTConfig` and `LoraConfig` fields to train it with."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    model: str = Field(description="Hub id, local folder, or 'bundled:smollm2'.")
    chat_template: str | None = Field(
        default=None, description="'chatml' or a .jinja file with {% generation %} markers; default: the model's own."
    )
    sft: dict[str, Any] = Field(default_factory=dict, description="trl.SFTConfig fields.")
    lora: dict[str, Any] | None = Field(default=None, description="peft.LoraConfig fields; None = full fine-tuning.")
    gpus: int = Field(default=1, ge=1, description="Devices (processes) the batch is sized for, e.g. 8 or 16.")
    global_batch: int | None = Field(
        default=None,
        ge=1,
        description="Samples per optimizer step: per_device_train_batch_size x gradient_accumulation_steps x gpus. "
        "Checked when given (every shipped recipe gives it); an override of a factor recomputes it.",
    )

    @model_validator(mode="after")
    def _global_batch_adds_up(self) -> Self:
        if self.global_batch is None:
            return self
        if missing := [k for k in BATCH_FIELDS if not isinstance(self.sft.get(k), int)]:
            raise ValueError(f"global_batch needs sft.{' and sft.'.join(missing)} as whole numbers")
        if self.batch_product() != self.global_batch:
            raise ValueError(f"global_batch {self.global_batch} is not {self.batch_formula()}")
        return self

    def batch_product(self, devices: int | None = None) -> int | None:
        """per device x accumulation x devices (default `gpus`); None when a factor is not stated."""
        per, steps = (self.sft.get(k) for k in BATCH_FIELDS)
        if not isinstance(per, int) or not isinstance(steps, int):
            return None
        return per * steps * (devices or self.gpus)

    def batch_formula(self) -> str:
        """'2 per device x 8 accumulation x 8 GPUs = 128', or the factors that are known."""
        per, steps = (self.sft.get(k, "?") for k in BATCH_FIELDS)
        product = self.batch_product()
        text = f"{per} per device x {steps} accumulation x {self.gpus} GPU{'s' * (self.gpus > 1)}"
        return f"{text} = {product}" if product is not None else f"{text} (not all stated)"


@functools.cache
def sft_fields() -> frozenset[str]:
    from trl import SFTConfig

    return frozenset(f.name for f in dataclasses.fields(SFTConfig))


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES.glob("*.yaml"))


def load_recipe(name_or_path: str) -> Recipe:
    """A shipped recipe by name, or a YAML file; unknown SFTConfig fields fail with suggestions."""
    path = Path(name_or_path)
    if not path.exists():
        path = RECIPES / f"{name_or_path}.yaml"
    if not path.exists():
        raise ConfigError(f"no recipe {name_or_path!r}; shipped: {', '.join(recipe_names())}, or give a YAML path")
    raw = read_yaml_file(path, what="recipe")
    if not isinstance(raw, dict):
        raise ConfigError(f"recipe {path} holds {kind_of(raw)}, not a mapping of name, model, sft, lora")
    recipe = _validated(raw, f"recipe {path}")
    check_sft_fields(recipe.sft, str(path))
    return recipe


def check_sft_fields(sft: dict[str, Any], where: str) -> None:
    for key in sft:
        if key not in sft_fields():
            close = difflib.get_close_matches(key, sorted(sft_fields()), n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: {key!r} is not a trl.SFTConfig field{hint}")


def apply_overrides(recipe: Recipe, overrides: list[str]) -> Recipe:
    """`key=value` pairs: SFTConfig fields, `lora.<field>`, `model`, `chat_template`, `gpus` or `global_batch`.

    Overriding a factor of the global batch (per device, accumulation, gpus) without `global_batch`
    recomputes it, and says so in the log."""
    data = recipe.model_dump()
    touched = set()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} must look like key=value")
        value = _parse_value(raw)
        touched.add(key)
        if key in ("model", "chat_template", "name", "gpus", "global_batch"):
            data[key] = value
        elif key.startswith("lora."):
            data["lora"] = {**(data["lora"] or {}), key[5:]: value}
        else:
            check_sft_fields({key: value}, "override")
            data["sft"][key] = value
    if data["global_batch"] is not None and touched & {*BATCH_FIELDS, "gpus"} and "global_batch" not in touched:
        previous = data["global_batch"]
        data["global_batch"] = None
        data["global_batch"] = _validated(data, "override").batch_product()
        if data["global_batch"] != previous:
            logger.warning(
                "the overrides change the global batch of %s from %s to %s", recipe.name, previous, data["global_batch"]
            )
    return _validated(data, "override")


def _validated(data: dict[str, Any], where: str) -> Recipe:
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "recipe"
        raise ConfigError(f"{where}: {field}: {first['msg'].removeprefix('Value error, ')}") from exc


def _parse_value(raw: str) -> Any:
    """JSON first (so 1e-5 is a number, unlike YAML 1.1), then YAML, else the plain string."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw


def resolve_builtin_paths(sft: dict[str, Any]) -> dict[str, Any]:
    """'builtin:<name>' DeepSpeed configs -> the JSON shipped in training/configs."""
    value = sft.get("deepspeed")
    if isinstance(value, str) and value.startswith("builtin:"):
        return {**sft, "deepspeed": str(CONFIGS / f"{value.removeprefix('builtin:')}.json")}
    return sft
