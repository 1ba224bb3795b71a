"""The model layer's own prompt text (format instructions, repair requests), in template files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from humanllm.core import PromptFolder

FOLDER = PromptFolder(Path(__file__).parent / "prompts", label="llm/")


def render(template: str, /, **variables: Any) -> str:
    """Render `llm/prompts/<template>.jinja` strictly."""
    return FOLDER.render(template, **variables)


def template_version(name: str) -> str:
    """A short hash of one of the model layer's templates."""
    return FOLDER.version(name)


MODEL_TEMPLATES = ("schema_instruction", "hf_schema_instruction", "repair")
"""Every template of the model layer: any structured call may send one of them."""


def model_template_versions() -> dict[str, str]:
    """`llm/<name>` -> hash, for each of the model layer's templates (part of every spec that calls a model)."""
    return {f"{FOLDER.label}{name}": FOLDER.version(name) for name in MODEL_TEMPLATES}
