"""Token budgets of structured replies: the worst-case size of a schema-valid reply, in tokens.

Grammar-constrained decoding guarantees a reply's syntax, not its length: a reply cut by the call's
`max_tokens` is invalid JSON however well the model writes. So every reply schema carries bounds
(`maxLength` on each free-text string, `maxItems` on each array, enums for names, numbers and
scores) small enough that even a reply that fills every bound fits the call's token budget. The
schema builders size their bounds with `fit`; tests check every schema against `worst_case_tokens`.

The rule (measured with SmolLM2's tokenizer, see `benchmarks/embedded_completion.py`): free text
at `TEXT_CHARS_PER_TOKEN` characters per token, everything else in the JSON (keys, enum values,
punctuation, one space at every place llama.cpp's grammar allows one) at
`SYNTAX_CHARS_PER_TOKEN`, digits at one token each, plus `STOP_TOKENS` of slack for the end of turn.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from humanllm.errors import ConfigError
from humanllm.llm import KeyedReply, ModelSettings, schema_of

if TYPE_CHECKING:
    from humanllm.llm import RoleModel

TEXT_CHARS_PER_TOKEN = 2.5
"""Characters of free text per token. SmolLM2's tokenizer gives 4.7-5.1 on clean English prose,
2.2 on punctuation-heavy text; the 135M model's constrained replies measure about 3.2 overall."""
SYNTAX_CHARS_PER_TOKEN = 2.0
"""Characters of JSON structure (keys, enum values, punctuation, spaces) per token (measured 2.2-3.3)."""
INTEGER_CHARS = 17
"""Longest integer llama.cpp's grammar allows (a sign and 16 digits); bounds on integers are not
in its grammar, so bounded numbers are written as enums instead."""
STOP_TOKENS = 8
"""Slack for the end-of-turn token and a tokenisation that differs from the canonical one."""
DEFAULT_MAX_TOKENS: int = ModelSettings.model_fields["max_tokens"].default
"""The completion limit a role has unless configured otherwise (writer, character)."""
JUDGE_MAX_TOKENS = 1536
"""The judge's completion limit by default (`humanllm eval --judge-max-tokens`)."""
JUDGE_TEMPERATURE = 0.7
"""The judge's default sampling temperature (`eval score` and `eval run`); here, beside the limit, so the
CLI reads both defaults without loading the judge (and LangChain)."""
JUDGE_BATCH_SIZE = 8
"""Checklist items per judge call by default (`--batch-size`; the judge graph and `eval`'s options share it)."""
JUDGE_RETRIES = 2
"""Extra judging rounds for unscored items by default (`--retries`; the batch halves each round)."""
BUILDER_MAX_TOKENS = 1024
"""The pattern builder's completion limit by default (`humanllm patterns build --max-tokens`)."""


class UnboundedSchemaError(ValueError):
    """A schema admits replies of any length (a string without maxLength, an array without maxItems)."""


@dataclass(frozen=True)
class _Size:
    text: int = 0
    syntax: int = 0
    digits: int = 0

    def __add__(self, other: _Size) -> _Size:
        return _Size(self.text + other.text, self.syntax + other.syntax, self.digits + other.digits)

    def times(self, n: int) -> _Size:
        return _Size(self.text * n, self.syntax * n, self.digits * n)

    @property
    def tokens(self) -> int:
        return (
            math.ceil(self.text / TEXT_CHARS_PER_TOKEN)
            + math.ceil(self.syntax / SYNTAX_CHARS_PER_TOKEN)
            + self.digits
            + STOP_TOKENS
        )


def _literal(value: object) -> _Size:
    text = json.dumps(value)
    digits = sum(c.isdigit() for c in text) if isinstance(value, int | float) else 0
    return _Size(syntax=len(text) - digits + 1, digits=digits)  # +1: the space after a value


def _size(schema: dict[str, Any], root: dict[str, Any], where: str) -> _Size:
    if "$ref" in schema:
        return _size(root["$defs"][schema["$ref"].split("/")[-1]], root, where)
    if "const" in schema:
        return _literal(schema["const"])
    if "enum" in schema:
        return max((_literal(v) for v in schema["enum"]), key=lambda s: s.tokens)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return max((_size(s, root, where) for s in schema[key]), key=lambda s: s.tokens)
    kind = schema.get("type", "object")
    if kind == "object":
        size = _Size(syntax=4)  # "{ " and "} "
        for key, sub in schema.get("properties", {}).items():
            # "key" : value ,  (a space allowed after the key, the colon, the value and the comma)
            size += _Size(syntax=len(json.dumps(key)) + 5) + _size(sub, root, f"{where}.{key}")
        return size
    if kind == "array":
        if "maxItems" not in schema:
            raise UnboundedSchemaError(f"{where}: an array without maxItems")
        item = _size(schema.get("items", {}), root, f"{where}[]") + _Size(syntax=2)  # ", "
        return _Size(syntax=4) + item.times(schema["maxItems"])
    if kind == "string":
        if "maxLength" not in schema:
            raise UnboundedSchemaError(f"{where}: a string without maxLength")
        return _Size(text=schema["maxLength"], syntax=3)  # the quotes and a space
    if kind in ("integer", "number"):
        return _Size(syntax=2, digits=INTEGER_CHARS if kind == "integer" else 2 * INTEGER_CHARS + 2)
    if kind == "boolean":
        return _Size(syntax=6)
    if kind == "null":
        return _Size(syntax=5)
    raise UnboundedSchemaError(f"{where}: cannot size a {kind!r} value")


def worst_case_tokens(schema: type[BaseModel] | KeyedReply[Any] | dict[str, Any]) -> int:
    """Tokens of the longest reply that the schema admits (the budget a call needs for it).

    Raises UnboundedSchemaError when the schema has no bound on some string or array.
    """
    return _worst_case(schema).tokens


def _worst_case(schema: type[BaseModel] | KeyedReply[Any] | dict[str, Any]) -> _Size:
    root = schema if isinstance(schema, dict) else schema_of(schema)
    return _size(root, root, root.get("title", "reply"))


def max_tokens_of(model: RoleModel, default: int = DEFAULT_MAX_TOKENS) -> int:
    """The completion limit configured on a role's chat model, or `default` when it has none.

    Every humanllm backend keeps it as `max_tokens` (the OpenAI client under that name too).
    """
    value = getattr(model.chat, "max_tokens", None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


M = TypeVar("M", bound=type[BaseModel])

SCALES: tuple[float, ...] = tuple(round(1 - i / 40, 3) for i in range(40))
"""Scales tried by `fit`, largest first: 1.0, 0.975, ... 0.025."""


class BudgetTooSmallError(ConfigError):
    """No schema of the requested shape fits the token budget."""


def fit(build: Callable[[float], M], max_tokens: int, *, what: str, scales: Sequence[float] = SCALES) -> M:
    """The schema `build(scale)` for the largest scale whose worst-case reply fits `max_tokens`.

    `build` scales its bounds (never below the check's own minimums) by `scale` in (0, 1].
    """
    return build(fitted_scale(build, max_tokens, what=what, scales=scales))


def fitted_scale(
    build: Callable[[float], type[BaseModel]], max_tokens: int, *, what: str, scales: Sequence[float] = SCALES
) -> float:
    """The largest scale whose schema `build(scale)` has a worst-case reply within `max_tokens` (see `fit`).

    `scales` run from largest to smallest, and a smaller scale never gives a longer reply, so a bisection
    finds the first that fits in about log2(len(scales)) builds (a build is a pydantic model and its JSON
    schema: milliseconds, which a linear scan paid up to 40 times per new schema shape).
    """
    low, high = 0, len(scales)  # the answer's index lies in [low, high); high = none fits
    while low < high:
        middle = (low + high) // 2
        if worst_case_tokens(build(scales[middle])) <= max_tokens:
            high = middle
        else:
            low = middle + 1
    if low < len(scales):
        return scales[low]
    smallest = worst_case_tokens(build(scales[-1]))
    raise BudgetTooSmallError(
        f"the {what} needs at least {smallest} completion tokens per call and the model has {max_tokens}: "
        "raise --max-tokens"
    )


def fit_keyed(
    build: Callable[..., type[BaseModel]],
    keys: Sequence[str],
    max_tokens: int,
    *,
    what: str,
    params: tuple[Any, ...] = (),
) -> KeyedReply[Any]:
    """The keyed reply for `keys` whose shape `build(len(keys), scale, *params)` is at the largest scale that fits.

    Such replies are keyed per call (a scenario's character names, a batch's item ids), and what
    sizes one is only how many keys there are and the sum of their JSON lengths: each key appears
    once in a reply and adds its length, whatever its value. So the worst case at each scale is
    sized once per key count, on stand-in keys (`build` and `params` must be hashable), and shifted
    by the real keys' total length; the shape is built once per key count and scale (see
    `humanllm.llm.KeyedReply`). After the first casts of each size no pydantic class is built at all.
    """
    total = sum(len(json.dumps(key)) for key in keys)
    scale = _keyed_scale(build, len(keys), total, max_tokens, what, params)
    return KeyedReply(keyed_shape(build, len(keys), scale, params), keys)


@functools.lru_cache(maxsize=1024)
def keyed_shape(
    build: Callable[..., type[BaseModel]], count: int, scale: float, params: tuple[Any, ...] = ()
) -> type[BaseModel]:
    """`build(count, scale, *params)`, built once (a shape serves every call with `count` keys)."""
    return build(count, scale, *params)


def _keyed_scale(
    build: Callable[..., type[BaseModel]], count: int, total: int, max_tokens: int, what: str, params: tuple[Any, ...]
) -> float:
    """`fitted_scale` for `count` keys of JSON length `total` in all, from the stand-in sizes."""
    shift = _Size(syntax=total - sum(len(json.dumps(key)) for key in stand_in_keys(count, 3 * count)))
    low, high = 0, len(SCALES)  # as in fitted_scale: the first scale that fits lies in [low, high)
    while low < high:
        middle = (low + high) // 2
        if (_keyed_size(build, count, SCALES[middle], params) + shift).tokens <= max_tokens:
            high = middle
        else:
            low = middle + 1
    if low < len(SCALES):
        return SCALES[low]
    smallest = (_keyed_size(build, count, SCALES[-1], params) + shift).tokens
    raise BudgetTooSmallError(
        f"the {what} needs at least {smallest} completion tokens per call and the model has {max_tokens}: "
        "raise --max-tokens"
    )


@functools.lru_cache(maxsize=4096)
def _keyed_size(build: Callable[..., type[BaseModel]], count: int, scale: float, params: tuple[Any, ...]) -> _Size:
    """The worst-case reply of `build` at `scale` for `count` stand-in keys of 3 JSON characters each on average."""
    shape = build(count, scale, *params)  # not kept: only the final scale's shape is (`keyed_shape`)
    return _worst_case(KeyedReply(shape, stand_in_keys(count, 3 * count)).model_json_schema())


def stand_in_keys(count: int, total: int) -> tuple[str, ...]:
    """`count` distinct ASCII keys whose JSON lengths (quotes included) add up to `total`."""
    share, extra = divmod(total, count) if count else (0, 0)
    lengths = [share + (n < extra) for n in range(count)]
    return tuple(str(n).rjust(length - 2, "x") for n, length in enumerate(lengths))


def scaled(base: int, scale: float, floor: int) -> int:
    """`base * scale`, rounded down to a multiple of 10 and never below `floor`."""
    return max(floor, int(base * scale) // 10 * 10)


def string_bounds(schema: type[BaseModel] | KeyedReply[Any]) -> dict[str, int]:
    """The `maxLength` of every bounded string field in a schema, by field name (to tell the model)."""
    found: dict[str, int] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and isinstance(sub.get("maxLength"), int):
                    found[key] = sub["maxLength"]
            for sub in node.values():
                walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema_of(schema))
    return found
