"""Training recipes: YAML files naming a model, TRL `SFTConfig` fields and optional LoRA fields."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.core import kind_of, read_text_file
from humanllm.errors import ConfigError

RECIPES = Path(__file__).parent / "recipes"
CONFIGS = Path(__file__).parent / "configs"


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
    text = read_text_file(path, what="recipe")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"recipe {path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"recipe {path} holds {kind_of(raw)}, not a mapping of name, model, sft, lora")
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "recipe"
        raise ConfigError(f"recipe {path}: {where}: {first['msg']}") from exc
    check_sft_fields(recipe.sft, str(path))
    return recipe


def check_sft_fields(sft: dict[str, Any], where: str) -> None:
    for key in sft:
        if key not in sft_fields():
            close = difflib.get_close_matches(key, sorted(sft_fields()), n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: {key!r} is not a trl.SFTConfig field{hint}")


def apply_overrides(recipe: Recipe, overrides: list[str]) -> Recipe:
    """`key=value` pairs: SFTConfig fields, `lora.<field>`, `model` or `chat_template`."""
    data = recipe.model_dump()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} must look like key=value")
        value = _parse_value(raw)
        if key in ("model", "chat_template", "name"):
            data[key] = value
        elif key.startswith("lora."):
            data["lora"] = {**(data["lora"] or {}), key[5:]: value}
        else:
            check_sft_fields({key: value}, "override")
            data["sft"][key] = value
    return Recipe.model_validate(data)


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
