from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from humanllm.agents.director import TurnRules
from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.evaluation import verify_store
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig
from humanllm.simulation._jobs import plan_jobs, sample_jobs
from humanllm.simulation._released import episode_to_released, import_released
from humanllm.simulation._runner import RunOptions, run_batch
from humanllm.simulation._store import EpisodeStore, repair_torn_tail
from humanllm.testing import MockOpenAIServer

runner = CliRunner()


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _lines_valid(store: Path) -> list[str]:
    verified = verify_store(store)
    assert verified.ok, [m.line() for m in verified.mismatches]  # every id is the hash of its stored spec
    ids = []
    for path in store.glob("episodes-*.jsonl"):
        for line in path.read_text().splitlines():
            ids.append(Episode.model_validate_json(line).id)
    return ids


def test_200_episodes_with_20_percent_faults_all_complete(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(fault_rate=0.2, timeout_sleep_s=1.2, seed=1) as server:
        config = SimulationConfig(
            models=RoleSpecs(writer="openai:mock", character="openai:mock"),
            rules=TurnRules(min_turns=2, max_turns=2),
            settings=ModelSettings(base_url=server.base_url, timeout_s=0.8, max_retries=4),
        )
        planned = plan_jobs(
            config,
            sample_jobs(
                graph,
                25,
                ["duty", "intellect", "adversity", "mating", "positivity", "negativity", "deception", "sociality"],
                0,
            ),
            graph,
        )
        assert len(planned) == 200
        store = EpisodeStore(tmp_path / "store")
        options = RunOptions(concurrency=32, episode_retries=5, backoff_s=0.05)
        report = asyncio.run(run_batch(store, planned, graph, RoleModels.build(config), options))
        faults = sum(v for k, v in server.counts.items() if k != "requests")
    assert report.done == 200 and report.failed == 0
    assert faults > 0.1 * server.counts["requests"]  # faults really were injected
    ids = _lines_valid(tmp_path / "store")
    assert sorted(ids) == sorted(p.id for _, p in planned)


def test_kill_9_mid_run_then_resume_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "store"
    with MockOpenAIServer(latency_s=0.05) as server:
        args = [
            sys.executable,
            "-m",
            "humanllm",
            "generate",
            "--out",
            str(out),
            "--n",
            "30",
            "--situations",
            "duty",
            "--turns",
            "2-2",
            "--seed",
            "5",
            "--concurrency",
            "4",
            "--model",
            "openai:mock",
            "--base-url",
            server.base_url,
        ]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            written = sum(len(p.read_text().splitlines()) for p in out.glob("episodes-*.jsonl")) if out.exists() else 0
            if written >= 5:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 5 <= written < 30
        shard = next(out.glob("episodes-*.jsonl"))
        with shard.open("a") as handle:  # what a kill during a write leaves behind
            handle.write('{"id": "torn-half-written-rec')
        resumed = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["already_done"] >= 5 and report["done"] + report["already_done"] == 30
    ids = _lines_valid(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(ids) == sorted(manifest["requested_ids"]) and len(set(ids)) == 30


def test_torn_tail_is_cut_at_the_last_newline(tmp_path: Path) -> None:
    path = tmp_path / "episodes-x.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "trunc')
    assert repair_torn_tail(path) > 0
    assert path.read_text() == '{"id": "a"}\n{"id": "b"}\n'
    assert repair_torn_tail(path) == 0


def test_shards_merged_equal_an_unsharded_run(tmp_path: Path) -> None:
    base = ["--model", "fake", "--n", "12", "--situations", "duty,sociality", "--turns", "2-3", "--seed", "3"]
    whole, part0, part1, merged = (tmp_path / n for n in ("whole", "s0", "s1", "merged"))
    for out, shard in ((whole, None), (part0, "0/2"), (part1, "1/2")):
        args = ["generate", "--out", str(out), *base, *(["--shard", shard] if shard else [])]
        assert runner.invoke(register(), args).exit_code == 0
    ids0, ids1 = set(_lines_valid(part0)), set(_lines_valid(part1))
    assert ids0 and ids1 and not ids0 & ids1
    assert (
        runner.invoke(register(), ["data", "merge", str(part0), str(part1), str(part0), "--out", str(merged)]).exit_code
        == 0
    )
    by_id = {e.id: e for e in EpisodeStore(whole).iter_episodes()}
    merged_eps = list(EpisodeStore(merged).iter_episodes())
    assert len(merged_eps) == 24 and {e.id: e for e in merged_eps} == by_id


def test_budget_stops_cleanly_and_status_reports(tmp_path: Path) -> None:
    out = tmp_path / "store"
    result = runner.invoke(
        register(),
        [
            "generate",
            "--out",
            str(out),
            "--model",
            "fake",
            "--n",
            "20",
            "--situations",
            "duty",
            "--turns",
            "2-2",
            "--concurrency",
            "1",
            "--budget-tokens",
            "5000",
            "--json",
        ],
    )
    report = json.loads(result.output)
    assert report["stopped_by_budget"] and 0 < report["done"] < 20
    status = json.loads(runner.invoke(register(), ["data", "status", str(out), "--json"]).output)
    assert status["done"] == report["done"] and status["remaining"] == 20 - report["done"]


def test_failures_are_recorded_in_the_store_and_retried(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(fault_rate=1.0, faults=("malformed",)) as server:
        config = SimulationConfig(
            models=RoleSpecs(writer="openai:mock", character="openai:mock"),
            rules=TurnRules(min_turns=2, max_turns=2),
            settings=ModelSettings(base_url=server.base_url, max_retries=0),
        )
        planned = plan_jobs(config, sample_jobs(graph, 2, ["duty"], 0), graph)
        store = EpisodeStore(tmp_path)
        report = asyncio.run(
            run_batch(store, planned, graph, RoleModels.build(config), RunOptions(episode_retries=1, backoff_s=0))
        )
    assert report.failed == 2 and report.done == 0
    assert len(store.failures()) == 4 and sum(store.open_failures().values()) == 2
    with MockOpenAIServer() as server:
        config = config.model_copy(update={"settings": ModelSettings(base_url=server.base_url)})
        store = EpisodeStore(tmp_path)
        report = asyncio.run(run_batch(store, planned, graph, RoleModels.build(config), RunOptions()))
    assert report.done == 2 and sum(store.open_failures().values()) == 0


def test_store_loads_with_datasets(tmp_path: Path) -> None:
    out = tmp_path / "store"
    runner.invoke(
        register(),
        ["generate", "--out", str(out), "--model", "fake", "--n", "3", "--situations", "duty", "--turns", "2-2"],
    )
    import datasets

    loaded = datasets.load_dataset("json", data_files=str(out / "episodes-*.jsonl"), split="train")
    assert len(loaded) == 3 and "conversation" in loaded.column_names


def _released_record() -> dict:
    return {
        "pattern": ["sunk cost fallacy", "anxious"],
        "situation": "Duty",
        "analysis": "Ana keeps funding the failing project.",
        "scenario": {
            "storyBackground": "A meeting room at 6 pm.",
            "charactersProfiles": {
                "protagonist": {"name": "Ana", "aboutSelf": "Manager; proud.", "aboutOthers": "Ben: cautious."},
                "supportingCharacter": [{"name": "Ben", "aboutSelf": "Analyst.", "aboutOthers": "Ana: stubborn."}],
            },
        },
        "protagonist": "Ana",
        "supporting_characters": ["Ben"],
        "char2pattern": {"Ana": ["sunk cost fallacy", "anxious"]},
        "conversation": [
            {"char": "Ben", "content": "[She won't listen.] (slides the report over) The numbers are bad."},
            {"char": "Ana", "content": "[We've spent too much to stop.] (taps the table) We keep going."},
        ],
        "conversation_checklist": {"Ana": ["Refuses to stop because of money already spent."]},
    }


def test_released_files_import_and_export_round_trip(tmp_path: Path) -> None:
    good = _released_record()
    bad = {**_released_record(), "conversation": [{"char": "Zed", "content": "hi"}]}
    source = tmp_path / "train.json"
    source.write_text(json.dumps([good, bad]))
    episodes, report = import_released([source])
    assert report.read == 2 and report.imported == 1 and "Zed" in next(iter(report.skipped.values()))
    episode = episodes[0]
    assert episode.conversation.turns[0].thought == "She won't listen."
    assert episode.conversation.turns[1].action == "taps the table"
    back = episode_to_released(episode)
    assert back["conversation"] == good["conversation"] and back["scenario"] == good["scenario"]
    out = tmp_path / "store"
    assert runner.invoke(register(), ["data", "import", str(source), "--out", str(out)]).exit_code == 0
    exported = tmp_path / "released"  # train.json carries the split label: one JSON array per split
    assert runner.invoke(register(), ["data", "export", str(out), "--out", str(exported)]).exit_code == 0
    assert json.loads((exported / "train.json").read_text())[0]["char2pattern"] == good["char2pattern"]


def test_split_follows_the_ood_rules(tmp_path: Path) -> None:
    out = tmp_path / "store"
    runner.invoke(
        register(),
        ["generate", "--out", str(out), "--model", "fake", "--n", "40", "--situations", "duty", "--turns", "2-2"],
    )
    result = runner.invoke(register(), ["data", "split", str(out), "--eval-size", "5", "--json"])
    plan = json.loads(result.output)
    ood = set(plan["ood_patterns"])
    assert len(ood) == 8
    kinds = [load_library().get(p).kind.value for p in ood]
    assert kinds.count("trait") == 4
    for split in ("train", "id_eval", "ood_eval", "mixed_eval"):
        for line in (out / "splits" / f"{split}.jsonl").read_text().splitlines():
            held = set(json.loads(line)["scenario"]["patterns"])
            expected = "ood_eval" if held <= ood else "mixed_eval" if held & ood else ("train", "id_eval")
            assert split in expected if isinstance(expected, tuple) else split == expected
    assert plan["counts"]["id_eval"] == 5
