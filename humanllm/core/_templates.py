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
        self._versions: dict[str, tuple[tuple[int, int], str]] = {}
        """name -> ((mtime_ns, size), hash): every episode's spec asks for every template's version."""

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
        """A short hash of a template's text (read again only when the file's size or mtime changed)."""
        path = self.root / f"{name}.jinja"
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._versions.get(name)
        if known is None or known[0] != stamp:
            known = (stamp, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
            self._versions[name] = known
        return known[1]
