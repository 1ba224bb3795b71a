"""Datasets on the Hub: dataset cards that make `datasets.load_dataset(FOLDER)` read the right splits,
Parquet export, and `data push` (the upload mocked: nothing leaves the machine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import datasets
import huggingface_hub
import pytest
from huggingface_hub.utils import filter_repo_objects
from typer.testing import CliRunner

import humanllm
from humanllm.cli._app import register
from humanllm.errors import ConfigError, HubError
from humanllm.patterns import load_library
from humanllm.simulation import (
    CARD_FILE,
    SPLITS,
    EpisodeStore,
    SplitPlan,
    export_parquet,
    push_folder,
    read_front_matter,
    split_store,
    write_card,
)

runner = CliRunner()
TOKEN = "hf_" + "x" * 30


def _load(folder: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    loaded = datasets.load_dataset(str(folder), *args, cache_dir=str(tmp_path / "hf-cache"))
    assert isinstance(loaded, datasets.DatasetDict)
    return dict(loaded)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SplitPlan]:
    """A 6-episode store played on the fakes, split with one episode's patterns as OOD (so several splits fill)."""
    store = tmp_path_factory.mktemp("hub") / "store"
    args = ["generate", "--out", str(store), "--model", "fake", "--n", "3", "--situations", "duty,sociality"]
    result = runner.invoke(register(), [*args, "--turns", "2-2"])
    assert result.exit_code == 0, result.output
    reader = EpisodeStore.open_for_reading(store)
    first = next(reader.iter_episodes())
    plan = split_store(
        reader, load_library(), store / "splits", ood_patterns=list(first.scenario.patterns), eval_size=1
    )
    return store, plan


@pytest.fixture
def store(made: tuple[Path, SplitPlan], tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(made[0], copy)
    return copy


def test_split_folder_loads_its_own_splits_not_one_test_split(made: tuple[Path, SplitPlan], tmp_path: Path) -> None:
    _, plan = made
    filled = [name for name in SPLITS if plan.counts[name]]
    assert len(filled) >= 3, plan.counts  # train, id_eval and ood_eval at least: the case datasets used to merge
    folder = made[0] / "splits"
    assert (folder / CARD_FILE).is_file()  # written by the split itself
    loaded = _load(folder, tmp_path)
    assert list(loaded) == filled
    assert {name: table.num_rows for name, table in loaded.items()} == {name: plan.counts[name] for name in filled}
    assert set(loaded["ood_eval"]["id"]) == set(plan.eval_ids["ood_eval"])
    matter, ours = read_front_matter(folder / CARD_FILE) or ({}, False)
    assert ours and matter["license"] == "other"
    paths = [s["path"] for c in matter["configs"] for s in c["data_files"]]
    assert paths == [f"{name}.jsonl" for name in filled]  # never splits.json, never an empty split


def test_store_loads_its_episodes_and_its_split_folder_as_a_config(store: Path, tmp_path: Path) -> None:
    (store / "notes.txt").write_text("not data")
    write_card(store)
    loaded = _load(store, tmp_path)
    assert list(loaded) == ["train"]
    assert set(loaded["train"]["id"]) == EpisodeStore.open_for_reading(store).done
    assert loaded["train"].num_rows == 6
    splits = _load(store, tmp_path, "splits")
    assert list(splits) == [name for name in SPLITS if (store / "splits" / f"{name}.jsonl").stat().st_size]
    text = (store / CARD_FILE).read_text()
    assert "| default | train | 6 | `episodes-*.jsonl` |" in text
    assert "- writer: fake" in text and 'load_dataset("' in text


def test_the_card_keeps_its_licence_when_the_store_is_written_again(store: Path) -> None:
    result = runner.invoke(register(), ["data", "card", str(store), "--license", "cc-by-4.0"])
    assert result.exit_code == 0, result.output
    assert "config default: train 6" in result.output
    with EpisodeStore.open_for_writing(store, shard="more") as writer:
        writer.update_manifest({"note": "again"})
    matter, _ = read_front_matter(store / CARD_FILE) or ({}, False)
    assert matter["license"] == "cc-by-4.0"


def test_a_readme_someone_else_wrote_is_left_alone(store: Path) -> None:
    (store / CARD_FILE).write_text("# my own card\n")
    with EpisodeStore.open_for_writing(store, shard="more") as writer:
        writer.update_manifest({"note": "again"})  # the automatic card steps aside (with a warning)
    assert (store / CARD_FILE).read_text() == "# my own card\n"
    refused = runner.invoke(register(), ["data", "card", str(store)])
    assert isinstance(refused.exception, ConfigError) and "--force" in str(refused.exception)
    forced = runner.invoke(register(), ["data", "card", str(store), "--force"])
    assert forced.exit_code == 0, forced.output
    assert read_front_matter(store / CARD_FILE) is not None


def test_parquet_export_round_trips_through_datasets(made: tuple[Path, SplitPlan], tmp_path: Path) -> None:
    folder, plan = made[0] / "splits", made[1]
    out = tmp_path / "parquet"
    report = export_parquet(folder, out)
    filled = [name for name in SPLITS if plan.counts[name]]
    assert sorted(Path(p).name for p in report.files) == sorted(f"{name}.parquet" for name in filled)
    loaded = _load(out, tmp_path)
    assert {name: table.num_rows for name, table in loaded.items()} == {name: plan.counts[name] for name in filled}
    first = json.loads((folder / "train.jsonl").read_text().splitlines()[0])
    row = loaded["train"][0]
    assert row["id"] == first["id"] and row["scenario"] == first["scenario"]  # free-key maps survive as JSON
    assert row["conversation"] == first["conversation"]
    again = runner.invoke(register(), ["data", "export", str(folder), "--out", str(out), "--format", "parquet"])
    assert isinstance(again.exception, ConfigError) and "--force" in str(again.exception)


class _Uploads:
    """Stands in for the Hub: records what `create_repo` and `upload_folder` were asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error = error

    def create_repo(self, api: huggingface_hub.HfApi, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, "token": api.token, **kwargs}))

    def upload_folder(self, api: huggingface_hub.HfApi, **kwargs: Any) -> object:
        self.calls.append(("upload_folder", kwargs))
        if self.error is not None:
            raise self.error
        return type("Commit", (), {"oid": "abc123"})()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> _Uploads:
    uploads = _Uploads()
    # plain functions on the class, so each call gets the client (`self`) as a real method would
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda api, *a, **k: uploads.create_repo(api, *a, **k))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", lambda api, **k: uploads.upload_folder(api, **k))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("MY_HUB_TOKEN", TOKEN)
    return uploads


def _uploaded(folder: Path, kwargs: dict[str, Any]) -> set[str]:
    """What `upload_folder` would send: the folder's files through its own allow-pattern filter."""
    present = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return set(filter_repo_objects(present, allow_patterns=kwargs["allow_patterns"]))


def test_push_uploads_the_card_metadata_and_data_only(store: Path, hub: _Uploads) -> None:
    (store / "notes.txt").write_text("not data")
    (store / "episodes-000of001.jsonl.torn").write_text("{torn")
    args = ["data", "push", str(store), "me/episodes", "--private", "--token-env", "MY_HUB_TOKEN"]
    result = runner.invoke(register(), args)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and "https://huggingface.co/datasets/me/episodes" in result.output
    (create, created), (upload, kwargs) = hub.calls
    assert create == "create_repo" and created["repo_type"] == "dataset" and created["private"] is True
    assert created["token"] == TOKEN and created["exist_ok"] is True
    assert upload == "upload_folder" and kwargs["repo_type"] == "dataset" and kwargs["repo_id"] == "me/episodes"
    split_files = {f"splits/{n}.jsonl" for n in SPLITS if (store / "splits" / f"{n}.jsonl").stat().st_size}
    expected = {CARD_FILE, "manifest.json", "episodes-000of001.jsonl", "splits/splits.json", *split_files}
    assert _uploaded(store, kwargs) == expected


def test_a_failed_upload_is_one_line_without_the_token(store: Path, hub: _Uploads) -> None:
    hub.error = RuntimeError(f"401 Unauthorized for token {TOKEN}\nsecond line")
    with pytest.raises(HubError) as caught:
        push_folder(store, "me/episodes", token_env="MY_HUB_TOKEN")
    message = str(caught.value)
    assert TOKEN not in message and "\n" not in message and "401 Unauthorized" in message


def test_a_bad_repo_id_a_missing_token_or_offline_mode_is_one_line(
    store: Path, hub: _Uploads, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="not a Hub repo id"):
        push_folder(store, "not a repo id", token_env="MY_HUB_TOKEN")
    with pytest.raises(HubError, match=r"\$NOT_SET is not set"):
        push_folder(store, "me/episodes", token_env="NOT_SET")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE is set"):
        push_folder(store, "me/episodes", token_env="MY_HUB_TOKEN")
    assert hub.calls == []


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "OPENAI_"))}
    source = str(Path(humanllm.__file__).resolve().parents[1])  # this checkout, not another installed copy
    clean.update(HOME=str(cwd / "home"), HF_HOME=str(cwd / "hf"), NO_COLOR="1", PYTHONPATH=source, **env)
    proc = subprocess.run(
        [sys.executable, "-m", "humanllm", *args], cwd=cwd, env=clean, capture_output=True, text=True, check=False
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def test_card_and_push_exit_codes_from_the_console_script(made: tuple[Path, SplitPlan], tmp_path: Path) -> None:
    store = str(made[0])
    (tmp_path / "empty").mkdir()
    cases = [
        (["data", "card", str(tmp_path / "empty")], 1, "holds no episodes"),
        (["data", "push", store], 2, "Missing argument 'repo_id'"),
        (["data", "push", store, "me/episodes"], 1, "no Hugging Face token"),
    ]
    for args, code, says in cases:
        proc = _cli(tmp_path, *args)
        assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        assert says in proc.stdout + proc.stderr, (args, proc.stderr)
