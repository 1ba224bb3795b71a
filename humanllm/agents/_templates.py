"""Prompt templates: one file per prompt, rendered strictly (a missing variable is an error)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

PROMPTS = Path(__file__).parent / "prompts"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(template: str, /, **variables: Any) -> str:
    """Render `prompts/<template>.jinja`; raises jinja2.UndefinedError on a missing variable."""
    return _environment().get_template(f"{template}.jinja").render(**variables).strip()


def template_version(name: str) -> str:
    """A short hash of a template's text: part of an episode's identity."""
    import hashlib

    return hashlib.sha256((PROMPTS / f"{name}.jinja").read_bytes()).hexdigest()[:12]
