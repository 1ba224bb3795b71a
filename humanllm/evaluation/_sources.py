"""Where stored episodes come from: a store folder, a split folder or one JSONL file, with split labels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from humanllm.core import Episode, read_json_file
from humanllm.errors import DataError
from humanllm.simulation import classify
from humanllm.simulation import read_episode_file as read_episodes

EVAL_SPLITS = ("id_eval", "ood_eval", "mixed_eval")
SPLIT_LABELS = {"id_eval": "id", "ood_eval": "ood", "mixed_eval": "mixed", "train": "train"}
"""Split file stem -> the short label used in breakdowns."""
_CLASSES = {"id_or_train": "id", "ood_eval": "ood", "mixed_eval": "mixed"}


@dataclass(frozen=True)
class EpisodeSource:
    """Stored episodes to judge, and where their judgements go."""

    files: tuple[Path, ...]
    """JSONL files of episodes."""
    judgements: Path
    """The folder the judgements are written to (next to the episodes)."""
    labels: tuple[str | None, ...]
    """Split label per file; None = classify each episode by the store's OOD patterns."""
    ood_patterns: frozenset[str] = frozenset()

    def describe(self) -> str:
        """The source's files, for messages: one path, or the folder and how many files."""
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{self.files[0].parent} ({len(self.files)} files)"

    def split_labels(self) -> tuple[str, ...]:
        """The splits this source should have: its files' labels, or id/ood/mixed for a store split by OOD patterns."""
        if any(label is None for label in self.labels):
            return ("id", "ood", "mixed") if self.ood_patterns else ()
        return tuple(dict.fromkeys(label for label in self.labels if label))

    def episodes(self) -> Iterator[tuple[Episode, str]]:
        """Every episode with its split label ('id', 'ood', 'mixed', 'train' or 'all')."""
        for path, label in zip(self.files, self.labels, strict=True):
            for episode in read_episodes(path):
                yield episode, label or self._classify(episode)

    def _classify(self, episode: Episode) -> str:
        carried = episode.config.get("split")
        if isinstance(carried, str) and carried:
            # benchmark episodes carry the split of the episode they replay; imported ones their file's name
            return SPLIT_LABELS.get(carried, carried)
        if not self.ood_patterns:
            return "all"
        return _CLASSES[classify(episode, set(self.ood_patterns))]


def _ood_of(store: Path) -> frozenset[str]:
    plan = store / "splits" / "splits.json"
    if not plan.exists():
        return frozenset()
    raw = read_json_file(plan, what="split plan")
    patterns = raw.get("ood_patterns", []) if isinstance(raw, dict) else None
    if not isinstance(patterns, list) or not all(isinstance(name, str) for name in patterns):
        raise DataError(f"{plan} is not a split plan (no list of ood_patterns): re-run `humanllm data split`")
    return frozenset(patterns)


def find_source(path: Path) -> EpisodeSource:
    """Read a store folder (episodes-*.jsonl), a split folder (id_eval.jsonl, ...) or a JSONL file."""
    path = Path(path)
    if path.is_file():
        return EpisodeSource(files=(path,), judgements=path.parent, labels=(SPLIT_LABELS.get(path.stem, path.stem),))
    if path.is_dir():
        stored = sorted(path.glob("episodes-*.jsonl"))
        if stored:
            return EpisodeSource(
                files=tuple(stored), judgements=path, labels=(None,) * len(stored), ood_patterns=_ood_of(path)
            )
        splits = [path / f"{name}.jsonl" for name in EVAL_SPLITS if (path / f"{name}.jsonl").exists()]
        if splits:
            return EpisodeSource(
                files=tuple(splits), judgements=path, labels=tuple(SPLIT_LABELS[p.stem] for p in splits)
            )
    raise DataError(
        f"{path} holds no episodes: give a store folder (episodes-*.jsonl, from `humanllm generate`), a split "
        "folder (id_eval.jsonl ..., from `humanllm data split`) or one JSONL file of episodes"
    )
