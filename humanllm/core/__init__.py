"""The shared vocabulary of humanllm: typed data models used by every subpackage."""

from humanllm.core._conversation import Conversation, Turn
from humanllm.core._episode import Episode, TokenUsage
from humanllm.core._judging import ChecklistItem, Metric, Score, Verdict
from humanllm.core._pattern import (
    CHECKLIST_MAX,
    CHECKLIST_MIN,
    CardOrigin,
    CoreMechanisms,
    Family,
    Manifestation,
    Markers,
    Pattern,
    PatternKind,
    Pole,
    Reference,
    Triggers,
    slugify,
)
from humanllm.core._scenario import CharacterProfile, Scenario, ScenarioChecklist, ScenarioVariation
from humanllm.core._situation import Domain, SituationType

__all__ = [
    "CHECKLIST_MAX",
    "CHECKLIST_MIN",
    "CardOrigin",
    "CharacterProfile",
    "ChecklistItem",
    "Conversation",
    "CoreMechanisms",
    "Domain",
    "Episode",
    "Family",
    "Manifestation",
    "Markers",
    "Metric",
    "Pattern",
    "PatternKind",
    "Pole",
    "Reference",
    "Scenario",
    "ScenarioChecklist",
    "ScenarioVariation",
    "Score",
    "SituationType",
    "TokenUsage",
    "Triggers",
    "Turn",
    "Verdict",
    "slugify",
]
