"""The folders the viewer serves: where their files are, where their index lives, and which paths a URL may name.

The viewer only reads a served folder. Its index lives outside it, under
`$XDG_CACHE_HOME/humanllm/viewer/` (default `~/.cache`) or `--index-dir`, named by a hash of the folder's
absolute path, so a read-only folder can be viewed and two folders never share an index.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from humanllm.core import ID_LENGTH
from humanllm.errors import ConfigError
from humanllm.simulation import PLAN_FILE, SPLITS

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
"""How deep below a served folder shards are looked for (a benchmark's OUT/<model>/<run>/ is depth 2)."""
SHARD_KINDS = ("episodes", "judgements", "attempts")
EPISODE_FILE = re.compile(rf"[0-9a-f]{{{ID_LENGTH}}}(-\d+)?\.json")
"""One episode in a JSON file of its own, named by its id: what `humanllm simulate` saves (`<id>.json`,
`<id>-2.json`, ...). Indexed as a record that spans the whole file."""


def whole_file(relative: str) -> bool:
    """Whether a record file holds one record in all of it (an episode file) rather than one per line."""
    return relative.endswith(".json")


def cache_dir() -> Path:
    """Where indexes go by default: `$XDG_CACHE_HOME/humanllm/viewer` (`~/.cache/humanllm/viewer`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "humanllm" / "viewer"


def index_path(folder: Path, index_dir: Path | None = None) -> Path:
    """The SQLite index of `folder`: `<index dir>/<sha256 of its absolute path, 16 hex>.sqlite`."""
    digest = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:16]
    return (index_dir or cache_dir()) / f"{digest}.sqlite"


def check_folders(folders: list[Path]) -> list[Path]:
    """The folders resolved, each an existing directory (else a one-line error), without repeats."""
    out: list[Path] = []
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.exists():
            raise ConfigError(f"{path} does not exist: give a store, split, study or benchmark folder")
        if not path.is_dir():
            raise ConfigError(f"{path} is not a folder: give the folder that holds episodes-*.jsonl")
        resolved = path.resolve()
        if resolved not in out:
            out.append(resolved)
    return out


def within(root: Path, relative: str) -> Path | None:
    """`root/relative` resolved, when it is an existing regular file inside `root`; None otherwise.

    Symbolic links are resolved first, so a link inside the folder that points out of it is refused too.
    """
    if not relative or "\x00" in relative or os.path.isabs(relative):
        return None
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate if candidate.is_file() else None


@dataclass
class Layout:
    """The record files found under one served folder, by kind, as paths relative to it."""

    episodes: list[str] = field(default_factory=list)
    """Store shards (`episodes-*.jsonl`), split files (`id_eval.jsonl`, ... in a split folder) and episode files
    (`<id>.json`, as `simulate` saves them)."""
    judgements: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    """`splits.json` of split folders."""
    studies: list[str] = field(default_factory=list)
    """Folders holding a study's `design.json`."""
    results: list[str] = field(default_factory=list)
    """Evaluation results: `results-*.json` of `eval run`, `scores-*.json` of `eval score`."""


def _kind(name: str, split_folder: bool) -> str | None:
    for kind in SHARD_KINDS:
        if name.startswith(f"{kind}-") and name.endswith(".jsonl"):
            return kind
    if split_folder and name.endswith(".jsonl") and name[: -len(".jsonl")] in SPLITS:
        return "episodes"
    if EPISODE_FILE.fullmatch(name):
        return "episodes"
    return None


def discover(root: Path) -> Layout:
    """Every record file under `root` (to `MAX_DEPTH`), in name order; links and hidden folders are skipped."""
    layout = Layout()
    for current, dirs, files in os.walk(root):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < MAX_DEPTH and not (here / d).is_symlink())
        names = sorted(files)
        split_folder = PLAN_FILE in names or (
            not any(n.startswith("episodes-") for n in names) and any(n[:-6] in SPLITS for n in names)
        )
        for name in names:
            path = here / name
            relative = str(path.relative_to(root))
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                if stat.S_ISLNK(mode):
                    logger.warning("%s is a symbolic link: the viewer does not follow it", path)
                continue
            kind = _kind(name, split_folder)
            if kind is not None:
                getattr(layout, kind).append(relative)
            elif name == PLAN_FILE:
                layout.plans.append(relative)
            elif name == "design.json":
                layout.studies.append(str(here.relative_to(root)) or ".")
            elif name.endswith(".json") and (name.startswith("results-") or name.startswith("scores-")):
                layout.results.append(relative)
    return layout
