"""`eval paper`: the paper's main table (averaging over named splits by hand), end to end on fakes, resumed."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import checklist_items, judged_characters
from humanllm.cli._app import register
from humanllm.core import ChecklistItem, Episode, Metric, Score, Verdict
from humanllm.errors import ConfigError
from humanllm.evaluation import (
    EvalResults,
    Judgement,
    JudgeOptions,
    PaperTable,
    SampleInfo,
    average_over_splits,
    paper_table,
    paper_tables,
    score_judgements,
    verify_store,
)
from humanllm.llm import RoleModel, parse_spec
from humanllm.llm._messages import json_schema_of
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode
from humanllm.simulation._splits import split_store
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import (
    ScriptedChatModel,
    fake_character,
    fake_judge_score,
    fake_writer,
    register_fakes,
    role_reply,
)

runner = CliRunner()


# --- averaging over named splits, by hand -------------------------------------------------------------
def _judgement(sample: str, run: int, ipe: list[int | None]) -> Judgement:
    items = [ChecklistItem(id=f"ipe.p.{n}", metric=Metric.IPE, question="?", pattern="p") for n in range(len(ipe))]
    verdicts = [
        Verdict(item_id=i.id, score=None if s is None else Score(s), reason="" if s is not None else "garbage")
        for i, s in zip(items, ipe, strict=True)
    ]
    return Judgement(
        episode_id=sample, character="C", judge="fake", run=run, prompt_version="v", batch_size=8, items=items,
        verdicts=verdicts,
    )  # fmt: skip


INFOS = {("A", "C"): SampleInfo(split="id", patterns=("p",)), ("B", "C"): SampleInfo(split="ood", patterns=("p",))}


def test_the_average_over_the_named_splits_by_hand() -> None:
    # id: run 0 (1 + 0) / 2 = 50, run 1 100; ood: run 0 0, run 1 50; mixed: no sample at all
    judgements = [
        _judgement("A", 0, [1, 0]),
        _judgement("A", 1, [1, 1]),
        _judgement("B", 0, [0]),
        _judgement("B", 1, [1, 0]),
    ]
    average = average_over_splits(score_judgements(judgements, INFOS), "ipe")
    assert average.runs == [25.0, 75.0] and average.mean == 50.0  # per run: the mean of id and ood
    assert average.sd == pytest.approx(math.sqrt(2 * 25.0**2))  # sample SD of 25 and 75
    assert average.splits == ["id", "ood"] and average.missing == ["mixed"]


def test_a_split_without_a_value_in_every_run_is_left_out_and_named() -> None:
    judgements = [
        _judgement("A", 0, [1, 0]),
        _judgement("A", 1, [1, 1]),
        _judgement("B", 0, [0]),
        _judgement("B", 1, [None]),
    ]
    average = average_over_splits(score_judgements(judgements, INFOS), "ipe")
    assert average.runs == [50.0, 100.0] and average.mean == 75.0
    assert average.splits == ["id"] and average.missing == ["ood", "mixed"]
    none = average_over_splits(score_judgements(judgements, INFOS), "ipe", splits=("mixed",))
    assert none.mean is None and none.missing == ["mixed"]


def test_the_table_flags_an_empty_split_and_a_partial_average() -> None:
    judgements = [
        _judgement("A", 0, [1, 0]),
        _judgement("A", 1, [1, 1]),
        _judgement("B", 0, [0]),
        _judgement("B", 1, [1, 0]),
    ]
    results = EvalResults(
        kind="benchmark", judge="fake", prompt_version="v", options=JudgeOptions(runs=2, holistic="off"),
        config={"mode": "replay", "data": "splits"}, reports={"m": score_judgements(judgements, INFOS)},
    )  # fmt: skip
    table = paper_table(results, {"id": 1, "ood": 1, "mixed": 0}, Path("results-replay.json"))
    assert table.empty_splits == ["mixed"] and table.metrics == ["ipe", "mpd"]
    main = paper_tables(table)[0]
    assert main.headers[:5] == ["Model", "IPE ID", "IPE OOD", "IPE Mixed (empty)", "IPE Avg"]
    assert main.rows[0][:5] == ["m", "75.0 ± 35.4", "25.0 ± 35.4", "–", "50.0 ± 35.4*"]
    assert "* m: IPE averaged over ID and OOD only (Mixed: no episodes)" in table.notes
    assert table.notes[-1].startswith("* m: MPD no average (ID: no score in every run")  # no MPD items here
    assert "Mixed" in table.notes[0] and "empty" in table.notes[0]


# --- end to end through the CLI, on fakes ---------------------------------------------------------------
def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture
def splits(tmp_path: Path) -> Path:
    """Two ID episodes, one OOD episode and no Mixed one (an empty mixed_eval.jsonl)."""
    graph = load_graph(load_library())
    store = EpisodeStore(tmp_path / "store")
    for seed, patterns in enumerate(
        [["confirmation bias", "kind"], ["sunk cost fallacy", "anxious"], ["bold", "halo effect"]]
    ):
        config = SimulationConfig(patterns=patterns, seed=seed, rules=TurnRules(min_turns=4, max_turns=4))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
        store.add_episode(asyncio.run(run_episode(config, graph, models)))
    out = tmp_path / "store" / "splits"
    split_store(store, graph.library, out, ood_patterns=["anxious", "sunk cost fallacy"], eval_size=5)
    store.close()
    return out


def _ipe(path: Path) -> float:
    """The fake judge's IPE on one split file: 100 x mean over judged characters of their items' fixed scores."""
    library = load_library()
    values = []
    for line in path.read_text().splitlines():
        episode = Episode.model_validate_json(line)
        for character in judged_characters(episode):
            items = [i for i in checklist_items(episode.scenario, character, library) if i.metric is Metric.IPE]
            values.append(sum(fake_judge_score(i.id) for i in items) / len(items))
    return 100 * sum(values) / len(values)


def _stored(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}


def test_eval_paper_end_to_end_then_resumed_for_free(splits: Path, tmp_path: Path) -> None:
    out = tmp_path / "paper"
    args = ["eval", "paper", "--data", str(splits), "--model", "fake", "--model", "fake:schema", "--judge", "fake"]
    first = runner.invoke(register(), [*args, "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    table = PaperTable.model_validate_json(first.output)
    assert table.runs == 3 and table.holistic == "coser" and [r.model for r in table.rows] == ["fake", "fake:schema"]
    assert table.episodes == {"id": 2, "ood": 1, "mixed": 0} and table.empty_splits == ["mixed"]
    row = table.rows[0]
    id_ipe, ood_ipe = _ipe(splits / "id_eval.jsonl"), _ipe(splits / "ood_eval.jsonl")
    assert row.cells["ipe"]["id"] is not None and row.cells["ipe"]["id"].mean == pytest.approx(id_ipe)
    assert row.cells["ipe"]["ood"] is not None and row.cells["ipe"]["ood"].mean == pytest.approx(ood_ipe)
    assert row.cells["ipe"]["mixed"] is None and row.average["ipe"].missing == ["mixed"]
    assert row.average["ipe"].mean == pytest.approx((id_ipe + ood_ipe) / 2)  # not a silent mean of samples
    assert row.average["mpd"].sd == pytest.approx(0.0, abs=1e-9)  # the fake judge is the same every run
    assert row.average["anthropomorphism"].mean is not None
    markdown = (out / "paper.md").read_text()
    assert "| fake |" in markdown and "IPE Mixed (empty)" in markdown and "Mixed: no episodes" in markdown
    assert (out / "paper.png").read_bytes()[:4] == b"\x89PNG"
    assert PaperTable.model_validate_json((out / "paper.json").read_text()) == table
    assert (out / "results-replay.json").exists() and verify_store(out).ok
    text = runner.invoke(register(), [*args, "--out", str(out)])
    assert text.exit_code == 0 and "Main results" in text.output and "Mixed: no episodes" in text.output

    # a second run pays for nothing: no model call, the stores unchanged, the same table
    before = _stored(out)
    calls: list[str] = []

    def counting(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        calls.append((json_schema_of(kwargs.get("response_format")) or {}).get("title", "text"))
        return role_reply(messages, kwargs)

    register_fakes(counting)
    try:
        again = runner.invoke(register(), [*args, "--out", str(out), "--json"])
        assert again.exit_code == 0, again.output
        assert calls == [] and _stored(out) == before
        assert PaperTable.model_validate_json(again.output).rows == table.rows
        # one more judge run: only judge calls, the played episodes stay as they were
        more = runner.invoke(register(), [*args, "--out", str(out), "--runs", "4", "--json"])
    finally:
        register_fakes()
    assert more.exit_code == 0, more.output
    assert calls and set(calls) == {"JudgeVerdicts", "HolisticFlaws"}
    after = _stored(out)
    assert all(after[name] == data for name, data in before.items() if "episodes-" in name)
    assert PaperTable.model_validate_json(more.output).runs == 4


def test_eval_paper_wants_a_split_folder_before_any_model_call(splits: Path) -> None:
    store = splits.parent
    for data, message in [(store, "is a store"), (store / "nowhere", "not a folder"), (store / "empty", "has none of")]:
        if message == "has none of":
            data.mkdir()
        result = runner.invoke(register(), ["eval", "paper", "--data", str(data), "--model", "fake", "--judge", "fake"])
        assert isinstance(result.exception, ConfigError) and message in str(result.exception), result.output
    with pytest.raises(ConfigError, match="data split"):
        from humanllm.evaluation import split_episodes

        split_episodes(store)
    assert json.loads((splits / "splits.json").read_text())  # the folder is the one `data split` wrote
