"""Judges that agree: Krippendorff's alpha (against published and hand-computed values), the agreement
report over stored judgements, the social-desirability probe, and `eval score --judge A --judge B`."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from humanllm.agents.director import TurnRules
from humanllm.agents.judge import HolisticScores, judged_characters
from humanllm.cli._app import register
from humanllm.core import ChecklistItem, Metric, Score, Verdict
from humanllm.evaluation import (
    AgreementReport,
    AgreementTally,
    EvalResults,
    Judgement,
    JudgementStore,
    SampleInfo,
    SampleScores,
    desirability_groups,
    desirability_of,
    desirability_probe,
    krippendorff_alpha,
)
from humanllm.llm import ModelSettings, RoleModel, parse_spec, register_fake_backend
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import MockOpenAIServer, ScriptedChatModel, fake_character, fake_writer, role_reply

runner = CliRunner()


# --- Krippendorff's alpha ------------------------------------------------------------------------
def _units(*raters: list[Any]) -> dict[int, list[Any]]:
    """Reliability data as in the paper: one list per rater (observer), one column per unit."""
    return {unit: [rater[unit] for rater in raters] for unit in range(len(raters[0]))}


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers, 12 units,
# values 1-5, None = missing. Published: nominal .743, ordinal .815, interval .849. The exact values
# were cross-checked once with the `krippendorff` package (0.8.x) in a throwaway venv.
_WORKED = _units(
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
)


@pytest.mark.parametrize(
    ("level", "published", "exact"),
    [
        ("nominal", 0.743, 0.743421052631579),
        ("ordinal", 0.815, 0.8153875037548814),
        ("interval", 0.849, 0.8491071428571428),
    ],
)
def test_alpha_reproduces_krippendorffs_worked_example(level: str, published: float, exact: float) -> None:
    alpha = krippendorff_alpha(_WORKED, level)  # type: ignore[arg-type]
    assert alpha.value == pytest.approx(published, abs=5e-4)
    assert alpha.value == pytest.approx(exact, abs=1e-12)
    # unit 12 has one value: not pairable; the other 11 units hold 40 values (the paper's n = 40)
    assert (alpha.units, alpha.values) == (11, 40)


def test_alpha_does_not_depend_on_the_order_of_the_units() -> None:
    keys = list(_WORKED)
    random.Random(7).shuffle(keys)
    for level in ("nominal", "ordinal", "interval"):
        shuffled = krippendorff_alpha({k: _WORKED[k] for k in keys}, level)  # type: ignore[arg-type]
        assert shuffled.value == krippendorff_alpha(_WORKED, level).value  # type: ignore[arg-type]


def test_alpha_of_the_papers_binary_example() -> None:
    # section A of the same paper: two observers, ten units, nominal alpha = 0.095
    alpha = krippendorff_alpha(_units([0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]), "nominal")
    assert alpha.value == pytest.approx(0.095, abs=5e-4)
    # 4 units disagree: o01 + o10 = 8; n = 20, n_0 = 14, n_1 = 6 -> 1 - (n - 1) * 8 / (2 * n_0 * n_1)
    assert alpha.value == pytest.approx(1 - 19 * 8 / (2 * 14 * 6), abs=1e-12)


def test_alpha_of_ternary_items_by_hand() -> None:
    # units (1, 1), (0, 1), (-1, 0) and (1, missing); margins n_-1 = 1, n_0 = 2, n_+1 = 3, n = 6.
    units = {"u1": [1, 1], "u2": [0, 1], "u3": [-1, 0], "u4": [1, None]}
    # nominal: 1 - 5 * 4 / (2 * (1*2 + 1*3 + 2*3)) = 1/11
    assert krippendorff_alpha(units, "nominal").value == pytest.approx(1 / 11)
    # ordinal: d(-1,0) = ((1+2)/2)^2 = 2.25, d(0,1) = ((2+3)/2)^2 = 6.25, d(-1,1) = (6 - (1+3)/2)^2 = 16;
    # observed 2*6.25 + 2*2.25 = 17, expected 2*(2*2.25 + 6*6.25 + 3*16) = 180 -> 1 - 5*17/180 = 19/36
    ordinal = krippendorff_alpha(units, "ordinal")
    assert ordinal.value == pytest.approx(19 / 36)
    assert (ordinal.units, ordinal.values, ordinal.level) == (3, 6, "ordinal")
    # interval: d = 1, 1, 4; observed 4, expected 2*(2 + 6 + 12) = 40 -> 1 - 5*4/40
    assert krippendorff_alpha(units, "interval").value == pytest.approx(0.5)
    assert krippendorff_alpha(units).level == "ordinal"  # the default level


def test_alpha_edge_cases() -> None:
    assert krippendorff_alpha({"a": [1, 1], "b": [0, 0], "c": [-1, -1]}).value == pytest.approx(1.0)
    assert krippendorff_alpha({"a": [1, -1], "b": [-1, 1]}, "interval").value < 0  # systematic disagreement
    none = krippendorff_alpha({"a": [1, None], "b": [None, None], "c": []})
    assert none.value is None and none.reason == "no unit has two values" and none.values == 0
    same = krippendorff_alpha({"a": [1, 1], "b": [1, 1, None]})
    assert same.value is None and same.reason.startswith("no variation") and (same.units, same.values) == (2, 4)
    assert krippendorff_alpha({}).value is None
    with pytest.raises(ValueError, match="alpha level"):
        krippendorff_alpha({"a": [1, 1]}, "ratio")  # type: ignore[arg-type]
    # three raters: each unit adds 1 / (m_u - 1) per ordered pair, so a unit's weight is its number of values
    three = krippendorff_alpha({"a": [1, 1, 0], "b": [0, 0, 0], "c": [1, 1, 1]}, "nominal")
    # o01 = o10 = 2 * 1/2 = 1; n_0 = 4, n_1 = 5, n = 9 -> 1 - 8 * 2 / (2 * 4 * 5)
    assert three.value == pytest.approx(1 - 8 * 2 / 40)


# --- the agreement report over hand-built judgements ----------------------------------------------
def _judgement(
    judge: str,
    sample: str,
    scores: dict[str, int | str | None],
    *,
    run: int = 0,
    holistic: tuple[float | None, float | None] | None = None,
) -> Judgement:
    """Items named `ipe.<pattern>.<n>` or `mpd.<n>`; a score of "na" is an n/a answer, None unscored."""
    items = [
        ChecklistItem(id=item, metric=Metric.IPE, question=f"q {item}?", pattern=item.split(".")[1])
        if item.startswith("ipe.")
        else ChecklistItem(id=item, metric=Metric.MPD, question=f"q {sample} {item}?")
        for item in scores
    ]
    verdicts = [
        Verdict(item_id=item, score=None, not_applicable=True)
        if score == "na"
        else Verdict(
            item_id=item, score=None if score is None else Score(score), reason="" if score is not None else "x"
        )
        for item, score in scores.items()
    ]
    rated = None if holistic is None else HolisticScores(anthropomorphism=holistic[0], fidelity=holistic[1])
    return Judgement(
        episode_id=sample,
        character="C",
        judge=judge,
        run=run,
        prompt_version="v",
        batch_size=8,
        items=items,
        verdicts=verdicts,
        holistic=rated,
    )


def _report(
    judgements: list[Judgement], judges: list[str], *, runs: int = 1, na_as_zero: bool = False
) -> AgreementReport:
    tally = AgreementTally(judges, runs=runs, na_as_zero=na_as_zero)
    for judgement in judgements:
        tally.add(judgement)
    infos = {(j.episode_id, j.character): SampleInfo(split="id") for j in judgements}
    return tally.report(infos)


_TWO_JUDGES = [
    # the ternary fixture above: (1, 1), (0, 1), (-1, 0), and (1, n/a): n/a is a missing value
    _judgement("J1", "S1", {"ipe.x.1": 1, "ipe.x.2": 0, "ipe.x.3": 1, "mpd.1": -1}, holistic=(60, 70)),
    _judgement("J2", "S1", {"ipe.x.1": 1, "ipe.x.2": 1, "ipe.x.3": "na", "mpd.1": 0}, holistic=(80, 90)),
]


def test_agreement_of_two_judges_by_hand() -> None:
    report = _report(_TWO_JUDGES, ["J1", "J2"])
    across = report.across_judges
    assert across["items"].value == pytest.approx(19 / 36) and across["items"].values == 6
    # IPE alone: (1, 1), (0, 1): n_0 = 1, n_1 = 3, d(0,1) = 4 -> 1 - 3 * 8 / 24 = 0; MPD alone: one unit (-1, 0)
    assert across["ipe"].value == pytest.approx(0.0) and across["ipe"].units == 2
    assert across["mpd"].value == pytest.approx(0.0) and across["mpd"].units == 1
    assert across["anthropomorphism"].value == pytest.approx(0.0) and across["anthropomorphism"].level == "interval"
    assert report.across_runs == {}  # one run
    # aggregated per item: x.1 = 1, x.2 = 0.5, x.3 = 1 (J2's n/a left out) -> IPE 100 * 2.5 / 3; MPD -50
    aggregated = report.aggregated.headline()
    assert aggregated["ipe"].mean == pytest.approx(100 * 2.5 / 3)
    assert aggregated["mpd"].mean == pytest.approx(-50.0)
    assert aggregated["anthropomorphism"].mean == pytest.approx(70.0) and aggregated["fidelity"].mean == 80.0
    # the items disagreed on: x.2 and mpd.1 (one pair each); x.1 agrees, x.3 has one value
    assert [(d.item, d.pairs, d.disagreeing, d.share) for d in report.disagreements] == [
        ("ipe.x.2", 1, 1, 1.0),
        ("mpd.1", 1, 1, 1.0),
    ]
    first = report.disagreements[0]
    assert first.pattern == "x" and first.question == "q ipe.x.2?" and first.means == {"J1": 0.0, "J2": 1.0}
    assert report.disagreements[1].episode_id == "S1" and report.disagreements[1].character == "C"


def test_the_aggregate_follows_na_as_zero_but_alpha_never_counts_na() -> None:
    report = _report(_TWO_JUDGES, ["J1", "J2"], na_as_zero=True)
    assert report.aggregated.overall["ipe"].runs == [pytest.approx(100 * 2 / 3)]  # x.3 = (1 + 0) / 2
    assert report.across_judges["items"].value == pytest.approx(19 / 36)  # the same units as without it


def test_agreement_across_runs_and_which_items_rank_first() -> None:
    judgements = [
        _judgement("J1", "S1", {"ipe.x.1": 1, "ipe.x.2": 0, "ipe.y.1": -1}, run=0),
        _judgement("J1", "S1", {"ipe.x.1": 1, "ipe.x.2": 0, "ipe.y.1": -1}, run=1),
        _judgement("J1", "S2", {"ipe.x.1": 1, "ipe.y.1": 0}, run=0),
        _judgement("J2", "S1", {"ipe.x.1": -1, "ipe.x.2": 0, "ipe.y.1": 1}, run=0),
        _judgement("J2", "S2", {"ipe.x.1": 1, "ipe.y.1": 1}, run=0),
    ]
    report = _report(judgements, ["J1", "J2"], runs=2)
    assert report.across_runs["J1"]["items"].value == pytest.approx(1.0)
    assert report.across_runs["J1"]["items"].units == 3  # S2 has run 0 only: not pairable
    assert report.across_runs["J2"]["items"].value is None
    assert report.across_runs["J2"]["items"].reason == "no unit has two values"
    # an IPE item is one card question over samples: y.1 disagrees in 2 of 2 samples, x.1 in 1 of 2
    ranked = [(d.item, d.samples, d.disagreeing, d.pairs) for d in report.disagreements]
    assert ranked == [("ipe.y.1", 2, 2, 2), ("ipe.x.1", 2, 1, 2)]
    assert report.disagreements[1].means == {"J1": 1.0, "J2": 0.0}
    # the aggregate, per run: run 1 has J1 alone on S1
    assert report.aggregated.overall["ipe"].runs[1] == pytest.approx(100 * (1 + 0 - 1) / 3)


def test_tally_rejects_an_unknown_or_repeated_judge() -> None:
    with pytest.raises(ValueError, match="differ"):
        AgreementTally(["J1", "J1"], runs=1)
    with pytest.raises(ValueError, match="not one of"):
        AgreementTally(["J1"], runs=1).add(_TWO_JUDGES[1])
    with pytest.raises(ValueError, match="beyond the 1 run"):
        AgreementTally(["J1"], runs=1).add(_judgement("J1", "S1", {"ipe.x.1": 1}, run=1))


# --- the social-desirability probe ------------------------------------------------------------------
def test_desirability_groups_follow_agreeableness_and_the_named_patterns() -> None:
    groups = desirability_groups(load_library())
    assert groups["kind"] == groups["cooperative"] == groups["gratitude mechanism"] == "prosocial"
    assert groups["reciprocity principle"] == "prosocial"
    assert groups["cruel"] == groups["callous"] == groups["sadistic pleasure"] == "antisocial"
    assert "confirmation bias" not in groups and "anxious" not in groups and "bold" not in groups
    assert sum(group == "prosocial" for group in groups.values()) == 12
    assert sum(group == "antisocial" for group in groups.values()) == 11
    assert desirability_of(["kind", "confirmation bias"], groups) == "prosocial"
    assert desirability_of(["kind", "cruel"], groups) is None  # both: left out
    assert desirability_of(["confirmation bias"], groups) is None  # neither


def test_desirability_probe_by_hand() -> None:
    groups = desirability_groups(load_library())
    infos = {
        ("P1", "C"): SampleInfo(patterns=("kind",)),
        ("P2", "C"): SampleInfo(patterns=("gratitude mechanism", "confirmation bias")),
        ("A1", "C"): SampleInfo(patterns=("cruel",)),
        ("B", "C"): SampleInfo(patterns=("kind", "sadistic pleasure")),
        ("N", "C"): SampleInfo(patterns=("confirmation bias",)),
    }
    judgements = [
        _judgement("J", "P1", {"ipe.kind.1": 1, "ipe.kind.2": 1}, holistic=(90, 80)),  # IPE 100 -> 100
        _judgement("J", "P2", {"ipe.gratitude.1": 0}, holistic=(70, 60)),  # IPE 0 -> 50
        _judgement("J", "A1", {"ipe.cruel.1": 1, "ipe.cruel.2": "na", "ipe.cruel.3": 0}, holistic=(40, 50)),  # 50 -> 75
        _judgement("J", "B", {"ipe.kind.1": 1}, holistic=(10, 10)),
        _judgement("J", "N", {"ipe.confirmation.1": -1}, holistic=(10, 10)),
    ]
    tally = AgreementTally(["J"], runs=1)
    for judgement in judgements:
        tally.add(judgement)
    probe = tally.report(infos, groups=groups).desirability["J"]
    pro, anti = probe.prosocial, probe.antisocial
    assert (pro.samples, pro.ipe, pro.ipe_0_100) == (2, 50.0, 75.0)
    assert (pro.anthropomorphism, pro.fidelity) == (80.0, 70.0)
    assert pro.gap == {"anthropomorphism": pytest.approx((-10 + 20) / 2), "fidelity": pytest.approx((-20 + 10) / 2)}
    assert (anti.samples, anti.ipe, anti.ipe_0_100, anti.anthropomorphism) == (1, 50.0, 75.0, 40.0)
    assert anti.gap == {"anthropomorphism": pytest.approx(-35.0), "fidelity": pytest.approx(-25.0)}
    assert probe.headline == {"anthropomorphism": pytest.approx(5 + 35), "fidelity": pytest.approx(-5 + 25)}
    assert (probe.both, probe.neither) == (1, 1)


def test_desirability_probe_without_holistic_scores_has_no_gap() -> None:
    groups = {"kind": "prosocial", "cruel": "antisocial"}
    scores = {("a", "C"): SampleScores(ipe=0.5, anthropomorphism=None, fidelity=None)}
    probe = desirability_probe(scores, {("a", "C"): SampleInfo(patterns=("kind",))}, groups)  # type: ignore[arg-type]
    assert probe.prosocial.ipe == 50.0 and probe.prosocial.gap == {"anthropomorphism": None, "fidelity": None}
    assert probe.antisocial.samples == 0 and probe.antisocial.ipe is None
    assert probe.headline == {"anthropomorphism": None, "fidelity": None}


# --- `eval score` with several judges ------------------------------------------------------------
def _contrary_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The fake judge with every checklist score negated: it disagrees by design wherever the fake scores +-1."""
    text = role_reply(messages, kwargs)
    data = json.loads(text) if text.startswith("{") else None
    if isinstance(data, dict) and data and all(isinstance(v, dict) and "score" in v for v in data.values()):
        return json.dumps({item: {**verdict, "score": -verdict["score"]} for item, verdict in data.items()})
    return text


@pytest.fixture
def contrary_app() -> Iterator[typer.Typer]:
    """The CLI app with `fake:contrary` building the contrary judge; every other fake spec builds as before.

    Registered after `register()`, which registers the plain fakes when it assembles the app.
    """
    app = register()

    def build(variant: str, settings: ModelSettings, common: dict[str, Any]) -> Any:
        if variant == "contrary":
            return ScriptedChatModel(function=_contrary_reply, record_calls=False, **common)
        assert previous is not None
        return previous(variant, settings, common)

    previous = register_fake_backend(build)
    yield app
    register_fake_backend(previous)


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture
def store(tmp_path: Path, graph: InteractionGraph) -> Path:
    """Three fake episodes with prosocial and antisocial patterns among their bundles."""
    folder = tmp_path / "store"
    target = EpisodeStore(folder)
    for seed, patterns in enumerate([["kind", "confirmation bias"], ["cruel", "sunk cost fallacy"], ["bold", "warm"]]):
        config = SimulationConfig(patterns=patterns, seed=seed, rules=TurnRules(min_turns=4, max_turns=4))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
        target.add_episode(asyncio.run(run_episode(config, graph, models)))
    return folder


def _stored(store: Path, judge: str, run: int = 0) -> list[Judgement]:
    return [j for j in JudgementStore.open_for_reading(store) if j.judge == judge and j.run == run]


def test_two_judges_that_disagree_by_design(store: Path, contrary_app: typer.Typer) -> None:
    args = ["eval", "score", str(store), "--judge", "fake", "--judge", "fake:contrary", "--runs", "2", "--json"]
    first = runner.invoke(contrary_app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert [j["judge"] for j in out["judges"]] == ["fake", "fake:contrary"]
    samples = sum(len(judged_characters(e)) for e in EpisodeStore(store).iter_episodes())
    assert all(j["judging"]["judged"] == 2 * samples for j in out["judges"])
    # the judgements themselves: B = -A on every item, so per unit (s, -s)
    mine, theirs = _stored(store, "fake"), _stored(store, "fake:contrary")
    a = {(j.episode_id, j.character, v.item_id): int(v.score) for j in mine for v in j.verdicts if v.score is not None}
    b = {
        (j.episode_id, j.character, v.item_id): int(v.score) for j in theirs for v in j.verdicts if v.score is not None
    }
    assert a and b == {key: -score for key, score in a.items()}
    # by hand: m units of (+1, -1) or (-1, +1) and c of (0, 0) give margins m, 2c, m, and ordinal
    # alpha = 1 - (n - 1) * 2m(m + 2c)^2 / (2 (m + 2c)^2 (mc + m^2)) = 1 - (2(m + c) - 1) / (m + c) = 1 / N - 1
    agreement = out["agreement"]
    across = agreement["across_judges"]["items"]
    assert across["units"] == len(a) and across["values"] == 2 * len(a)
    assert across["value"] == pytest.approx(1 / len(a) - 1)
    # the same judge's two runs agree perfectly; identical holistic scores leave no variation to compare
    assert agreement["across_runs"]["fake:contrary"]["items"]["value"] == pytest.approx(1.0)
    # aggregated: each item's mean is (s - s) / 2 = 0
    aggregated = agreement["aggregated"]["overall"]
    assert aggregated["ipe"]["mean"] == pytest.approx(0.0) and aggregated["mpd"]["mean"] == pytest.approx(0.0)
    disagreements = agreement["disagreements"]
    assert len(disagreements) == 10 and all(d["share"] == 1.0 for d in disagreements)
    assert all(d["means"]["fake"] == -d["means"]["fake:contrary"] != 0 for d in disagreements)
    # the probe counts the characters of each group from the episodes' patterns
    groups = desirability_groups(load_library())
    expected = {"prosocial": 0, "antisocial": 0}
    for episode in EpisodeStore(store).iter_episodes():
        for character in judged_characters(episode):
            group = desirability_of(episode.scenario.char2pattern[character], groups)
            if group is not None:
                expected[group] += 1
    probe = agreement["desirability"]["fake"]
    assert {g: probe[g]["samples"] for g in expected} == expected and sum(expected.values()) >= 2
    # the contrary judge mirrors IPE around 0, so its prosocial IPE is the fake's negated
    assert agreement["desirability"]["fake:contrary"]["prosocial"]["ipe"] == pytest.approx(-probe["prosocial"]["ipe"])
    # each judge's scores file carries the same agreement; the printed JSON does so once
    for judge in ("fake", "fake_contrary"):
        saved = EvalResults.load(store / f"scores-{judge}.json")
        assert saved.agreement is not None and saved.agreement.model_dump(mode="json") == agreement
    assert all("agreement" not in j["results"] for j in out["judges"])

    # resume: the same command judges nothing new and reports the same agreement
    lines = (store / "judgements-main.jsonl").read_text().splitlines()
    again = json.loads(runner.invoke(contrary_app, args).output)
    assert [j["judging"]["judged"] for j in again["judges"]] == [0, 0]
    assert [j["judging"]["already_done"] for j in again["judges"]] == [2 * samples, 2 * samples]
    assert (store / "judgements-main.jsonl").read_text().splitlines() == lines
    assert again["agreement"] == agreement

    # the readable output: each judge's tables, then the agreement tables and the aggregated row
    text = runner.invoke(contrary_app, args[:-1])
    assert text.exit_code == 0, text.output
    for title in ("Judges", "judges aggregated", "Krippendorff", "disagree on most", "Social-desirability probe"):
        assert title in text.output
    assert text.output.count("Coverage") == 2
    # and `eval report` shows the agreement of a scores file that has one
    page = store / "report.html"
    made = runner.invoke(contrary_app, ["eval", "report", str(store / "scores-fake.json"), "--out", str(page)])
    assert made.exit_code == 0, made.output
    assert "Agreement of the judges" in page.read_text() and "judges aggregated" in page.read_text()


def test_two_identical_judges_agree_and_one_judge_writes_no_agreement(store: Path) -> None:
    one = runner.invoke(register(), ["eval", "score", str(store), "--judge", "fake", "--runs", "1", "--json"])
    assert one.exit_code == 0, one.output
    assert set(json.loads(one.output)) == {"judging", "results"}
    assert "agreement" not in json.loads((store / "scores-fake.json").read_text())
    # `fake:twin` is the same scripted judge under another name
    args = ["eval", "score", str(store), "--judge", "fake", "--judge", "fake:twin", "--runs", "1", "--json"]
    both = runner.invoke(register(), args)
    assert both.exit_code == 0, both.output
    out = json.loads(both.output)
    assert [j["judging"]["judged"] for j in out["judges"]] == [0, len(_stored(store, "fake"))]  # fake: stored
    agreement = out["agreement"]
    assert agreement["across_judges"]["items"]["value"] == pytest.approx(1.0)
    assert agreement["across_judges"]["ipe"]["value"] == pytest.approx(1.0)
    assert agreement["disagreements"] == [] and agreement["across_runs"] == {}
    ipe = [j["results"]["reports"]["store"]["overall"]["ipe"]["mean"] for j in out["judges"]]
    assert agreement["aggregated"]["overall"]["ipe"]["mean"] == pytest.approx(ipe[0]) == ipe[1]
    assert "agreement" in json.loads((store / "scores-fake.json").read_text())  # the last command's


def test_a_judge_given_twice_is_a_usage_error(store: Path) -> None:
    result = runner.invoke(register(), ["eval", "score", str(store), "--judge", "fake", "--judge", "fake"])
    assert result.exit_code == 2 and "given twice" in result.output
    assert not list(store.glob("judgements-*.jsonl"))  # nothing judged


def test_each_judge_gets_its_endpoint(store: Path) -> None:
    with MockOpenAIServer() as plain, MockOpenAIServer(reply=_contrary_reply) as contrary:
        judges = ["--judge", "openai:plain", "--judge", "openai:contrary", "--runs", "1", "--no-holistic"]
        urls = ["--judge-base-url", plain.base_url, "--judge-base-url", contrary.base_url]
        paired = runner.invoke(register(), ["eval", "score", str(store), *judges, *urls, "--json"])
        mismatch = runner.invoke(register(), ["eval", "score", str(store), *judges, *urls, "--judge-base-url", "x"])
    assert paired.exit_code == 0, paired.output
    assert plain.counts and contrary.counts
    a = {(j.episode_id, j.character): j for j in _stored(store, "openai:plain")}
    b = {(j.episode_id, j.character): j for j in _stored(store, "openai:contrary")}
    assert a.keys() == b.keys() and a
    for key, judgement in a.items():  # the contrary endpoint answered the second judge
        assert [-int(v.score or 0) for v in judgement.verdicts] == [int(v.score or 0) for v in b[key].verdicts]
    units = sum(len(j.verdicts) for j in a.values())
    agreement = json.loads(paired.output)["agreement"]
    assert agreement["across_judges"]["items"]["value"] == pytest.approx(1 / units - 1)
    assert mismatch.exit_code == 2 and "3 endpoints for 2 judges" in mismatch.output


def test_two_judges_on_one_endpoint_share_it(store: Path) -> None:
    """Regression: each judge ran in its own event loop, and the second could not use the HTTP client the
    first had opened to the same endpoint ("Event loop is closed": every judgement of it failed)."""
    with MockOpenAIServer() as server:
        judges = ["--judge", "openai:one", "--judge", "openai:two", "--judge-base-url", server.base_url]
        result = runner.invoke(register(), ["eval", "score", str(store), *judges, "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [j["judging"]["failed"] for j in out["judges"]] == [0, 0]
    assert out["agreement"]["across_judges"]["items"]["value"] == pytest.approx(1.0)


def test_a_judge_that_fails_makes_the_batch_partial_and_the_agreement_is_still_written(store: Path) -> None:
    with MockOpenAIServer() as working, MockOpenAIServer(status=418) as failing:
        judges = ["--judge", "openai:working", "--judge", "openai:failing", "--runs", "1", "--retries", "0"]
        urls = ["--judge-base-url", working.base_url, "--judge-base-url", failing.base_url]
        result = runner.invoke(register(), ["eval", "score", str(store), *judges, *urls, "--json"])
    assert result.exit_code == 3, result.output  # partial: the working judge's judgements are stored
    out = json.loads(result.stdout)
    assert [j["judging"]["failed"] > 0 for j in out["judges"]] == [False, True]
    assert out["judges"][1]["judging"]["judged"] == 0
    assert out["agreement"]["across_judges"]["items"]["reason"] == "no unit has two values"
    saved = EvalResults.load(store / "scores-openai_failing.json")
    assert saved.agreement is not None and saved.agreement.judges == ["openai:working", "openai:failing"]


def test_judge_endpoints_pair_with_the_judges_in_order() -> None:
    from humanllm.cli._score_judges import base_urls

    assert base_urls(["a", "b"], None) == [None, None]
    assert base_urls(["a", "b"], ["http://x/v1"]) == ["http://x/v1", "http://x/v1"]  # one for all
    assert base_urls(["a", "b"], ["", "http://x/v1"]) == [None, "http://x/v1"]  # '' = the default endpoint
    with pytest.raises(typer.BadParameter, match="3 endpoints for 2 judges"):
        base_urls(["a", "b"], ["1", "2", "3"])
