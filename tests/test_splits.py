"""The paper's splits (REFERENCE §6), OOD top-ups, SFT exports that cannot leak eval episodes, and
results that name the splits they average."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from humanllm.cli import _exit
from humanllm.cli import run as cli_run
from humanllm.core import Episode, PatternKind
from humanllm.errors import InvalidBundleError
from humanllm.evaluation import EvalResults, MetricSummary, average_splits, results_markdown, split_warnings
from humanllm.patterns import BundleConstraints, BundleSampler, InteractionGraph, load_graph, load_library
from humanllm.simulation import choose_ood, ood_jobs, read_plan, store_plans

SMALL = ["--model", "fake", "--situations", "duty", "--turns", "2-2"]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def humanllm(capsys: pytest.CaptureFixture[str], *args: str, code: int = _exit.OK) -> tuple[str, str]:
    """Run the CLI in this process with its real exit code; returns (stdout, stderr)."""
    got = cli_run(list(args))
    out, err = capsys.readouterr()
    assert got == code, f"exit {got}, wanted {code}\n{out}\n{err}"
    return out, err


def _ids(path: Path) -> set[str]:
    return {Episode.model_validate_json(line).id for line in path.read_text().splitlines() if line.strip()}


def _sft_sources(path: Path) -> int:
    return len(path.read_text().splitlines())


# --- choosing the OOD patterns --------------------------------------------------------------------


def test_ood_traits_come_from_four_distinct_big_five_dimensions() -> None:
    library = load_library()
    # every least frequent trait is on one dimension: the old choice took all four from it
    counts = Counter({name: 1 for name in ("organized", "haphazard", "careless", "neat")})
    counts.update({card.name: 9 for card in library if card.kind is PatternKind.TRAIT and card.name not in counts})
    counts.update({card.name: 5 for card in library if card.kind is PatternKind.SOCIAL_COGNITIVE})
    chosen = choose_ood(counts, library)
    traits = [library.get(name) for name in chosen[4:]]
    assert len(chosen) == 8 and all(card.kind is PatternKind.TRAIT for card in traits)
    assert len({card.dimension for card in traits}) == 4
    assert sum(card.dimension.value == "conscientiousness" for card in traits if card.dimension) == 1
    assert choose_ood(counts, library) == chosen  # seed 42: the same choice every time
    assert all(library.get(name).kind is PatternKind.SOCIAL_COGNITIVE for name in chosen[:4])


def test_ood_prefers_patterns_no_episode_uses_then_the_least_frequent() -> None:
    library = load_library()
    counts = Counter({card.name: 3 for card in library})
    unused = ["sunk cost fallacy", "halo effect"]
    for name in unused:
        del counts[name]
    counts["anchoring"] = 1
    chosen = choose_ood(counts, library)
    assert set(unused) | {"anchoring"} <= set(chosen[:4])  # the old choice skipped unused patterns


# --- drawing OOD-only bundles ---------------------------------------------------------------------


def test_ood_jobs_draw_valid_bundles_only_among_the_ood_patterns(graph: InteractionGraph) -> None:
    ood = choose_ood(Counter(), graph.library)
    jobs = ood_jobs(graph, 12, ["duty", "intellect"], 3, ood)
    assert len(jobs) == 12 and [j.situation for j in jobs[:3]] == ["duty", "intellect", "duty"]
    for job in jobs:
        assert set(job.patterns) <= set(ood) and len(job.patterns) >= 2
        assert graph.violations(job.patterns) == []
    assert ood_jobs(graph, 12, ["duty", "intellect"], 3, ood) == jobs  # a re-run plans the same jobs
    outside = next(card.name for card in graph.library if card.name not in ood)
    with pytest.raises(InvalidBundleError, match="not among"):
        BundleSampler(graph, among=ood, constraints=BundleConstraints(include=[outside]))


# --- the whole flow from the README, on the fake model ----------------------------------------------


@pytest.fixture(scope="module")
def split_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 episodes split with eval size 3: train, id_eval and an empty ood_eval (its patterns are unused)."""
    store = tmp_path_factory.mktemp("split") / "store"
    assert cli_run(["generate", "--out", str(store), "--n", "30", *SMALL]) == _exit.OK
    assert cli_run(["data", "split", str(store), "--eval-size", "3"]) == _exit.OK
    return store


@pytest.fixture
def split_store_dir(split_once: Path, tmp_path: Path) -> Path:
    """A copy of `split_once` for a test to write into."""
    return Path(shutil.copytree(split_once, tmp_path / "store"))


def test_a_short_ood_eval_is_a_warning_naming_the_topup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    humanllm(capsys, "generate", "--out", str(store), "--n", "4", *SMALL)
    _, err = humanllm(capsys, "data", "split", str(store), "--eval-size", "3")
    assert (
        f"ood_eval has 0 of 3 episodes: add OOD-only scenarios with `humanllm generate --out {store} --ood-topup 3`"
        in err
    )
    _, err = humanllm(capsys, "data", "split", str(store), "--out", str(tmp_path / "elsewhere"), "--eval-size", "3")
    assert "--ood-patterns" in err and "cannot see this split" in err


def test_ood_topup_fills_ood_eval_and_resumes(
    split_store_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = split_store_dir
    first = read_plan(store / "splits")
    assert first is not None and first.counts["ood_eval"] == 0 and first.counts["train"] == 27
    topup = ["generate", "--out", str(store), "--ood-topup", "3", *SMALL, "--json"]
    out, _ = humanllm(capsys, *topup)
    assert json.loads(out)["done"] == 3
    out, _ = humanllm(capsys, *topup)
    assert json.loads(out)["already_done"] == 3 and json.loads(out)["done"] == 0  # same jobs, same ids
    out, _ = humanllm(capsys, "data", "split", str(store), "--eval-size", "3", "--json")
    again = json.loads(out)
    assert again["ood_patterns"] == first.ood_patterns  # kept: the top-up is OOD-only for this split
    assert again["counts"]["ood_eval"] == 3 and again["warnings"] == []
    assert again["counts"]["train"] == first.counts["train"]
    ood = set(first.ood_patterns)
    for line in (store / "splits" / "ood_eval.jsonl").read_text().splitlines():
        assert set(json.loads(line)["scenario"]["patterns"]) <= ood
    # without a split plan, --ood-topup needs the patterns named
    bare = tmp_path / "bare"
    _, err = humanllm(capsys, "generate", "--out", str(bare), "--ood-topup", "1", *SMALL, code=_exit.ERROR)
    assert "no split plan" in err and "--ood-patterns" in err
    named = ["--ood-patterns", ", ".join(first.ood_patterns)]
    out, _ = humanllm(capsys, "generate", "--out", str(bare), "--ood-topup", "1", *named, *SMALL, "--json")
    assert json.loads(out)["done"] == 1
    humanllm(capsys, "generate", "--out", str(bare), "--n", "1", "--ood-topup", "1", *SMALL, code=_exit.USAGE)


def test_new_ood_chooses_again(split_store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = split_store_dir
    first = read_plan(store / "splits")
    assert first is not None
    humanllm(capsys, "generate", "--out", str(store), "--ood-topup", "2", *SMALL)
    out, _ = humanllm(capsys, "data", "split", str(store), "--eval-size", "3", "--new-ood", "--json")
    assert json.loads(out)["ood_patterns"] != first.ood_patterns  # its patterns are used now


# --- SFT export that cannot leak ------------------------------------------------------------------


def test_export_sft_of_a_split_folder_exports_its_train_split(
    split_store_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    splits = split_store_dir / "splits"
    sft = tmp_path / "sft.jsonl"
    out, _ = humanllm(capsys, "data", "export-sft", str(splits), "--out", str(sft), "--json")
    report = json.loads(out)
    assert report["split"] == "train" and report["episodes"] == len(_ids(splits / "train.jsonl")) == 27
    assert report["records"] == _sft_sources(sft) > 0
    out, _ = humanllm(
        capsys, "data", "export-sft", str(splits), "--split", "id_eval", "--out", str(tmp_path / "i.jsonl")
    )
    assert "3 episodes of the id_eval split" in out
    humanllm(capsys, "data", "export-sft", str(splits), "--split", "nope", "--out", str(tmp_path / "x.jsonl"), code=2)


def test_export_sft_of_a_split_store_leaves_its_eval_episodes_out(
    split_store_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = split_store_dir
    humanllm(capsys, "generate", "--out", str(store), "--ood-topup", "4", *SMALL)  # 4 OOD-only, not split yet
    out, _ = humanllm(capsys, "data", "export-sft", str(store), "--out", str(tmp_path / "a.jsonl"), "--json")
    report = json.loads(out)
    assert report["episodes"] == 27 and report["eval_episodes"] == {"id_eval": 3, "holding OOD patterns": 4}
    _, err = humanllm(capsys, "data", "export-sft", str(store), "--out", str(tmp_path / "a2.jsonl"))
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and warning[0] == "warning: " + report["warning"]
    assert "3 id_eval" in warning[0] and str(store / "splits") in warning[0] and "--include-eval" in warning[0]
    out, _ = humanllm(
        capsys, "data", "export-sft", str(store), "--out", str(tmp_path / "b.jsonl"), "--include-eval", "--json"
    )
    assert json.loads(out)["episodes"] == 34 and "kept its eval episodes" in json.loads(out)["warning"]
    assert [folder for folder, _ in store_plans(store)] == [store / "splits"]


def test_exporting_nothing_is_an_error_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    humanllm(capsys, "generate", "--out", str(store), "--n", "2", *SMALL)
    humanllm(capsys, "data", "split", str(store))  # 2 episodes, eval size 50: all in id_eval
    sft = tmp_path / "sft.jsonl"
    for folder, needle in ((store / "splits", "train.jsonl has no episodes"), (store, "every episode of")):
        _, err = humanllm(capsys, "data", "export-sft", str(folder), "--out", str(sft), code=_exit.ERROR)
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and needle in lines[0] and "split again" in lines[0], err
    assert not sft.exists()
    _, err = humanllm(
        capsys, "data", "export-sft", str(store / "splits"), "--include-eval", "--out", str(sft), code=_exit.ERROR
    )
    assert "--include-eval is for a store" in err


# --- results name the splits they average ---------------------------------------------------------


def _summary(value: float | None) -> MetricSummary:
    return MetricSummary(mean=value, sd=0.0, runs=[value], samples=0 if value is None else 1)


def test_average_splits_names_what_it_averages_and_flags_an_empty_split() -> None:
    by_split = {"id": {"ipe": _summary(10.0)}, "mixed": {"ipe": _summary(30.0)}}
    average = average_splits(by_split, ("id", "ood", "mixed"), metrics=("ipe",))
    assert average.splits == ["id", "mixed"] and average.empty == ["ood"]
    assert average.metrics["ipe"].mean == pytest.approx(20.0)
    full = average_splits({**by_split, "ood": {"ipe": _summary(50.0)}}, ("id", "ood", "mixed"), metrics=("ipe",))
    assert full.empty == [] and full.metrics["ipe"].mean == pytest.approx(30.0)


def test_eval_results_name_their_splits_and_warn_when_one_is_empty(
    split_store_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    splits = split_store_dir / "splits"  # id_eval has 3 episodes, ood_eval and mixed_eval none
    out, err = humanllm(capsys, "eval", "score", str(splits), "--judge", "fake", "--runs", "1", "--json")
    report = json.loads(out)["results"]["reports"]["splits"]
    assert report["split_average_of"] == ["id"] and report["empty_splits"] == ["ood", "mixed"]
    out, err = humanllm(capsys, "eval", "score", str(splits), "--judge", "fake", "--runs", "1")
    assert "warning: splits: splits ood, mixed have no scored sample" in err and "--ood-topup" in err
    assert "averaged" in out and "empty" in out  # the Results table names them (wrapped at 80 columns)
    results = EvalResults.load(splits / "scores-fake.json")
    assert len(split_warnings(results)) == 1 and "### Warnings" in results_markdown(results)
    assert "| id; ood, mixed empty |" in results_markdown(results)  # the Results table names them
    bench = tmp_path / "bench"
    run = ["eval", "run", "--model", "fake", "--judge", "fake", "--data", str(splits), "--out", str(bench)]
    _, err = humanllm(capsys, *run, "--runs", "1", "--limit", "1")
    assert "warning: fake: splits ood, mixed have no scored sample" in err
    played = EvalResults.load(bench / "results-replay.json").reports["fake"]
    assert played.split_average_of == ["id"] and played.empty_splits == ["ood", "mixed"]
    assert "### Warnings" in (bench / "results-replay.md").read_text()
