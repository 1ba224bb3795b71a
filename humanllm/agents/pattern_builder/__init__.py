"""Pattern construction from literature: build a new card and its checklist the paper's way.

Reads the user's documents (or the model's own knowledge), summarises them map-reduce style into
the card's sections with per-section provenance, synthesises a 12-15 item checklist and reviews it
against the neighbouring patterns, and proposes relations for a human to review. The result is a
card that `humanllm patterns validate` accepts and `--patterns-dir` loads.
"""

from humanllm.agents.pattern_builder._cache import StepCache
from humanllm.agents.pattern_builder._checklist import Neighbour, synthesise_checklist
from humanllm.agents.pattern_builder._config import CACHE_DIR, REVIEW_DIR, BuildConfig, BuildResult
from humanllm.agents.pattern_builder._corpus import Chunk, Corpus, Document, chunk_corpus, read_corpus
from humanllm.agents.pattern_builder._pipeline import abuild_pattern, build_pattern
from humanllm.agents.pattern_builder._proposals import write_review
from humanllm.agents.pattern_builder._provenance import BuildProvenance, ChecklistRecord, SectionRecord
from humanllm.agents.pattern_builder._steps import BuildProgress, NullProgress

__all__ = [
    "CACHE_DIR",
    "REVIEW_DIR",
    "BuildConfig",
    "BuildProgress",
    "BuildProvenance",
    "BuildResult",
    "ChecklistRecord",
    "Chunk",
    "Corpus",
    "Document",
    "Neighbour",
    "NullProgress",
    "SectionRecord",
    "StepCache",
    "abuild_pattern",
    "build_pattern",
    "chunk_corpus",
    "read_corpus",
    "synthesise_checklist",
    "write_review",
]
