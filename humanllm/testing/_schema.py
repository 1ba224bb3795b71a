"""Schema-driven fakes: a value valid for any JSON schema, or any pydantic model, from a seed."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)

_WORDS = [
    "calm",
    "quick",
    "honest",
    "worried",
    "proud",
    "curious",
    "tired",
    "bright",
    "careful",
    "open",
    "warm",
    "sharp",
]


def example_for_schema(
    schema: dict[str, Any], rng: random.Random, root: dict | None = None, *, typical: bool = False
) -> Any:
    """A value that validates against a (pydantic-generated) JSON schema.

    `typical`: strings and lists halfway between their bounds (a reply of typical size, for
    estimates), instead of short ones."""
    root = root or schema
    if typical:
        return _typical(schema, rng, root)
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return example_for_schema(root.get("$defs", {})[name], rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_for_schema(options[0], rng, root)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example_for_schema(sub, rng, root) for key, sub in props.items()}
    if kind == "array":
        low = schema.get("minItems", 1)
        high = max(low, min(schema.get("maxItems", low + 2), low + 2))
        items = schema.get("items", {"type": "string"})
        values = [example_for_schema(items, rng, root) for _ in range(rng.randint(low, high))]
        if schema.get("uniqueItems") and all(isinstance(v, str) for v in values):
            values = [f"{v} {i}" if v in values[:i] else v for i, v in enumerate(values)]
        return values
    if kind == "string":
        low, high = schema.get("minLength", 1), schema.get("maxLength", 60)
        text = " ".join(rng.choice(_WORDS) for _ in range(6))
        text = (text * (1 + low // max(1, len(text))))[: max(low, min(high, len(text)))]
        return text
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", max(low, 10) + 1) - 1)
        return rng.randint(low, max(low, high))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0.0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", max(low, 0.0) + 1.0))
        value = rng.uniform(low, high)
        return (low + high) / 2 if value in (schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")) else value
    if kind == "boolean":
        return rng.random() < 0.5
    return None


def _typical(schema: dict[str, Any], rng: random.Random, root: dict) -> Any:
    if "$ref" in schema:
        return _typical(root.get("$defs", {})[schema["$ref"].split("/")[-1]], rng, root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _typical(options[0], rng, root)
    kind = schema.get("type", "object")
    if "const" in schema or "enum" in schema or kind not in ("object", "array", "string"):
        return example_for_schema(schema, rng, root)
    if kind == "object":
        return {key: _typical(sub, rng, root) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        low = schema.get("minItems", 1)
        count = (low + schema.get("maxItems", low + 2)) // 2
        values = [_typical(schema.get("items", {"type": "string"}), rng, root) for _ in range(count)]
        if schema.get("uniqueItems") and all(isinstance(v, str) for v in values):
            values = [f"{i} {v}"[: len(v)] if i else v for i, v in enumerate(values)]
        return values
    low, high = schema.get("minLength", 1), schema.get("maxLength", 120)
    size = max(low, (low + high) // 2)
    words = " ".join(rng.choice(_WORDS) for _ in range(size // 4 + 2))
    return words[:size].rstrip() if len(words[:size].rstrip()) >= low else words[:size]


def fake_instance(schema: type[T], *, seed: int = 0) -> T:
    """A valid instance of the pydantic model `schema`: the same for the same seed and schema.

    The generic schema-driven fake (in the spirit of pydantic-ai's `TestModel`): fills every field
    from the model's JSON schema and validates the result, so the value is a real instance.
    """
    json_schema = schema.model_json_schema()
    digest = hashlib.sha256(json.dumps([seed, json_schema], sort_keys=True).encode()).hexdigest()
    return schema.model_validate(example_for_schema(json_schema, random.Random(digest)))
