"""Who a factor names: `protagonist`, `supporting` (the first), `supporting:N` (1-based) or a character's name."""

from __future__ import annotations

import re

from humanllm.core import Scenario
from humanllm.errors import ConfigError

_SUPPORTING = re.compile(r"^supporting(?::(\d+))?$")


def slot_of(reference: str, characters: int) -> int:
    """The character slot (0 = protagonist) a role reference names, in a scene of `characters` characters."""
    ref = reference.strip().lower()
    if ref == "protagonist":
        return 0
    match = _SUPPORTING.match(ref)
    if match is None:
        raise ConfigError(
            f"character {reference!r}: a written scenario has no names yet; say protagonist, supporting or supporting:N"
        )
    slot = int(match.group(1) or 1)
    if not 1 <= slot < characters:
        raise ConfigError(f"character {reference!r}: the scene has {characters - 1} supporting character(s)")
    return slot


def character_named(reference: str, scenario: Scenario) -> str:
    """The name of the character a reference names in this scenario (names match in any case)."""
    cast = [p.name for p in scenario.characters]
    ref = reference.strip()
    for name in cast:
        if name.lower() == ref.lower():
            return name
    try:
        return cast[slot_of(ref, len(cast))]
    except ConfigError:
        pass
    raise ConfigError(
        f"character {reference!r} is not in the scene: say protagonist, supporting, supporting:N or one of "
        f"{', '.join(cast)}"
    )
