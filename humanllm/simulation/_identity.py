"""Episode identity: a content hash of everything that determines an episode."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from humanllm.agents import template_version

ID_LENGTH = 16

EPISODE_TEMPLATES = (
    "scenario_draft",
    "scenario_checklist",
    "scenario_variation",
    "character_system",
    "character_turn",
    "author",
)
"""The prompts that shape an episode: changing one changes every episode id (others, such as the
judge's or the SFT export's, do not)."""


def template_versions() -> dict[str, str]:
    """Hash of each prompt template that determines an episode."""
    return {name: template_version(name) for name in EPISODE_TEMPLATES}


def episode_id(
    *,
    patterns: list[str],
    assignment: list[list[str]],
    situation: str,
    seed: int,
    models: dict[str, str],
    params: Mapping[str, object],
) -> str:
    """Stable hex id: the same inputs always give the same id, any change gives another."""
    payload = {
        "patterns": sorted(patterns),
        "assignment": assignment,
        "situation": situation,
        "seed": seed,
        "models": dict(sorted(models.items())),
        "templates": template_versions(),
        "params": dict(sorted(params.items())),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:ID_LENGTH]
