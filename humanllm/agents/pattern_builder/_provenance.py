"""Where each part of a built card came from, saved next to the card as `<id>.provenance.json`.

The card model forbids extra fields, so provenance lives in this sidecar file: which documents
support each section, which model and prompt versions wrote it, when, and every place where a
step's output was unusable and a deterministic fallback stood in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.core import TokenUsage

Source = Literal["corpus", "knowledge", "card"]
"""What the card rests on: the user's documents, the model's own knowledge, or a given card."""

Method = Literal["model", "notes", "extract", "template", "given"]
"""How a section was made: written by the model; assembled from the per-chunk notes after the
reduce step failed; extracted from the documents' sentences; a generic template (last resort);
or taken from the given card."""

SECTIONS: tuple[str, ...] = ("definition", "core_mechanisms", "real_world_manifestation", "triggers", "markers")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentRecord(_Model):
    """One document of the corpus."""

    name: str = Field(description="Path relative to the corpus folder.")
    kind: str = Field(description="text, markdown or pdf.")
    sha256: str = Field(description="Hash of the extracted text.")
    chars: int = Field(description="Characters of text extracted.")
    chunks: int = Field(description="Chunks it was split into.")
    pages: int | None = Field(default=None, description="PDF pages.")


class SectionRecord(_Model):
    """Where one card section came from."""

    method: Method
    documents: list[str] = Field(default_factory=list, description="Documents whose notes fed this section.")
    knowledge: bool = Field(default=False, description="True when written from the model's own knowledge.")
    note: str = Field(default="", description="Why a fallback was used, if one was.")


class ItemChange(_Model):
    """A checklist item that the self-review dropped or rewrote."""

    item: str
    action: Literal["dropped", "rewritten"]
    reason: str
    rewritten_as: str | None = None


class ChecklistRecord(_Model):
    """How the checklist was synthesised and reviewed."""

    method: Literal["model", "given"] = "model"
    rounds: int = Field(default=0, description="Generate-and-review rounds run.")
    generated: int = Field(default=0, description="Items the model proposed in all rounds.")
    neighbours: list[str] = Field(default_factory=list, description="Patterns each item had to be told apart from.")
    changes: list[ItemChange] = Field(default_factory=list)
    filled_from_markers: int = Field(
        default=0, description="Items derived deterministically from the card's markers to reach 12."
    )


class BuildProvenance(_Model):
    """Everything needed to judge or reproduce a built card."""

    pattern: str
    pattern_id: str
    source: Source
    model: str = Field(description="Model spec that wrote the card.")
    created: datetime = Field(description="When the build finished (UTC).")
    humanllm_version: str
    prompt_versions: dict[str, str] = Field(description="Template name -> hash of its text.")
    settings: dict[str, object] = Field(default_factory=dict, description="Model settings (no secrets).")
    corpus: str | None = Field(default=None, description="The corpus folder, for corpus builds.")
    documents: list[DocumentRecord] = Field(default_factory=list)
    skipped_files: dict[str, str] = Field(default_factory=dict, description="Corpus files not read, and why.")
    chunk_chars: int | None = None
    sections: dict[str, SectionRecord] = Field(default_factory=dict)
    checklist: ChecklistRecord = Field(default_factory=ChecklistRecord)
    relations_review: str | None = Field(default=None, description="The file holding proposed relations.")
    relations_proposed: int = 0
    fallbacks: list[str] = Field(default_factory=list, description="Each step whose output was unusable, and why.")
    usage: TokenUsage = Field(default_factory=TokenUsage, description="Tokens spent by this run (cache hits: 0).")
    cache_hits: int = Field(default=0, description="Steps answered from the on-disk cache.")
