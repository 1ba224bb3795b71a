"""What a build takes (`BuildConfig`) and what it returns (`BuildResult`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.pattern_builder._provenance import BuildProvenance, Source
from humanllm.core import Family, Pattern, Pole, slugify
from humanllm.errors import ConfigError
from humanllm.llm import DEFAULT_SPEC, ModelSettings, parse_spec
from humanllm.patterns import Relation

CACHE_DIR = ".build-cache"
REVIEW_DIR = Path("review") / "relations"
PROMPT_OVERHEAD_TOKENS = 700
"""Tokens a map prompt needs besides the chunk itself."""


class BuildConfig(BaseModel):
    """What to build, from what, with which model, and where to write it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="The new pattern's name; optional with `card`.")
    corpus: Path | None = Field(default=None, description="Folder of .txt, .md and .pdf documents.")
    from_knowledge: bool = Field(default=False, description="No corpus: write from the model's own knowledge.")
    card: Path | None = Field(default=None, description="A card file without a checklist: synthesise only that.")
    family: Family | None = Field(default=None, description="The family; the model picks one when not given.")
    pole: Pole | None = Field(default=None, description="Traits (Big-Five families) only: the pole.")
    out: Path = Field(description="Folder for the card, its provenance and the relations review file.")
    model: str = Field(default=DEFAULT_SPEC, description="Model spec (see `humanllm models`).")
    settings: ModelSettings = Field(default_factory=ModelSettings)
    max_chars: int = Field(default=1_000_000, ge=1, description="Refuse corpora with more characters of text.")
    chunk_chars: int | None = Field(default=None, ge=500, description="Chunk size; default fits the context.")
    concurrency: int = Field(default=4, ge=1, description="Model calls in flight at once.")
    use_cache: bool = Field(default=True, description="Reuse finished steps from `out/.build-cache`.")
    checklist_rounds: int = Field(default=2, ge=1, le=5, description="Generate-and-review rounds at most.")
    relation_candidates: int = Field(
        default=8, ge=1, le=30, description="Library patterns offered as relation targets."
    )
    neighbours: int = Field(default=5, ge=1, le=10, description="Patterns each checklist item must be told apart from.")

    def source(self) -> Source:
        """Which input the build rests on; raises ConfigError on a bad combination."""
        given = [
            s for s, on in (("corpus", self.corpus), ("knowledge", self.from_knowledge), ("card", self.card)) if on
        ]
        if len(given) != 1:
            raise ConfigError("give exactly one of --corpus DIR, --from-knowledge or --card FILE")
        if given[0] != "card" and not (self.name and slugify(self.name)):
            raise ConfigError("name the new pattern, e.g. humanllm patterns build 'escalation of commitment' ...")
        if given[0] == "card" and (self.family or self.pole):
            raise ConfigError("--family and --pole come from the card itself with --card")
        if self.family is not None and self.family.is_big_five and self.pole is None:
            raise ConfigError(
                f"--family {self.family.value} is a Big-Five dimension: also pass --pole positive|negative"
            )
        if self.pole is not None and (self.family is None or not self.family.is_big_five):
            raise ConfigError("--pole is for traits only: pass a Big-Five --family with it")
        parse_spec(self.model)
        return given[0]  # type: ignore[return-value]

    def resolved_chunk_chars(self) -> int:
        """Characters per chunk: what fits the context window after the prompt and the reply."""
        if self.chunk_chars:
            return self.chunk_chars
        free = self.settings.context_tokens - self.settings.max_tokens - PROMPT_OVERHEAD_TOKENS
        return max(1000, min(12_000, free * 3))


class BuildResult(BaseModel):
    """A built card and where its files went."""

    card: Pattern
    card_path: Path
    provenance_path: Path
    review_path: Path
    relations: list[Relation]
    provenance: BuildProvenance
