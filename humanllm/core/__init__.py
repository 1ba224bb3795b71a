"""The shared vocabulary of humanllm: typed data models used by every subpackage, and the user-file helpers."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.core._concurrency import run_bounded, run_sync
    from humanllm.core._conversation import CHANNELS, Conversation, Segment, Turn, render_turns, seen_by
    from humanllm.core._episode import Episode, TokenUsage
    from humanllm.core._files import (
        as_object,
        atomic_path,
        check_output_dir,
        check_output_file,
        kind_of,
        read_json_file,
        read_text_file,
        read_yaml_file,
        save_or_rescue,
        write_bytes_atomic,
        write_text_atomic,
        write_text_or_rescue,
    )
    from humanllm.core._judging import NOT_APPLICABLE, ChecklistItem, Metric, Score, Verdict
    from humanllm.core._options_file import (
        OptionField,
        option_key,
        read_options_file,
        resolved_options_text,
    )
    from humanllm.core._pattern import (
        CHECKLIST_MAX,
        CHECKLIST_MIN,
        Aspect,
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
    from humanllm.core._situation import SituationType
    from humanllm.core._spec import ID_LENGTH, GrowingSpec, canonical_json, sampling_seed, spec_id
    from humanllm.core._templates import PromptFolder
    from humanllm.core._trinity import Channel, bracketed, render_segments, split_trinity
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "CHANNELS",
    "CHECKLIST_MAX",
    "CHECKLIST_MIN",
    "ID_LENGTH",
    "NOT_APPLICABLE",
    "Aspect",
    "CardOrigin",
    "Channel",
    "CharacterProfile",
    "ChecklistItem",
    "Conversation",
    "CoreMechanisms",
    "Episode",
    "Family",
    "GrowingSpec",
    "Manifestation",
    "Markers",
    "Metric",
    "OptionField",
    "Pattern",
    "PatternKind",
    "Pole",
    "PromptFolder",
    "Reference",
    "Scenario",
    "ScenarioChecklist",
    "ScenarioVariation",
    "Score",
    "Segment",
    "SituationType",
    "TokenUsage",
    "Triggers",
    "Turn",
    "Verdict",
    "as_object",
    "atomic_path",
    "bracketed",
    "canonical_json",
    "check_output_dir",
    "check_output_file",
    "kind_of",
    "option_key",
    "read_json_file",
    "read_options_file",
    "read_text_file",
    "read_yaml_file",
    "render_segments",
    "render_turns",
    "resolved_options_text",
    "run_bounded",
    "run_sync",
    "sampling_seed",
    "save_or_rescue",
    "seen_by",
    "slugify",
    "spec_id",
    "split_trinity",
    "write_bytes_atomic",
    "write_text_atomic",
    "write_text_or_rescue",
]
