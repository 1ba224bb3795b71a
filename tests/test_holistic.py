"""The holistic baseline: CoSER's flaw-penalty score (by hand), parsing, unscored replies, and the judgement keys."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from humanllm.agents.holistic import coser_score, flaws_limit, flaws_schema, parse_flaws
from humanllm.agents.judge import Judge, system_message
from humanllm.cli._app import register
from humanllm.core import CharacterProfile, Conversation, Episode, Scenario, ScenarioChecklist, Turn, spec_id
from humanllm.evaluation import EvalResults, JudgementSpec, JudgementStore, JudgeOptions, judge_character
from humanllm.evaluation._judging import judgement_spec
from humanllm.llm import RoleModel, parse_spec
from humanllm.llm._messages import json_schema_of
from humanllm.patterns import load_library
from humanllm.testing import ScriptedChatModel, fake_holistic_flaws, fake_judge, judge_reply

runner = CliRunner()


# --- the formula, by hand ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("severities", "turns", "expected"),
    [
        ([3, 2, 5], 8, 62.0),  # 100 - (10 - 2.4) x 5 = 100 - 38
        ([1], 0, 95.0),  # 100 - 1 x 5
        ([2], 2, 93.0),  # 100 - (2 - 0.6) x 5
        ([4, 4], 10, 75.0),  # 100 - (8 - 3) x 5
        ([], 10, 100.0),  # 100 + 15, clipped to 100
        ([5, 5, 5, 5, 5], 2, 0.0),  # 100 - (25 - 0.6) x 5 = -22, clipped to 0
        ([5, 5, 5, 5], 0, 0.0),  # exactly 0
    ],
)
def test_coser_score_by_hand(severities: list[int], turns: int, expected: float) -> None:
    assert coser_score(severities, turns) == expected


# --- parsing ----------------------------------------------------------------------------------------
def _reply(anthropomorphism: object, fidelity: object) -> str:
    return json.dumps({"anthropomorphism": anthropomorphism, "character_fidelity": fidelity})


def _flaw(severity: object, kind: str = "emotional_depth") -> dict[str, object]:
    return {"instance": "Turn 2 spells out the feeling.", "type": kind, "severity": severity}


def test_a_schema_valid_reply_scores_both_dimensions() -> None:
    text = _reply({"flaws": [_flaw(3), _flaw(2, "self_identity")]}, {"flaws": []})
    assert flaws_schema().model_validate_json(text)  # the fixture is what the schema asks for
    scores = parse_flaws(f"Here:\n```json\n{text}\n```", actor_turns=4)
    assert scores.method == "coser" and scores.actor_turns == 4
    assert scores.anthropomorphism == 100 - (5 - 1.2) * 5 and scores.fidelity == 100.0
    assert [f.severity for f in scores.flaws["anthropomorphism"]] == [3, 2] and scores.flaws["fidelity"] == []


def test_coser_names_and_string_severities_are_read() -> None:
    text = json.dumps(
        {"Anthropomorphism": {"flaws": [_flaw("4", "Emotional Depth")]}, "Character Fidelity": {"flaws": [_flaw(1.0)]}}
    )
    scores = parse_flaws(text, actor_turns=0)
    assert (scores.anthropomorphism, scores.fidelity) == (80.0, 95.0)
    assert scores.flaws["anthropomorphism"][0].type == "Emotional Depth"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("I cannot rate this.", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "not an object"),
    ],
)
def test_an_unreadable_reply_is_unscored_with_a_reason_never_zero(text: str, why: str) -> None:
    scores = parse_flaws(text, actor_turns=6)
    assert scores.anthropomorphism is None and scores.fidelity is None and why in scores.reason


def test_a_bad_severity_leaves_only_its_dimension_unscored() -> None:
    for bad in (7, 0, None, "severe", True):
        scores = parse_flaws(_reply({"flaws": [_flaw(2), _flaw(bad)]}, {"flaws": [_flaw(1)]}), actor_turns=0)
        assert scores.anthropomorphism is None and "severity" in scores.reason, bad
        assert scores.fidelity == 95.0
    missing = parse_flaws(json.dumps({"anthropomorphism": {"flaws": []}}), actor_turns=0)
    assert missing.anthropomorphism == 100.0 and missing.fidelity is None and "fidelity: unscored" in missing.reason


# --- the schema is sized to the budget ----------------------------------------------------------------
def test_the_flaws_schema_shrinks_with_the_budget_and_keeps_a_floor() -> None:
    assert flaws_limit(flaws_schema(1536)) == 8 and flaws_limit(flaws_schema(512)) == 4
    props = flaws_schema().model_json_schema()["$defs"]["AnthropomorphismFlaw"]["properties"]
    assert props["severity"]["enum"] == [1, 2, 3, 4, 5]
    assert props["type"]["enum"] == ["self_identity", "emotional_depth", "persona_coherence", "social_interaction"]


# --- the judge role ---------------------------------------------------------------------------------
def _episode() -> Episode:
    scenario = Scenario(
        patterns=["kind"],
        situation="duty",
        analysis="a",
        background="An office late on Friday.",
        protagonist=CharacterProfile(name="Ann", about_self="A careful manager.", about_others="Likes Ben."),
        supporting=[CharacterProfile(name="Ben", about_self="A new hire.", about_others="Fears Ann.")],
        char2pattern={"Ann": ["kind"], "Ben": []},
        checklists=[ScenarioChecklist(character="Ann", items=["Ann reassures Ben."])],
    )
    turns = [
        Turn(speaker="Ben", speech="I broke the build."),
        Turn(speaker="Ann", thought="He is tired.", speech="It happens."),
        Turn(speaker="Ben", speech="Thanks."),
        Turn(speaker="Ann", speech="See you tomorrow."),
        Turn(speaker="Ben", speech="Bye."),
        Turn(speaker="Ann", speech="Bye."),
    ]
    return Episode(id="ep1", scenario=scenario, conversation=Conversation(turns=turns))


def _role(chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role="judge", spec=parse_spec("fake"), chat=chat, max_retries=0)


def test_the_judge_graph_scores_coser_with_the_characters_turns() -> None:
    judgement = asyncio.run(
        judge_character(_episode(), "Ann", model=_role(fake_judge()), library=load_library(), options=JudgeOptions())
    )
    h = judgement.holistic
    assert h is not None and h.method == "coser" and h.actor_turns == 3  # Ann's turns, not all six
    assert (h.anthropomorphism, h.fidelity) == (100 - (2 - 0.9) * 5, 100.0)  # the fake's one severity-2 flaw
    assert judgement.spec is not None and judgement.spec.holistic == "coser"


def test_the_direct_rating_stays_an_option() -> None:
    chat = fake_judge()
    options = JudgeOptions(holistic="direct")
    judgement = asyncio.run(
        judge_character(_episode(), "Ann", model=_role(chat), library=load_library(), options=options)
    )
    assert judgement.holistic is not None and judgement.holistic.method == "direct"
    assert (judgement.holistic.anthropomorphism, judgement.holistic.fidelity) == (60, 70)
    titles = {(json_schema_of(k.get("response_format")) or {}).get("title") for k in chat.call_kwargs}
    assert "HolisticReply" in titles and "HolisticFlaws" not in titles


def test_a_judge_that_never_lists_flaws_leaves_the_baseline_unscored() -> None:
    calls: list[str] = []

    def garbage(_messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        calls.append((json_schema_of(kwargs.get("response_format")) or {}).get("title", ""))
        return "No."

    judge = Judge(model=_role(ScriptedChatModel(function=garbage)), library=load_library())
    scores = asyncio.run(judge.score_holistic(system_message(_episode(), "Ann"), "Ann", actor_turns=3))
    assert scores.anthropomorphism is None and scores.fidelity is None
    assert "after 3 tries" in scores.reason and "not valid JSON" in scores.reason
    assert calls == ["HolisticFlaws"] * 3


def test_a_partial_reply_is_asked_again_and_the_best_one_kept() -> None:
    replies = iter([_reply({"flaws": [_flaw(9)]}, {"flaws": []}), json.dumps(fake_holistic_flaws())])
    judge = Judge(model=_role(ScriptedChatModel(function=lambda _m, _k: next(replies))), library=load_library())
    scores = asyncio.run(judge.score_holistic(system_message(_episode(), "Ann"), "Ann", actor_turns=0))
    assert (scores.anthropomorphism, scores.fidelity) == (90.0, 100.0)


class _Small(ScriptedChatModel):
    max_tokens: int = 200


def test_a_budget_too_small_for_the_flaws_is_unscored_with_what_to_do() -> None:
    judge = Judge(model=_role(_Small(function=judge_reply)), library=load_library())
    scores = asyncio.run(judge.score_holistic(system_message(_episode(), "Ann"), "Ann", actor_turns=3))
    assert scores.anthropomorphism is None and "raise --max-tokens" in scores.reason


# --- keys: the two variants never collide --------------------------------------------------------------
def test_each_holistic_variant_has_its_own_judgement_key() -> None:
    model = _role(fake_judge())
    keys = {
        choice: spec_id(judgement_spec("ep1", "Ann", 0, model, JudgeOptions(holistic=choice)))
        for choice in ("coser", "direct", "off")
    }
    assert len(set(keys.values())) == 3


def test_a_spec_stored_before_the_variant_hashes_as_it_did() -> None:
    spec = judgement_spec("ep1", "Ann", 0, _role(fake_judge()), JudgeOptions())
    stored = spec.model_dump(mode="json")
    old = {k: v for k, v in stored.items() if k != "holistic"}
    assert "holistic" in stored and JudgementSpec.model_validate(old).holistic is None
    assert spec_id(JudgementSpec.model_validate(old)) == spec_id(old)  # the id stored on an old record


def test_results_saved_with_the_old_flag_read_as_what_it_meant() -> None:
    assert JudgeOptions.model_validate({"holistic": True}).holistic == "direct"
    assert JudgeOptions.model_validate({"holistic": False}).holistic == "off"
    assert JudgeOptions().holistic == "coser"


def _store(tmp_path: Path) -> Path:
    from humanllm.simulation._store import EpisodeStore

    folder = tmp_path / "store"
    store = EpisodeStore(folder)
    store.add_episode(_episode())
    store.close()
    return folder


def test_eval_score_keeps_the_variants_apart(tmp_path: Path) -> None:
    folder = _store(tmp_path)
    base = ["eval", "score", str(folder), "--judge", "fake", "--runs", "1", "--json"]
    coser = json.loads(runner.invoke(register(), base).output)
    direct = json.loads(runner.invoke(register(), [*base, "--holistic", "direct"]).output)
    assert coser["judging"]["judged"] == 1 and direct["judging"]["judged"] == 1  # not reused across variants
    assert direct["results"]["options"]["holistic"] == "direct"
    overall = direct["results"]["reports"]["store"]["overall"]
    assert overall["anthropomorphism"]["mean"] == 60.0 and overall["anthropomorphism"]["samples"] == 1
    assert coser["results"]["reports"]["store"]["overall"]["anthropomorphism"]["mean"] == 94.5  # 100 - (2 - 0.9) x 5
    off = json.loads(runner.invoke(register(), [*base[:-1], "--no-holistic", "--json"]).output)
    assert off["judging"]["judged"] == 1 and off["results"]["reports"]["store"]["overall"]["fidelity"]["mean"] is None
    stored = list(JudgementStore.open_for_reading(folder))
    assert sorted(j.holistic_choice or "" for j in stored) == ["coser", "direct", "off"]
    assert EvalResults.load(folder / "scores-fake.json").options.holistic == "off"  # the last run's
    bad = runner.invoke(register(), [*base, "--holistic", "both"])
    assert bad.exit_code == 2 and "coser" in bad.output
