"""Scoring maths, statistics (against scipy), and the eval commands end to end on scripted fakes."""

from __future__ import annotations

import asyncio
import csv
import json
import math
import random
from pathlib import Path

import pytest
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import HolisticScores, checklist_items, judged_characters
from humanllm.cli._app import register
from humanllm.core import ChecklistItem, Episode, Metric, Score, Verdict
from humanllm.evaluation import (
    EvalResults,
    Judgement,
    JudgementStore,
    Rating,
    SampleInfo,
    align,
    cohen_kappa,
    pearson,
    ranks,
    sample_sd,
    score_judgements,
    spearman,
    verify_store,
)
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode
from humanllm.simulation._splits import split_store
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import ScriptedChatModel, fake_character, fake_judge_score, fake_writer

runner = CliRunner()


# --- scoring maths against hand-computed values ---------------------------------------------------
def _judgement(
    sample: str, run: int, ipe: list[tuple[str, int | None]], mpd: list[int | None], holistic: HolisticScores
) -> Judgement:
    items = [
        ChecklistItem(id=f"ipe.{p}.{n}", metric=Metric.IPE, question="?", pattern=p) for n, (p, _) in enumerate(ipe)
    ]
    items += [ChecklistItem(id=f"mpd.{n}", metric=Metric.MPD, question="x") for n in range(len(mpd))]
    scores = [s for _, s in ipe] + mpd
    verdicts = [
        Verdict(item_id=i.id, score=None if s is None else Score(s), reason="" if s is not None else "garbage")
        for i, s in zip(items, scores, strict=True)
    ]
    return Judgement(
        episode_id=sample,
        character="C",
        judge="fake",
        run=run,
        prompt_version="v",
        batch_size=8,
        items=items,
        verdicts=verdicts,
        holistic=holistic,
    )


def _fixture() -> tuple[list[Judgement], dict[tuple[str, str], SampleInfo]]:
    """Three samples x two runs; see the hand computation in the test."""

    def h(anthropomorphism: int, fidelity: int) -> HolisticScores:
        return HolisticScores(anthropomorphism=anthropomorphism, fidelity=fidelity)

    judgements = [
        # run 0
        _judgement("A", 0, [("p1", 1), ("p1", 1), ("p2", 0), ("p2", None)], [1, -1, None], h(60, 80)),
        _judgement("B", 0, [("p1", -1), ("p1", None)], [None, None], HolisticScores(reason="unscored")),
        _judgement("C", 0, [("p2", 0)], [1], h(40, 50)),
        # run 1
        _judgement("A", 1, [("p1", 1), ("p1", 1), ("p2", 1), ("p2", None)], [1, 1, 0], h(70, 90)),
        _judgement("B", 1, [("p1", 0), ("p1", 1)], [1, None], h(30, 20)),
        _judgement("C", 1, [("p2", 1)], [-1], h(50, 60)),
    ]
    infos = {
        ("A", "C"): SampleInfo(split="id", patterns=("p1", "p2"), interactions=("conflicts", "reinforces")),
        ("B", "C"): SampleInfo(split="ood", patterns=("p1",), interactions=("none",)),
        ("C", "C"): SampleInfo(split="id", patterns=("p2",), interactions=("reinforces",)),
    }
    return judgements, infos


def test_scoring_maths_by_hand() -> None:
    judgements, infos = _fixture()
    report = score_judgements(judgements, infos)
    # IPE, run 0: A = (1+1+0)/3, B = -1/1, C = 0 -> 100 * (2/3 - 1 + 0) / 3
    ipe0 = 100 * (2 / 3 - 1 + 0) / 3
    # IPE, run 1: A = 1, B = (0+1)/2, C = 1 -> 100 * (1 + 0.5 + 1) / 3
    ipe1 = 100 * (1 + 0.5 + 1) / 3
    ipe = report.overall["ipe"]
    assert ipe.runs == pytest.approx([ipe0, ipe1])
    assert ipe.mean == pytest.approx((ipe0 + ipe1) / 2)
    assert ipe.sd == pytest.approx(abs(ipe1 - ipe0) / math.sqrt(2))
    # MPD: B has no scored MPD item in run 0 and is left out (not counted as 0)
    mpd0 = 100 * ((1 - 1) / 2 + 1) / 2
    mpd1 = 100 * ((1 + 1 + 0) / 3 + 1 + -1) / 3
    assert report.overall["mpd"].runs == pytest.approx([mpd0, mpd1])
    assert report.overall["mpd"].samples == 3
    # holistic: plain means of the 0-100 scores; B's unscored rating is left out of run 0
    assert report.overall["anthropomorphism"].runs == pytest.approx([50.0, 50.0])
    assert report.overall["fidelity"].runs == pytest.approx([65.0, (90 + 20 + 60) / 3])
    assert report.overall["anthropomorphism"].sd == 0.0
    # split average: per run, the mean of the split values
    id0, ood0 = 100 * (2 / 3 + 0) / 2, -100.0
    id1, ood1 = 100 * (1 + 1) / 2, 50.0
    assert report.split_average["ipe"].runs == pytest.approx([(id0 + ood0) / 2, (id1 + ood1) / 2])
    assert report.breakdowns["split"]["ood"]["ipe"].runs == pytest.approx([ood0, ood1])
    # by pattern: IPE counts only that pattern's items; A's p2 in run 0 = 0/1, C's p2 = 0
    assert report.breakdowns["pattern"]["p2"]["ipe"].runs == pytest.approx([0.0, 100.0])
    assert report.breakdowns["pattern"]["p1"]["ipe"].runs == pytest.approx([100 * (1 - 1) / 2, 100 * (1 + 0.5) / 2])
    # by interaction type inside the bundle
    assert report.breakdowns["interaction"]["reinforces"]["ipe"].runs[0] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert set(report.breakdowns["interaction"]) == {"conflicts", "reinforces", "none"}
    # coverage: every unscored item counted, samples with nothing scored counted
    c = report.coverage
    assert (c.judgements, c.items, c.unscored) == (6, 26, 7)
    assert c.by_metric["ipe"].unscored == 3 and c.by_metric["mpd"].unscored == 4
    assert c.by_metric["mpd"].samples_left_out == 1 and c.holistic_unscored == 1
    assert c.unscored_reasons == {"garbage": 7}


def test_one_run_has_sd_zero_and_no_scores_give_none() -> None:
    judgements, infos = _fixture()
    report = score_judgements([j for j in judgements if j.run == 0], infos)
    assert report.runs == 1 and report.overall["ipe"].sd == 0.0
    empty = score_judgements([], infos)
    assert empty.overall["ipe"].mean is None and empty.samples == 0


# --- statistics against scipy -----------------------------------------------------------------------
def test_pearson_and_spearman_match_scipy() -> None:
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(3, 40)
        x = [rng.choice([-1, 0, 1]) + rng.random() * rng.choice([0, 1]) for _ in range(n)]
        y = [v * rng.uniform(-1, 2) + rng.gauss(0, 1) for v in x]
        if len(set(x)) < 2 or len(set(y)) < 2:
            continue
        assert pearson(x, y) == pytest.approx(scipy_stats.pearsonr(x, y).statistic, abs=1e-9)
        assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic, abs=1e-9)
    ties = [1, 1, 0, 0, -1, 1, 0]
    assert ranks(ties) == pytest.approx(list(scipy_stats.rankdata(ties)))
    assert pearson([1, 1, 1], [1, 2, 3]) is None and pearson([1], [2]) is None
    assert sample_sd([1.0, 2.0, 4.0]) == pytest.approx(scipy_stats.tstd([1.0, 2.0, 4.0]))


def _kappa_reference(a: list[int], b: list[int]) -> float:
    """Cohen's kappa from scipy's contingency table: (p_o - p_e) / (1 - p_e)."""
    table = scipy_stats.contingency.crosstab(a, b).count
    n = table.sum()
    observed = table.trace() / n
    expected = (table.sum(axis=0) * table.sum(axis=1)).sum() / n**2
    return float((observed - expected) / (1 - expected))


def test_cohen_kappa_by_hand_and_against_a_contingency_table() -> None:
    # by hand: 10 items, 8 agree (p_o = 0.8); both raters' marginals are (3, 4, 3) over (-1, 0, 1),
    # so p_e = (3*3 + 4*4 + 3*3) / 100 = 0.34 and kappa = (0.8 - 0.34) / (1 - 0.34)
    a = [-1, -1, -1, 0, 0, 0, 0, 1, 1, 1]
    b = [-1, -1, 0, 0, 0, -1, 0, 1, 1, 1]
    assert cohen_kappa(a, b) == pytest.approx((0.8 - 0.34) / 0.66)
    rng = random.Random(3)
    for _ in range(20):
        x = [rng.choice([-1, 0, 1]) for _ in range(30)]
        y = [v if rng.random() < 0.6 else rng.choice([-1, 0, 1]) for v in x]
        assert cohen_kappa(x, y) == pytest.approx(_kappa_reference(x, y))
    assert cohen_kappa([1, 1], [1, 1]) is None


def test_align_per_metric() -> None:
    human = [
        Rating(episode_id="e", character="A", item_id=f"ipe.p.{i}", metric="ipe", score=s, rater=r)
        for i, (s1, s2) in enumerate([(1, 1), (0, 1), (-1, -1), (1, 0)])
        for s, r in ((s1, "x"), (s2, "y"))
    ]
    judge = [
        Rating(episode_id="e", character="A", item_id=f"ipe.p.{i}", metric="ipe", score=s, rater="run 0")
        for i, s in enumerate([1, 1, -1, 0])
    ]
    report = align(human, judge)
    m = report.metrics["ipe"]
    assert m.items == 4 and m.samples == 1
    assert m.pearson == pytest.approx(scipy_stats.pearsonr([1, 0.5, -1, 0.5], [1, 1, -1, 0]).statistic)
    # majorities: human (1, tie->0, -1, tie->0) vs judge (1, 1, -1, 0): 3 of 4 agree
    assert m.kappa == pytest.approx(cohen_kappa([1, 0, -1, 0], [1, 1, -1, 0]))
    assert m.human == pytest.approx(100 * (1 + 0.5 - 1 + 0.5) / 4)
    assert report.unmatched == 0


# --- end to end on scripted fakes ---------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture
def store(tmp_path: Path, graph: InteractionGraph) -> Path:
    """A small store of fake episodes with splits; one turn carries markup to check escaping."""
    folder = tmp_path / "store"
    target = EpisodeStore(folder)
    bundles = [["confirmation bias", "kind"], ["sunk cost fallacy", "anxious"], ["bold", "halo effect"]]
    for seed, patterns in enumerate(bundles):
        config = SimulationConfig(patterns=patterns, seed=seed, rules=TurnRules(min_turns=4, max_turns=4))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
        episode = asyncio.run(run_episode(config, graph, models))
        if seed == 0:
            turns = list(episode.conversation.turns)
            turns[1] = turns[1].model_copy(update={"speech": "<script>alert('x')</script> & more"})
            episode = episode.model_copy(
                update={"conversation": episode.conversation.model_copy(update={"turns": turns})}
            )
        target.add_episode(episode)
    split_store(target, graph.library, folder / "splits", ood_patterns=["anxious", "sunk cost fallacy"], eval_size=5)
    return folder


def _expected(episodes: list[Episode], metric: Metric) -> float:
    """The fake judge's metric over these episodes, computed from its fixed per-item scores."""
    library = load_library()
    values = []
    for episode in episodes:
        for character in judged_characters(episode):
            items = [i for i in checklist_items(episode.scenario, character, library) if i.metric is metric]
            values.append(sum(fake_judge_score(i.id) for i in items) / len(items))
    return 100 * sum(values) / len(values)


def _coser_expected(episodes: list[Episode]) -> float:
    """The fake judge's CoSER anthropomorphism over these episodes: one severity-2 flaw per character."""
    values = [
        100 - (2 - 0.3 * sum(t.speaker == character for t in e.conversation.turns)) * 5
        for e in episodes
        for character in judged_characters(e)
    ]
    return sum(values) / len(values)


def test_eval_score_end_to_end_is_idempotent(store: Path) -> None:
    args = ["eval", "score", str(store), "--judge", "fake", "--runs", "2", "--batch-size", "5"]
    first = runner.invoke(register(), [*args, "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    episodes = list(EpisodeStore(store).iter_episodes())
    samples = sum(len(judged_characters(e)) for e in episodes)
    assert data["judging"]["judged"] == 2 * samples and data["judging"]["failed"] == 0
    lines = (store / "judgements-main.jsonl").read_text().splitlines()
    assert len(lines) == 2 * samples
    again = json.loads(runner.invoke(register(), [*args, "--json"]).output)
    assert again["judging"]["judged"] == 0 and again["judging"]["already_done"] == 2 * samples
    assert (store / "judgements-main.jsonl").read_text().splitlines() == lines
    verified = verify_store(store)
    assert verified.ok and verified.judgements == len(lines) and verified.legacy == 0
    more = json.loads(runner.invoke(register(), [*args[:-4], "--runs", "3", "--batch-size", "5", "--json"]).output)
    assert more["judging"]["judged"] == samples  # only the new run
    results = EvalResults.load(store / "scores-fake.json")
    report = next(iter(results.reports.values()))
    assert report.overall["ipe"].mean == pytest.approx(_expected(episodes, Metric.IPE))
    assert report.overall["mpd"].mean == pytest.approx(_expected(episodes, Metric.MPD))
    assert report.overall["ipe"].sd == pytest.approx(0.0, abs=1e-9) and report.runs == 3  # float sums: 1e-15
    assert report.overall["anthropomorphism"].mean == pytest.approx(_coser_expected(episodes))
    assert set(report.breakdowns["split"]) == {"id", "ood"}
    assert report.coverage.unscored == 0
    text = runner.invoke(register(), args)
    assert text.exit_code == 0 and "IPE" in text.output and "scores-fake.json" in text.output
    page_path = store / "report.html"
    made = runner.invoke(
        register(), ["eval", "report", str(store / "scores-fake.json"), "--out", str(page_path), "--transcripts", "9"]
    )
    assert made.exit_code == 0, made.output
    page = page_path.read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page  # transcripts are escaped
    assert "<script>" not in page and page.count("<details>") == samples


def test_eval_score_on_a_split_file_and_bad_input(store: Path, tmp_path: Path) -> None:
    split = store / "splits" / "id_eval.jsonl"
    result = runner.invoke(register(), ["eval", "score", str(split), "--judge", "fake", "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert (store / "splits" / "scores-id_eval-fake.json").exists()
    assert (store / "splits" / "judgements-main.jsonl").exists()
    (tmp_path / "empty").mkdir()
    bad = runner.invoke(register(), ["eval", "score", str(tmp_path / "empty"), "--judge", "fake"])
    assert bad.exit_code != 0 and "store folder" in str(bad.exception)


def test_benchmark_replay_and_live_then_report(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    common = ["--judge", "fake", "--data", str(store / "splits"), "--out", str(out), "--runs", "2", "--json"]
    replay = runner.invoke(register(), ["eval", "run", "--model", "fake", "--model", "fake:schema", *common])
    assert replay.exit_code == 0, replay.output
    results = EvalResults.load(out / "results-replay.json")
    assert list(results.reports) == ["fake", "fake:schema"]
    assert {"id", "ood"} <= set(results.reports["fake"].breakdowns["split"])
    assert (out / "results-replay.md").read_text().count("| fake") >= 2
    assert (out / "results-replay.png").read_bytes()[:4] == b"\x89PNG"
    played = list(EpisodeStore(out / "fake" / "replay").iter_episodes())
    assert verify_store(out).ok and verify_store(out).legacy == 0  # plays and their judgements
    sources = {e.id: e for e in EpisodeStore(store).iter_episodes()}
    for episode in played:
        source = sources[str(episode.config["source_episode"])]
        target = str(episode.config["target"])
        for new, old in zip(episode.conversation.turns, source.conversation.turns, strict=True):
            assert new.speaker == old.speaker
            if new.speaker != target:
                assert new == old  # teacher forcing: the others' turns are the original ones
    live = runner.invoke(
        register(), ["eval", "run", "--model", "fake", "--mode", "live", "--partner-model", "fake", *common]
    )
    assert live.exit_code == 0, live.output
    assert EvalResults.load(out / "results-live.json").config["mode"] == "live"
    page_path = tmp_path / "report.html"
    made = runner.invoke(register(), ["eval", "report", str(out / "results-replay.json"), "--out", str(page_path)])
    assert made.exit_code == 0, made.output
    page = page_path.read_text()
    assert "data:image/png;base64," in page and "<table>" in page and "<details>" in page
    assert "<script>" not in page


def test_annotate_export_and_alignment_round_trip(store: Path, tmp_path: Path) -> None:
    assert runner.invoke(register(), ["eval", "score", str(store), "--judge", "fake", "--runs", "1"]).exit_code == 0
    sheet = tmp_path / "rate.csv"
    exported = runner.invoke(register(), ["eval", "annotate-export", str(store), "--out", str(sheet), "--samples", "2"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(sheet.open()))
    assert {r["metric"] for r in rows} == {"ipe", "mpd", "anthropomorphism", "fidelity"}
    assert len({(r["episode_id"], r["character"]) for r in rows}) == 2
    assert all(r["transcript"].startswith("1. ") for r in rows)
    for row in rows:  # a rater who agrees with the judge on checklist items
        ternary = row["scale"] == "-1/0/+1"
        row["human_score"] = str(fake_judge_score(row["item_id"])) if ternary else "55"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(
        register(), ["eval", "alignment", "--human", str(sheet), "--judge", str(store / "scores-fake.json"), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["metrics"]["ipe"]["pearson"] == pytest.approx(1.0)
    assert report["metrics"]["ipe"]["kappa"] == pytest.approx(1.0)
    assert report["metrics"]["anthropomorphism"]["kappa"] is None
    assert report["unmatched"] == 0
    rows[0]["human_score"] = "7"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bad = runner.invoke(register(), ["eval", "alignment", "--human", str(sheet), "--judge", str(store)])
    assert bad.exit_code != 0 and "-1, 0 or +1" in str(bad.exception)


def test_judgement_store_repairs_a_torn_line(tmp_path: Path) -> None:
    judgements, _ = _fixture()
    store = JudgementStore(tmp_path)
    assert store.add(judgements[0]) and not store.add(judgements[0])
    with (tmp_path / "judgements-main.jsonl").open("a") as handle:
        handle.write('{"episode_id": "torn')
    reopened = JudgementStore(tmp_path)
    assert [j.key for j in reopened] == [judgements[0].key]
    assert judgements[0].key in reopened
