"""inspect_ai: the real `eval()` of our task on the fake judge, and our results exported to a log inspect reads back."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

inspect_ai = pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.log import read_eval_log  # noqa: E402

from humanllm.agents.director import TurnRules  # noqa: E402
from humanllm.agents.judge import checklist_items, judged_characters  # noqa: E402
from humanllm.core import Episode, Metric  # noqa: E402
from humanllm.evaluation import EvalResults  # noqa: E402
from humanllm.evaluation.inspect import SCORER, roleplay  # noqa: E402
from humanllm.llm import RoleModel, json_schema_of, parse_spec  # noqa: E402
from humanllm.patterns import load_graph, load_library  # noqa: E402
from humanllm.simulation import EpisodeStore, RoleModels, SimulationConfig, run_episode  # noqa: E402
from humanllm.testing import (  # noqa: E402
    ScriptedChatModel,
    fake_character,
    fake_judge_score,
    fake_writer,
    register_fakes,
    role_reply,
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-inspect-secret-000"


def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inspect") / "store"
    target = EpisodeStore(folder)
    graph = load_graph(load_library())
    for seed, patterns in enumerate([["confirmation bias", "kind"], ["sunk cost fallacy", "anxious"]]):
        config = SimulationConfig(patterns=patterns, seed=seed, rules=TurnRules(min_turns=4, max_turns=4))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
        target.add_episode(asyncio.run(run_episode(config, graph, models)))
    return folder


def _expected(episode: Episode, character: str, metric: Metric, unscored: set[str] = frozenset()) -> float | None:  # type: ignore[assignment]
    items = [i for i in checklist_items(episode.scenario, character, load_library()) if i.metric is metric]
    scores = [fake_judge_score(i.id) for i in items if i.id not in unscored]
    return 100 * sum(scores) / len(scores) if scores else None


def _garbled_mpd(messages, kwargs):  # type: ignore[no-untyped-def]
    """The fake judge, except that MPD verdicts come back without a score: every MPD item unscored."""
    reply = role_reply(messages, kwargs)
    data = json.loads(reply)
    if (json_schema_of(kwargs.get("response_format")) or {}).get("title") != "JudgeVerdicts":
        return reply
    return json.dumps({k: {**v, "score": "garbage"} if k.startswith("mpd") else v for k, v in data.items()})


def test_inspect_eval_runs_our_judge_and_keeps_unscored(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    register_fakes(_garbled_mpd)
    try:
        task = roleplay(data=str(store), judge="fake", runs=2, batch_size=4, retries=0, bootstrap=200)
        [log] = inspect_eval(task, model="none", log_dir=str(tmp_path / "logs"), display="none")
    finally:
        register_fakes()
    assert log.status == "success", log.error
    episodes = {e.id: e for e in EpisodeStore(store).iter_episodes()}
    count = sum(len(judged_characters(e)) for e in episodes.values())
    assert log.samples is not None and len(log.samples) == 2 * count  # a sample per character and epoch (run)
    ipe_means = []
    for sample in log.samples:
        episode = episodes[sample.metadata["episode_id"]]
        score = sample.scores[SCORER]  # type: ignore[index]
        value = score.value
        assert isinstance(value, dict)
        expected = _expected(episode, sample.metadata["character"], Metric.IPE)
        assert value["ipe"] == pytest.approx(expected)
        assert math.isnan(value["mpd"])  # unscored stays unscored: never 0
        verdicts = score.metadata["verdicts"]  # type: ignore[index]
        assert {v["score"] for v in verdicts if v["metric"] == "mpd"} == {"unscored"}
        assert score.metadata["coverage"]["mpd"]["unscored"] > 0  # type: ignore[index]
        assert 0 <= value["anthropomorphism"] <= 100
        if sample.epoch == 1:
            ipe_means.append(expected)
    by_name = {s.name: s for s in log.results.scores}  # type: ignore[union-attr]
    assert set(by_name) == {"ipe", "mpd", "anthropomorphism", "fidelity"}
    assert by_name["ipe"].metrics["mean"].value == pytest.approx(sum(ipe_means) / len(ipe_means))
    # inspect prefixes a metric with its package only when the package's entry point is installed
    ipe_metrics = {name.rpartition("/")[2]: m.value for name, m in by_name["ipe"].metrics.items()}
    low, high = ipe_metrics["bootstrap_ci_low"], ipe_metrics["bootstrap_ci_high"]
    assert low <= by_name["ipe"].metrics["mean"].value <= high
    assert by_name["mpd"].scored_samples == 0 and by_name["mpd"].unscored_samples == count
    stored = log.location
    assert SECRET not in Path(stored).read_bytes().decode("latin-1")


def test_export_inspect_writes_a_log_inspect_reads_back(store: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": SECRET}
    run = [sys.executable, "-m", "humanllm"]
    scored = subprocess.run(
        [*run, "eval", "score", str(store), "--judge", "fake", "--runs", "2", "--bootstrap", "300", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    results_path = store / "scores-fake.json"
    results = EvalResults.load(results_path)
    report = next(iter(results.reports.values()))
    for suffix in (".eval", ".json"):
        out = tmp_path / f"log{suffix}"
        made = subprocess.run(
            [*run, "eval", "export-inspect", str(results_path), "--out", str(out)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert "inspect view --log-dir" in made.stdout
        log = read_eval_log(str(out))
        assert log.status == "success" and log.eval.task == "humanllm/roleplay"
        assert log.samples is not None and len(log.samples) == 2 * report.samples
        assert {s.epoch for s in log.samples} == {1, 2}
        assert all(s.messages for s in log.samples)  # the transcripts came along
        by_name = {s.name: s for s in log.results.scores}  # type: ignore[union-attr]
        ipe = report.overall["ipe"]
        assert by_name["ipe"].metrics["mean"].value == pytest.approx(ipe.mean)
        assert ipe.ci is not None and by_name["ipe"].metrics["ci_low"].value == pytest.approx(ipe.ci.low)
        assert by_name["ipe"].metrics["ci_high"].value == pytest.approx(ipe.ci.high)
        assert SECRET not in out.read_bytes().decode("latin-1")
    again = subprocess.run(
        [*run, "eval", "export-inspect", str(results_path), "--out", str(tmp_path / "log.eval")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert again.returncode != 0 and "--force" in again.stderr


def test_export_inspect_without_inspect_ai_names_the_extra(store: Path, tmp_path: Path) -> None:
    """With inspect_ai hidden, the command fails with one line that says what to install."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'inspect_ai' or name.startswith('inspect_ai.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    made = subprocess.run(
        [sys.executable, "-m", "humanllm", "eval", "export-inspect", str(tmp_path / "x.json"), "--out", "o.eval"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert made.returncode != 0
    assert 'pip install "humanllm[inspect]"' in made.stderr
    assert "Traceback" not in made.stderr
