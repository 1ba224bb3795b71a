"""Chat templates that can mark which tokens are the assistant's (`{% generation %}`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from humanllm.core import read_text_file
from humanllm.errors import ConfigError

TEMPLATES = Path(__file__).parent / "templates"
NAMED = {"chatml": "chatml_generation.jinja"}


def has_generation_markers(template: str | None) -> bool:
    from trl.chat_template_utils import has_generation_markers as trl_check

    return bool(template) and trl_check(template)  # type: ignore[arg-type]


def masking_template(tokenizer: Any, choice: str | None = None) -> str:
    """A template that masks assistant tokens: `choice` (a name or a file), the tokenizer's own
    if it has markers, TRL's patched version of a known template, or a clear error."""
    if choice:
        path = TEMPLATES / NAMED[choice] if choice in NAMED else Path(choice)
        if not path.exists():
            raise ConfigError(f"chat template {choice!r}: use one of {sorted(NAMED)} or a .jinja file path")
        text = read_text_file(path, what="chat template")
        if not has_generation_markers(text):
            raise ConfigError(f"chat template {choice!r} has no {{% generation %}} markers, so it cannot mask")
        return text
    own = tokenizer.chat_template
    if has_generation_markers(own):
        return str(own)
    try:
        from trl.chat_template_utils import get_training_chat_template

        patched = get_training_chat_template(tokenizer)
    except Exception:  # TRL raises for templates it does not know
        patched = None
    if patched:
        return str(patched)
    raise ConfigError(
        "this model's chat template cannot mark assistant tokens ({% generation %} markers missing), so "
        "assistant-only loss would silently train on every turn; pass --template chatml for ChatML models "
        "or a .jinja template with {% generation %} ... {% endgeneration %}"
    )
