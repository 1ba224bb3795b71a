"""Prompt templates: one file per prompt, rendered strictly (a missing variable is an error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from humanllm.core import PromptFolder

PROMPTS = Path(__file__).parent / "prompts"
FOLDER = PromptFolder(PROMPTS)


def render(template: str, /, **variables: Any) -> str:
    """Render `prompts/<template>.jinja`; raises jinja2.UndefinedError on a missing variable."""
    return FOLDER.render(template, **variables)


def template_version(name: str) -> str:
    """A short hash of a template's text: part of an episode's identity."""
    return FOLDER.version(name)
