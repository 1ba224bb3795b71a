"""The pattern library (244 cards) and the pattern-interaction graph. Pure: no LLM calls."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.patterns._assign import Assignment, assign
    from humanllm.patterns._family_guess import FamilyGuess, guess_family
    from humanllm.patterns._files import CardProblem, card_files, read_card_file
    from humanllm.patterns._graph import Edge, InteractionGraph, Violation, load_graph
    from humanllm.patterns._graph_export import ExportFormat, export_graph, graph_statistics
    from humanllm.patterns._importer import (
        FamilyChoice,
        ImportedCard,
        ImportReport,
        import_released_files,
        parse_family_option,
    )
    from humanllm.patterns._library import (
        BUILTIN_CARDS,
        PATTERNS_DIR_ENV,
        DirectoryCheck,
        PatternLibrary,
        card_warnings,
        check_directory,
        load_library,
        user_pattern_dirs,
        validate_directory,
    )
    from humanllm.patterns._paper import PaperRecipe
    from humanllm.patterns._plot import draw
    from humanllm.patterns._recipe_names import BundleRecipe
    from humanllm.patterns._recipes import BundleSource, bundle_source
    from humanllm.patterns._relation_types import INTERACTION_TYPES, interaction_type
    from humanllm.patterns._relations import (
        BUILTIN_RELATIONS,
        Relation,
        RelationType,
        check_relation_files,
        relation_warnings,
    )
    from humanllm.patterns._sampler import Bundle, BundleConstraints, BundleSampler
    from humanllm.patterns._similarity import DEFAULT_THRESHOLD, NearDuplicate, near_duplicate_items
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BUILTIN_CARDS",
    "BUILTIN_RELATIONS",
    "DEFAULT_THRESHOLD",
    "INTERACTION_TYPES",
    "PATTERNS_DIR_ENV",
    "Assignment",
    "Bundle",
    "BundleConstraints",
    "BundleRecipe",
    "BundleSampler",
    "BundleSource",
    "CardProblem",
    "DirectoryCheck",
    "Edge",
    "ExportFormat",
    "FamilyChoice",
    "FamilyGuess",
    "ImportReport",
    "ImportedCard",
    "InteractionGraph",
    "NearDuplicate",
    "PaperRecipe",
    "PatternLibrary",
    "Relation",
    "RelationType",
    "Violation",
    "assign",
    "bundle_source",
    "card_files",
    "card_warnings",
    "check_directory",
    "check_relation_files",
    "draw",
    "export_graph",
    "graph_statistics",
    "guess_family",
    "import_released_files",
    "interaction_type",
    "load_graph",
    "load_library",
    "near_duplicate_items",
    "parse_family_option",
    "read_card_file",
    "relation_warnings",
    "user_pattern_dirs",
    "validate_directory",
]
