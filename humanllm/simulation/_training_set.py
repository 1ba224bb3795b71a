"""The episodes an SFT export may train on, so that no eval episode leaks into training.

- A split folder: its `train.jsonl` (another split only when asked by name).
- A store split into a folder inside it: every episode except the eval episodes of its split
  plans and those holding one of their OOD patterns (added since, or OOD-only beyond `eval_size`);
  `include_eval` keeps them. Either way they are counted, for a warning.
- A store never split: all its episodes.
Nothing to export is a `DataError` whose message says why and what to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from humanllm.core import Episode
from humanllm.errors import ConfigError, DataError
from humanllm.simulation._episode_file import read_episode_file
from humanllm.simulation._split_plan import SPLITS, SplitPlan, is_split_folder, read_plan, store_plans
from humanllm.simulation._store import EpisodeStore

OOD_HOLDERS = "holding OOD patterns"
"""The `eval_episodes` key of episodes outside every eval split that hold an OOD pattern."""


@dataclass
class TrainingSet:
    """Where the episodes come from; `episodes()` streams them and counts what it leaves out."""

    path: Path
    split: str | None = None
    """The split file exported (a split folder), or None (a store)."""
    plans: list[tuple[Path, SplitPlan]] = field(default_factory=list)
    """The store's split folders and plans whose eval episodes are left out (empty: nothing is)."""
    include_eval: bool = False
    """Keep the eval episodes of `plans` (still counted in `eval_episodes`, for the warning)."""
    eval_episodes: Counter[str] = field(default_factory=Counter)
    """Eval split (or `OOD_HOLDERS`) -> its episodes met (left out unless `include_eval`); filled by `episodes()`."""

    def episodes(self) -> Iterator[Episode]:
        """The episodes to train on; raises `DataError` at the end when there were none."""
        self.eval_episodes.clear()
        count = 0
        for episode in self._read():
            count += 1
            yield episode
        if count == 0:
            raise DataError(self._nothing())

    def warning(self) -> str | None:
        """One line saying which eval episodes were left out, where they are, and how to keep them."""
        if not self.eval_episodes:
            return None
        folders = ", ".join(str(folder) for folder, _ in self.plans)
        if self.include_eval:
            return (
                f"{self.path} has been split ({folders}): kept its eval episodes ({self._counts()}) as --include-eval "
                "asks; a model trained on this file cannot be evaluated on those splits"
            )
        return (
            f"{self.path} has been split ({folders}): left out its eval episodes ({self._counts()}); "
            "pass --include-eval to train on them anyway"
        )

    def _read(self) -> Iterator[Episode]:
        if self.split is not None:
            yield from read_episode_file(self.path / f"{self.split}.jsonl")
            return
        held = {i: name for _, plan in self.plans for name, ids in plan.eval_ids.items() for i in ids}
        ood = {p for _, plan in self.plans for p in plan.ood_patterns}
        for episode in EpisodeStore.open_for_reading(self.path).iter_episodes():
            split = held.get(episode.id) or (OOD_HOLDERS if ood & set(episode.scenario.patterns) else None)
            if split is not None:
                self.eval_episodes[split] += 1
            if split is None or self.include_eval:
                yield episode

    def _nothing(self) -> str:
        if self.split is not None:
            plan = read_plan(self.path)
            where = ", ".join(f"{n} {c}" for n, c in (plan.counts if plan else {}).items() if c and n != self.split)
            went = f" (the split put its episodes in {where})" if where else ""
            store = self.path.parent if any(self.path.parent.glob("episodes-*.jsonl")) else "STORE"
            return (
                f"{self.path / self.split}.jsonl has no episodes{went}: generate more episodes into {store} and "
                f"split again (`humanllm data split {store}`), or export another split with --split"
            )
        if self.eval_episodes:
            return (
                f"every episode of {self.path} is an eval episode of its split ({self._counts()}): generate "
                "more episodes and split again, or pass --include-eval"
            )
        return (
            f"{self.path} has no episodes to export: generate some with `humanllm generate --out {self.path}` or "
            "import them with `humanllm data import`"
        )

    def _counts(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.eval_episodes.items())


def training_set(path: Path, *, split: str | None = None, include_eval: bool = False) -> TrainingSet:
    """The episodes of a store or split folder to train on (see the module docstring)."""
    if not path.is_dir():
        raise DataError(
            f"{path} is not a folder: give a store (from `humanllm generate`) or a split folder (from `humanllm "
            "data split`)"
        )
    if is_split_folder(path):
        if include_eval:
            raise ConfigError("--include-eval is for a store; in a split folder pick the split with --split NAME")
        chosen = split or "train"
        if chosen not in SPLITS:
            raise ConfigError(f"--split {chosen!r}: choose one of {', '.join(SPLITS)}")
        if not (path / f"{chosen}.jsonl").is_file():
            raise DataError(f"{path} has no {chosen}.jsonl: run `humanllm data split STORE --out {path}` again")
        return TrainingSet(path, split=chosen)
    if split is not None:
        folders = [str(folder) for folder, _ in store_plans(path)]
        where = f" ({', '.join(folders)})" if folders else ""
        raise ConfigError(f"--split picks a file of a split folder; {path} is a store: give its split folder{where}")
    return TrainingSet(path, plans=store_plans(path), include_eval=include_eval)
