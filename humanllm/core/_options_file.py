"""Option files (`--config FILE.yaml`): a command's options as YAML keys, validated, and the resolved record.

The command line stays in `humanllm.cli`; this module knows only option names and their types:
`read_options_file` turns a YAML mapping into values keyed by parameter name (checked by a pydantic
model built from the option types, `extra="forbid"`), and `resolved_options_text` writes every value a
run used back as an options file (secrets never included), so the record can be given to `--config`.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, create_model

from humanllm.core._files import kind_of, read_yaml_file
from humanllm.errors import ConfigError
from humanllm.redaction import redact

SECRET_WORDS = ("api_key", "apikey", "secret", "password", "token_value")
"""Parameter names holding any of these are never read from, nor written to, an options file."""


@dataclass(frozen=True)
class OptionField:
    """One option a file may set: its key (the long flag, underscores), the parameter it fills, its type."""

    key: str
    param: str
    annotation: Any


def option_key(flag: str) -> str:
    """'--judge-base-url' -> 'judge_base_url' (the key form; a file may write it with dashes too)."""
    return flag.lstrip("-").replace("-", "_")


def read_options_file(path: Path, fields: Mapping[str, OptionField], *, command: str) -> dict[str, Any]:
    """The options in `path` as {parameter name: JSON-like value}; `ConfigError` (one line) when it is not valid."""
    raw = read_yaml_file(path, what="config file")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} holds {kind_of(raw)}: write a mapping of option names to values")
    allowed = {key: field for key, field in fields.items() if not is_secret(field.param)}
    given: dict[str, Any] = {}
    written: dict[str, str] = {}
    for name, value in raw.items():
        key = option_key(str(name))
        written[key] = str(name)
        if key in given:
            raise ConfigError(f"{path}: {key!r} is given twice (once with dashes, once with underscores): keep one")
        field = allowed.get(key)
        multiple = field is not None and _is_list(field.annotation)
        given[key] = [value] if multiple and not isinstance(value, list) else value
    model = create_model(  # type: ignore[call-overload]
        f"{command} options",
        __config__=ConfigDict(extra="forbid", coerce_numbers_to_str=True, validate_by_name=False),
        # fields named by parameter (a key such as `json` would shadow a BaseModel attribute), read by key
        **{field.param: (field.annotation | None, Field(default=None, alias=key)) for key, field in allowed.items()},
    )
    try:
        checked = model.model_validate(given)
    except ValidationError as exc:
        raise ConfigError(_message(exc, path, sorted(allowed), command, written)) from exc
    return dict(checked.model_dump(mode="json", exclude_unset=True))


def _is_list(annotation: Any) -> bool:
    return "list[" in str(annotation)


def _message(exc: ValidationError, path: Path, keys: list[str], command: str, written: dict[str, str]) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    key = ".".join([written.get(loc[0], loc[0]), *loc[1:]]) if loc else "options"
    if first.get("type") == "extra_forbidden":
        close = difflib.get_close_matches(loc[0], keys, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{path}: unknown key {key!r} for `humanllm {command}`; {hint}valid keys: {', '.join(keys)}"
    return f"{path}: {key}: {first.get('msg', 'invalid value')}"


def is_secret(param: str) -> bool:
    return any(word in param.lower() for word in SECRET_WORDS)


def plain(value: Any) -> Any:
    """A value as YAML can hold it: paths and enums as strings, strings with secrets redacted."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def resolved_options_text(
    command: str,
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    *,
    arguments: Mapping[str, Any] | None = None,
    version: str = "",
    config_file: Path | None = None,
) -> str:
    """The options a run used, as an options file (keys = option names) with where each value came from.

    `values` maps option keys to the values used; `sources` maps keys to 'command line', 'environment',
    'config file' or 'default'. Secret-looking options are left out and strings are redacted.
    """
    kept = {key: plain(value) for key, value in values.items() if not is_secret(key)}
    lines = [
        f"# humanllm {command}{' ' + version if version else ''}: every option this run used (no secrets).",
        f"# Run it again with: humanllm {command} --config THIS_FILE"
        + (" " + " ".join(str(plain(v)) for v in arguments.values()) if arguments else ""),
        "# Precedence: command line > HUMANLLM_* environment variables > --config file > default.",
    ]
    for label in ("command line", "environment", "config file"):
        keys = [key for key in kept if sources.get(key) == label]
        if keys:
            where = f" ({plain(config_file)})" if label == "config file" and config_file is not None else ""
            lines.append(f"# from the {label}{where}: {', '.join(keys)}")
    import yaml  # here, not at the top: loading the CLI for `--help` does not need it

    return "\n".join(lines) + "\n" + yaml.safe_dump(kept, sort_keys=False, allow_unicode=True)


__all__ = ["OptionField", "is_secret", "option_key", "plain", "read_options_file", "resolved_options_text"]
