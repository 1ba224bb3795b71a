"""Run specs: the id of a unit of work is the hash of the canonical JSON of its typed spec."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

ID_LENGTH = 16


def canonical_json(spec: BaseModel | Mapping[str, Any]) -> str:
    """The spec as JSON with sorted keys and no spaces: the same spec always gives the same text.

    A stored spec (the dict read back from a record) gives the same text as the model it was dumped from.
    """
    data = spec.model_dump(mode="json") if isinstance(spec, BaseModel) else dict(spec)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_id(spec: BaseModel | Mapping[str, Any]) -> str:
    """Stable hex id of a spec: the same spec always gives the same id, any change gives another."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:ID_LENGTH]


def sampling_seed(spec: BaseModel) -> int:
    """A sampling seed derived from a spec (its id read as a number, within 31 bits)."""
    return int(spec_id(spec), 16) % 2**31


class GrowingSpec(BaseModel):
    """A spec that gained fields after records were stored: each field named in `omitted_at_default` is left
    out of the spec's JSON while it holds its default, so every record made before the field existed keeps
    its id (the id is the hash of that JSON)."""

    omitted_at_default: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_new_fields_at_default(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        for name in self.omitted_at_default:
            if name in data and data[name] == fields[name].get_default(call_default_factory=True):
                del data[name]
        return data
