"""Prompt template folders: one file per prompt, rendered strictly, each with a hash of its text."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import jinja2


class PromptFolder:
    """The `<name>.jinja` files of one folder: `render` them (a missing variable is an error), `version` them."""

    def __init__(self, root: Path, label: str = "") -> None:
        self.root = Path(root)
        self.label = label
        """Prefix of this folder's names in spec hashes (`llm/` for the model layer's templates)."""

    @functools.cached_property
    def environment(self) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.root),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
        )

    def render(self, template: str, /, **variables: Any) -> str:
        """Render `<root>/<template>.jinja`; raises jinja2.UndefinedError on a missing variable."""
        return self.environment.get_template(f"{template}.jinja").render(**variables).strip()

    def version(self, name: str) -> str:
        """A short hash of a template's text."""
        return hashlib.sha256((self.root / f"{name}.jinja").read_bytes()).hexdigest()[:12]
