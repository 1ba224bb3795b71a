"""What the running viewer holds: the served folders with their indexes, the pattern library, the ratings file."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humanllm.errors import ConfigError
from humanllm.patterns import InteractionGraph, PatternLibrary
from humanllm.viewer._annotations import RatingsFile
from humanllm.viewer._folders import within
from humanllm.viewer._index import StoreIndex

if TYPE_CHECKING:
    from starlette.requests import Request


class NotFound(Exception):
    """A page or file the viewer does not have (answered 404)."""


@dataclass
class Served:
    """One folder given to `humanllm view`, and its index."""

    number: int
    folder: Path
    index: StoreIndex

    @property
    def name(self) -> str:
        return self.folder.name or str(self.folder)

    def file(self, relative: str) -> Path:
        """A file of this folder a URL names; refused (NotFound) when it resolves outside the folder."""
        found = within(self.folder, relative)
        if found is None:
            raise NotFound(f"{relative} is not a file of {self.folder}")
        return found


@dataclass
class Viewer:
    folders: list[Served]
    library: PatternLibrary
    ratings: Path
    refresh_s: float = 1.0
    relation_dirs: list[Path] = field(default_factory=list)

    def served(self, number: int | str) -> Served:
        try:
            served = self.folders[int(number)]
        except (ValueError, IndexError) as exc:
            raise NotFound(f"no folder {number}") from exc
        served.index.refresh_if_stale(self.refresh_s)
        return served

    @functools.cached_property
    def ratings_file(self) -> RatingsFile:
        return RatingsFile(self.ratings)

    @functools.cached_property
    def graph(self) -> InteractionGraph:
        from humanllm.patterns import load_graph

        return load_graph(self.library, self.relation_dirs)


def check_ratings_file(ratings: Path, folders: list[Path]) -> Path:
    """The ratings file, resolved; refused inside a served folder (the viewer never writes a store)."""
    path = Path(ratings).expanduser().resolve()
    for folder in folders:
        if path == folder or folder in path.parents:
            raise ConfigError(
                f"--ratings {ratings} lies inside the served folder {folder}: the viewer never writes there; "
                "give a file outside it"
            )
    return path


def viewer_of(request: Request) -> Viewer:
    viewer: Any = request.app.state.viewer
    return viewer
