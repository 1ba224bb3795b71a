"""The pages' Jinja2 environment: every value autoescaped, a missing variable an error."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _url(path: str, params: dict[str, Any] | None = None) -> str:
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


@functools.cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = _score
    env.filters["q"] = lambda text: quote(str(text), safe="")
    env.filters["tojson_attr"] = lambda value: json.dumps(value)
    env.globals["url"] = _url
    return env


def render(name: str, **context: Any) -> str:
    return str(environment().get_template(name).render(**context))
