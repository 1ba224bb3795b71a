"""The pattern library (244 cards) and the pattern-interaction graph. Pure: no LLM calls."""

from humanllm.patterns._assign import Assignment, assign
from humanllm.patterns._files import CardProblem, read_card_file
from humanllm.patterns._graph import Edge, InteractionGraph, Violation, load_graph
from humanllm.patterns._library import (
    BUILTIN_CARDS,
    PATTERNS_DIR_ENV,
    PatternLibrary,
    load_library,
    user_pattern_dirs,
    validate_directory,
)
from humanllm.patterns._relations import Relation, RelationType
from humanllm.patterns._sampler import Bundle, BundleConstraints, BundleSampler

__all__ = [
    "BUILTIN_CARDS",
    "PATTERNS_DIR_ENV",
    "Assignment",
    "Bundle",
    "BundleConstraints",
    "BundleSampler",
    "CardProblem",
    "Edge",
    "InteractionGraph",
    "PatternLibrary",
    "Relation",
    "RelationType",
    "Violation",
    "assign",
    "load_graph",
    "load_library",
    "read_card_file",
    "user_pattern_dirs",
    "validate_directory",
]
