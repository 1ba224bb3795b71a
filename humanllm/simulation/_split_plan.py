"""What `data split` decided, saved as `splits.json` in the split folder, and how a store's splits are found.

A split folder inside the store (the default `STORE/splits`) marks the store as split: `export-sft`
of the store reads the plans of the split folders directly inside it (one small JSON file each)
and leaves their eval episodes out, `generate --ood-topup` draws from their OOD patterns. Nothing
is written into the store's own files, so `data split` stays a reader of the store.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import read_text_file, write_text_atomic
from humanllm.errors import DataError
from humanllm.simulation._records import read_lines

SPLITS = ("train", "id_eval", "ood_eval", "mixed_eval")
EVAL_SPLITS = SPLITS[1:]
PLAN_FILE = "splits.json"


class SplitPlan(BaseModel):
    """The split of one store: its OOD patterns, what each split holds, and which episodes are eval."""

    ood_patterns: list[str] = Field(description="The out-of-domain patterns (4 social-cognitive + 4 traits).")
    seed: int | None = Field(default=None, description="Seed of the OOD ties and the eval sampling.")
    eval_size: int | None = Field(default=None, description="Episodes sampled for id_eval and ood_eval.")
    counts: dict[str, int] = Field(default_factory=dict, description="Split -> episodes in it.")
    stats: dict[str, dict[str, float]] = Field(default_factory=dict, description="Split -> summary statistics.")
    eval_ids: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Eval split -> its episode ids, sorted (plans written before this read them from the files).",
    )

    def shortfalls(self) -> dict[str, int]:
        """id_eval / ood_eval -> how many episodes it lacks to reach `eval_size` (only those short)."""
        if self.eval_size is None:
            return {}
        short = {name: self.eval_size - self.counts.get(name, 0) for name in ("id_eval", "ood_eval")}
        return {name: gap for name, gap in short.items() if gap > 0}


def plan_warnings(plan: SplitPlan, store: Path, target: Path) -> list[str]:
    """What the split lacks (eval splits short of their size) and how to fill it; a split the store cannot see."""
    inside = target.resolve().parent == store.resolve()
    warnings = []
    for name, gap in plan.shortfalls().items():
        have = f"{name} has {plan.counts.get(name, 0)} of {plan.eval_size} episodes"
        if name == "ood_eval":
            named = "" if inside else f' --ood-patterns "{", ".join(plan.ood_patterns)}"'
            warnings.append(
                f"{have}: add OOD-only scenarios with `humanllm generate --out {store} --ood-topup {gap}{named}` "
                "(and your model options), then split again"
            )
        else:
            warnings.append(f"{have}: generate more episodes into {store}, then split again")
    if not inside:
        warnings.append(
            f"{target} is not a folder of {store}: `export-sft {store}` cannot see this split and would train on "
            f"its eval episodes; export {target} instead"
        )
    return warnings


def write_plan(folder: Path, plan: SplitPlan) -> Path:
    path = folder / PLAN_FILE
    write_text_atomic(path, plan.model_dump_json(indent=2))
    return path


def read_plan(folder: Path) -> SplitPlan | None:
    """The plan of a split folder (eval ids filled from its files for older plans); None when there is none."""
    path = folder / PLAN_FILE
    if not path.is_file():
        return None
    try:
        plan = SplitPlan.model_validate_json(read_text_file(path, what="split plan"))
    except ValidationError as exc:
        raise DataError(
            f"{path} is not a split plan ({exc.errors()[0]['msg']}): write it again with `humanllm data split "
            f"STORE --out {folder} --new-ood`"
        ) from exc
    for name in EVAL_SPLITS:
        if name not in plan.eval_ids and (folder / f"{name}.jsonl").is_file():
            plan.eval_ids[name] = sorted(_ids(folder / f"{name}.jsonl"))
    return plan


def _ids(path: Path) -> set[str]:
    ids = set()
    for number, line in read_lines(path):
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{number}: not an episode record ({exc}); run `humanllm data split` again") from exc
    return ids


def is_split_folder(folder: Path) -> bool:
    """A folder `data split` wrote: a plan or split files, and no store shards of its own."""
    if not folder.is_dir() or any(folder.glob("episodes-*.jsonl")):
        return False
    return (folder / PLAN_FILE).is_file() or any((folder / f"{name}.jsonl").is_file() for name in SPLITS)


def store_plans(store: Path) -> list[tuple[Path, SplitPlan]]:
    """(split folder, plan) of every split folder directly inside the store, by folder name."""
    found = []
    for path in sorted(store.glob(f"*/{PLAN_FILE}")):
        plan = read_plan(path.parent)
        if plan is not None:
            found.append((path.parent, plan))
    return found


def store_ood(store: Path) -> list[str]:
    """The OOD patterns of the store's split: one set, or a `DataError` when there is none or several differ."""
    plans = store_plans(store)
    sets = {tuple(plan.ood_patterns) for _, plan in plans}
    if not sets:
        raise DataError(
            f"{store} has no split plan (no STORE/*/{PLAN_FILE}): run `humanllm data split {store}` first, "
            'or name the patterns with --ood-patterns "a, b, ..."'
        )
    if len(sets) > 1:
        folders = ", ".join(str(folder) for folder, _ in plans)
        raise DataError(f"{store} has split folders with different OOD patterns ({folders}): pick with --ood-patterns")
    return list(sets.pop())
