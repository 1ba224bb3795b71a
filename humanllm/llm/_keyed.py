"""Reply schemas keyed by one call's own names, from one pydantic class per key count.

Some replies are objects whose keys are the call's names: a scenario's profiles under its
characters' names, a judge's verdicts under the batch's item ids. Every key is required and no
other is allowed, so a grammar-constrained model writes each exactly once. Building a pydantic
class per cast costs milliseconds, and its JSON schema as much again, in every episode. Here the
class (the *shape*) is built once per key count and bounds, with its keyed objects' fields named
`key_0`, `key_1`, ...; a `KeyedReply` puts the call's keys in their place: in the JSON schema
that is sent (the same schema a class with those keys as aliases gives), in the reply before it is
validated, in the errors a repair request quotes, and in `dump`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from humanllm.llm._schemas import schema_of

T = TypeVar("T", bound=BaseModel)

NAME = "{name}"
"""Stands for the key in the descriptions of a shape's keyed fields ("The profile of {name}.")."""


def shape_key(n: int) -> str:
    """The field name of the `n`-th key in a shape's keyed objects."""
    return f"key_{n}"


class KeyedReply(Generic[T]):
    """`shape` with its keyed objects' fields `key_0..key_{n-1}` standing for `keys`, in order.

    It answers what a reply class answers where a schema is used (`__name__`,
    `model_json_schema()`, `model_validate()`, `model_validate_json()`); validation returns the
    shape's instance, and `dump` gives its data with the call's keys back in place.
    """

    def __init__(self, shape: type[T], keys: Sequence[str]) -> None:
        self.shape = shape
        self.keys = tuple(keys)
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"the keys of a keyed reply must differ: {list(self.keys)}")
        self._slots = keyed_slots(shape, len(self.keys))
        self._index = {key: n for n, key in enumerate(self.keys)}
        self._schema: dict[str, Any] | None = None

    @property
    def __name__(self) -> str:
        return self.shape.__name__

    def __repr__(self) -> str:
        return f"KeyedReply({self.shape.__name__}, {list(self.keys)})"

    def model_json_schema(self) -> dict[str, Any]:
        """The shape's JSON schema with the keys in place (built once; do not modify it)."""
        if self._schema is None:
            root = schema_of(self.shape)
            renamed, defs = dict(root), dict(root.get("$defs") or {})
            for slot in self._slots:
                if slot.definition is None:
                    renamed = self._renamed(renamed)
                else:
                    defs[slot.definition] = self._renamed(defs[slot.definition])
            if defs:
                renamed["$defs"] = defs
            self._schema = renamed
        return self._schema

    def model_validate(self, data: Any) -> T:
        """The reply, validated by the shape after its keys are renamed; errors name the call's keys."""
        try:
            return self.shape.model_validate(self._to_shape(data))
        except ValidationError as exc:
            raise self._named_errors(exc) from None

    def model_validate_json(self, text: str | bytes) -> T:
        return self.model_validate(json.loads(text))

    def dump(self, reply: BaseModel) -> dict[str, Any]:
        """`reply.model_dump()` with the call's keys in place of `key_0..`."""
        data = reply.model_dump()
        back = {shape_key(n): key for n, key in enumerate(self.keys)}
        for slot in self._slots:
            _rename_at(data, slot.path, back)
        return data

    def _renamed(self, node: dict[str, Any]) -> dict[str, Any]:
        properties = node["properties"]
        out = dict(node)
        out["properties"] = {key: _named(properties[shape_key(n)], key) for n, key in enumerate(self.keys)}
        if "required" in node:
            out["required"] = [self.keys[int(field.removeprefix("key_"))] for field in node["required"]]
        return out

    def _to_shape(self, data: Any) -> Any:
        forward = {key: shape_key(n) for n, key in enumerate(self.keys)}
        data = _copied_along(data, [slot.path for slot in self._slots])
        for slot in self._slots:
            _rename_at(data, slot.path, forward)
        return data

    def _named_errors(self, exc: ValidationError) -> ValidationError:
        back = {shape_key(n): key for n, key in enumerate(self.keys)}
        errors = []
        for error in exc.errors():
            loc = list(error["loc"])
            for slot in self._slots:
                at = len(slot.path)
                if tuple(loc[:at]) == slot.path and len(loc) > at and loc[at] in back:
                    loc[at] = back[str(loc[at])]
            detail = {"type": error["type"], "loc": tuple(loc), "input": error["input"]}
            errors.append({**detail, "ctx": error["ctx"]} if "ctx" in error else detail)
        try:
            return ValidationError.from_exception_data(exc.title, errors)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):  # an error type pydantic cannot rebuild: keep the shape's names
            return exc


class _Slot:
    """Where a keyed object lies: its path in the data, and its definition in the schema (None: the root)."""

    __slots__ = ("definition", "path")

    def __init__(self, path: tuple[str, ...], definition: str | None) -> None:
        self.path, self.definition = path, definition


@functools.lru_cache(maxsize=512)
def keyed_slots(shape: type[BaseModel], count: int) -> tuple[_Slot, ...]:
    """The objects in `shape` whose properties are exactly `key_0..key_{count-1}` (found once per shape)."""
    root = schema_of(shape)
    wanted = {shape_key(n) for n in range(count)}
    found: list[_Slot] = []

    def visit(node: dict[str, Any], path: tuple[str, ...], definition: str | None, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].split("/")[-1]
            if name not in seen:
                visit(root["$defs"][name], path, name, seen | {name})
            return
        properties = node.get("properties") or {}
        if count and set(properties) == wanted:
            found.append(_Slot(path, definition))
            return
        for key, sub in properties.items():
            if isinstance(sub, dict):
                visit(sub, (*path, key), None, seen)

    visit(root, (), None, frozenset())
    if not found:
        raise ValueError(f"{shape.__name__} has no object keyed by key_0..key_{count - 1}")
    return tuple(found)


def _named(field: dict[str, Any], key: str) -> dict[str, Any]:
    """A keyed field's schema as a field aliased `key` has it: titled as pydantic titles it, `{name}` filled in."""
    out = dict(field)
    if "title" in out:
        out["title"] = key.title().replace("_", " ").strip()  # pydantic's GenerateJsonSchema.get_title_from_name
    if isinstance(out.get("description"), str):
        out["description"] = out["description"].replace(NAME, key)
    return out


def _copied_along(data: Any, paths: list[tuple[str, ...]]) -> Any:
    """`data` with every dict on the paths copied (the caller's reply is never changed)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    heads: dict[str, list[tuple[str, ...]]] = {}
    for path in paths:
        if path:
            heads.setdefault(path[0], []).append(path[1:])
    for head, rests in heads.items():
        if head in out:
            out[head] = _copied_along(out[head], rests)
    return out


def _rename_at(data: Any, path: tuple[str, ...], names: dict[str, str]) -> None:
    """Rename the keys of the object at `path` in `data` by `names`, in place (anything else is left)."""
    for step in path:
        if not isinstance(data, dict) or step not in data:
            return
        data = data[step]
    if isinstance(data, dict):
        renamed = {names.get(key, key): value for key, value in data.items()}
        data.clear()
        data.update(renamed)
