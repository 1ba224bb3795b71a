"""The pattern library (244 cards) and the pattern-interaction graph. Pure: no LLM calls."""

from humanllm.patterns._files import CardProblem, read_card_file
from humanllm.patterns._library import (
    BUILTIN_CARDS,
    PATTERNS_DIR_ENV,
    PatternLibrary,
    load_library,
    user_pattern_dirs,
    validate_directory,
)

__all__ = [
    "BUILTIN_CARDS",
    "PATTERNS_DIR_ENV",
    "CardProblem",
    "PatternLibrary",
    "load_library",
    "read_card_file",
    "user_pattern_dirs",
    "validate_directory",
]
