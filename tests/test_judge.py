"""The judge role and graph: items, per-call schema, verdict parsing, retries, topology."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from humanllm.agents.judge import (
    Judge,
    checklist_items,
    judged_characters,
    parse_verdicts,
    verdict_schema,
)
from humanllm.core import (
    CharacterProfile,
    Conversation,
    Episode,
    Metric,
    Scenario,
    ScenarioChecklist,
    Score,
    Turn,
    render_turns,
)
from humanllm.core import Verdict as V
from humanllm.errors import DataError
from humanllm.evaluation import Judgement, JudgeOptions, judge_character
from humanllm.graphs.judge import batched, judge_graph, merge_verdicts
from humanllm.llm import RoleModel, parse_spec
from humanllm.llm._messages import json_schema_of
from humanllm.llm._schemas import response_format_for
from humanllm.patterns import PatternLibrary, load_library
from humanllm.testing import (
    ScriptedChatModel,
    example_for_schema,
    fake_judge,
    fake_judge_score,
    judge_reply,
    role_reply,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
IDS = ["ipe.kind.1", "ipe.kind.2", "mpd.1"]


@pytest.fixture(scope="module")
def library() -> PatternLibrary:
    return load_library()


def episode(*, thoughts: bool = True) -> Episode:
    scenario = Scenario(
        patterns=["kind", "confirmation bias"],
        situation="duty",
        analysis="a",
        background="An office late on Friday.",
        protagonist=CharacterProfile(name="Ann", about_self="A careful manager.", about_others="Likes Ben."),
        supporting=[CharacterProfile(name="Ben", about_self="A new hire.", about_others="Fears Ann.")],
        char2pattern={"Ann": ["kind", "confirmation bias"], "Ben": []},
        checklists=[ScenarioChecklist(character="Ann", items=["Ann reassures Ben.", "Ann keeps her first view."])],
    )
    turns = [
        Turn(speaker="Ben", thought="BEN-SECRET" if thoughts else "", action="fidgets", speech="I broke the build."),
        Turn(speaker="Ann", thought="He must be tired.", action="smiles", speech="It happens, let's fix it."),
        Turn(speaker="Ben", speech="Thanks."),
        Turn(speaker="Ann", thought="I knew he was good.", speech="See you tomorrow."),
    ]
    return Episode(id="ep1", scenario=scenario, conversation=Conversation(turns=turns))


def role(chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role="judge", spec=parse_spec("fake"), chat=chat, max_retries=0)


def test_judge_graph_topology_is_pinned() -> None:
    assert judge_graph().get_graph().draw_mermaid() == (SNAPSHOTS / "judge_graph.mmd").read_text()


def test_items_are_pattern_checklists_then_the_scenario_checklist(library: PatternLibrary) -> None:
    ep = episode()
    items = checklist_items(ep.scenario, "Ann", library)
    kind, bias = library.get("kind"), library.get("confirmation bias")
    ipe = [i for i in items if i.metric is Metric.IPE]
    assert [i.question for i in ipe] == [*kind.checklist, *bias.checklist]
    assert ipe[0].id == "ipe.kind.1" and ipe[0].pattern == "kind"
    assert [(i.id, i.question) for i in items if i.metric is Metric.MPD] == [
        ("mpd.1", "Ann reassures Ben."),
        ("mpd.2", "Ann keeps her first view."),
    ]
    assert len({i.id for i in items}) == len(items)
    assert judged_characters(ep) == ["Ann"]
    assert judged_characters(ep.model_copy(update={"config": {"target": "Ben"}})) == ["Ben"]
    bad = ep.scenario.model_copy(update={"char2pattern": {"Ann": ["no such pattern"]}})
    with pytest.raises(DataError, match="--patterns-dir"):
        checklist_items(bad, "Ann", library)


def test_the_judge_sees_the_characters_thoughts_but_not_the_others() -> None:
    text = render_turns(episode().conversation.turns, "Ann", numbered=True)
    assert "1. Ben: (fidgets) I broke the build." in text
    assert "2. Ann: [He must be tired.] (smiles)" in text
    assert "BEN-SECRET" not in text


def test_per_call_schema_allows_exactly_the_batch_and_bounds_text() -> None:
    schema = verdict_schema(IDS).model_json_schema()
    assert list(schema["properties"]) == IDS and schema["required"] == IDS
    assert schema["additionalProperties"] is False  # no invented item
    entry = schema["$defs"]["VerdictReply"]["properties"]
    assert entry["score"]["enum"] == [-1, 0, 1, "n/a"]  # n/a: no opportunity in this transcript
    assert entry["quote"]["maxLength"] and entry["reason"]["maxLength"] and entry["turns"]["maxItems"]
    assert verdict_schema(IDS) is verdict_schema(list(IDS))  # cached per batch


def _entry(score: object = 1, **extra: object) -> dict[str, object]:
    return {"turns": [2], "quote": "It happens", "reason": "Shown.", "score": score, **extra}


def test_parse_good_verdicts() -> None:
    text = json.dumps({"ipe.kind.1": _entry(1), "ipe.kind.2": _entry(0), "mpd.1": _entry(-1)})
    got = parse_verdicts(f"Here you go:\n```json\n{text}\n```", IDS, n_turns=4)
    assert [got[i].score for i in IDS] == [Score.EXHIBITED, Score.NOT_EXHIBITED, Score.CONTRADICTED]
    assert got["ipe.kind.1"].evidence == 'turns 2: "It happens"' and got["ipe.kind.1"].reason == "Shown."
    assert verdict_schema(IDS).model_validate_json(text)  # the fixture is what the schema asks for


def test_parse_partial_verdicts_keeps_what_is_usable() -> None:
    text = json.dumps(
        {
            "ipe.kind.1": _entry("+1", turns=[2, 99, True]),  # string score; bad turn numbers dropped
            "ipe.kind.9": _entry(1),  # unknown item
            "mpd.1": _entry(2),  # score out of range
        }
    )
    got = parse_verdicts(text, IDS, n_turns=4)
    assert got["ipe.kind.1"].score == Score.EXHIBITED and got["ipe.kind.1"].evidence.startswith("turns 2:")
    assert got["ipe.kind.2"].score is None and "'ipe.kind.9'" in got["ipe.kind.2"].reason
    assert got["mpd.1"].score is None and "not -1, 0 or +1" in got["mpd.1"].reason


def test_parse_a_list_of_verdicts_too() -> None:
    """What a model that ignores the schema writes: a list with ids; the first usable duplicate stands."""
    text = json.dumps(
        {
            "verdicts": [
                {"item": "ipe.kind.1", **_entry(1)},
                {"item": "ipe.kind.1", **_entry(-1)},
                {"item": "mpd.1", **_entry(0)},
            ]
        }
    )
    got = parse_verdicts(text, IDS, n_turns=4)
    assert (got["ipe.kind.1"].score, got["mpd.1"].score, got["ipe.kind.2"].score) == (1, 0, None)


def test_parse_truncated_reply_salvages_complete_entries() -> None:
    whole = json.dumps({"ipe.kind.1": _entry(0), "ipe.kind.2": _entry(1), "mpd.1": _entry(1)})
    cut = whole[: whole.index('"mpd.1"') + 20]
    got = parse_verdicts(cut, IDS, n_turns=4)
    assert got["ipe.kind.1"].score == 0 and got["ipe.kind.2"].score == 1
    assert got["mpd.1"].score is None and "not valid JSON" in got["mpd.1"].reason


@pytest.mark.parametrize("garbage", ["", "no json at all", '{"verdicts": "none"}', "[1, 2, 3]", '{"x": 1}'])
def test_parse_garbage_leaves_every_item_unscored_with_a_reason(garbage: str) -> None:
    got = parse_verdicts(garbage, IDS, n_turns=4)
    assert set(got) == set(IDS)
    assert all(v.score is None and v.reason for v in got.values())


def test_merge_keeps_a_score_over_a_later_unscored_verdict() -> None:
    old = {"a": V(item_id="a", score=Score.EXHIBITED), "b": V(item_id="b", score=None, reason="x")}
    new = {"a": V(item_id="a", score=None, reason="lost"), "b": V(item_id="b", score=Score.CONTRADICTED)}
    merged = merge_verdicts(old, new)
    assert merged["a"].score == Score.EXHIBITED and merged["b"].score == Score.CONTRADICTED
    assert [len(b) for b in batched(list(range(10)), 4)] == [4, 4, 2]  # type: ignore[arg-type]


def test_fake_judge_answers_through_the_role_router() -> None:
    kwargs = {"response_format": response_format_for(verdict_schema(IDS))}
    data = json.loads(role_reply([], kwargs))
    assert list(data) == IDS and [v["score"] for v in data.values()] == [fake_judge_score(i) for i in IDS]
    assert json.loads(judge_reply([], {"response_format": response_format_for(verdict_schema(["mpd.1"]))}))


def _run(chat: ScriptedChatModel, library: PatternLibrary, **options: Any) -> Judgement:
    return asyncio.run(
        judge_character(episode(), "Ann", model=role(chat), library=library, options=JudgeOptions(**options))
    )


def test_batched_and_per_item_calls(library: PatternLibrary) -> None:
    batched_chat, single_chat = fake_judge(), fake_judge()
    items = checklist_items(episode().scenario, "Ann", library)
    many = _run(batched_chat, library, batch_size=8)
    one = _run(single_chat, library, batch_size=1, holistic=False)
    per_batch = -(-len(items) // 8)
    assert len(batched_chat.calls) == per_batch + 1  # + the holistic call
    assert len(single_chat.calls) == len(items)
    assert many.usage.calls == per_batch + 1
    assert [v.score for v in many.verdicts] == [v.score for v in one.verdicts]
    assert [v.score for v in many.verdicts] == [fake_judge_score(i.id) for i in items]
    # CoSER by default: the fake lists one severity-2 anthropomorphism flaw and no fidelity flaw; Ann has 2 turns
    assert many.holistic is not None and many.holistic.method == "coser" and one.holistic is None
    assert (many.holistic.anthropomorphism, many.holistic.fidelity) == (100 - (2 - 0.3 * 2) * 5, 100.0)
    # every call shares the character's system prefix (prefix-cache friendly) and asks for its batch only
    prefixes = {calls[0].text for calls in batched_chat.calls}
    assert len(prefixes) == 1 and "2. Ann: [He must be tired.]" in prefixes.pop()


def test_unscored_items_are_retried_in_smaller_batches(library: PatternLibrary) -> None:
    """The first reply for each batch drops its last item; the retry asks only for what is missing."""
    asked: list[list[str]] = []

    def flaky(messages: list[BaseMessage], kwargs: dict) -> str:
        schema = json_schema_of(kwargs.get("response_format")) or {}
        if schema.get("title") != "JudgeVerdicts":
            return judge_reply(messages, kwargs)
        ids = list(schema["properties"])
        asked.append(ids)
        keep = ids if len(asked) > 2 else ids[:-1]
        return json.dumps({i: _entry(1) for i in keep})

    result = _run(ScriptedChatModel(function=flaky), library, batch_size=16, retries=2)
    n = len(result.items)
    assert [len(a) for a in asked] == [16, n - 16, 2]  # the retry: the two dropped items, one batch of <= 8
    assert set(asked[2]) == {asked[0][-1], asked[1][-1]}
    assert result.rounds == 2 and all(v.scored for v in result.verdicts) and len(result.verdicts) == n


def test_a_judge_that_never_answers_leaves_items_unscored_never_zero(library: PatternLibrary) -> None:
    chat = ScriptedChatModel(function=lambda _m, _k: "I cannot judge this.")
    result = _run(chat, library, batch_size=32, retries=1)
    assert all(v.score is None and "not valid JSON" in v.reason for v in result.verdicts)
    assert result.holistic is not None and result.holistic.fidelity is None and result.holistic.reason
    assert result.rounds == 2


def test_run_seed_is_sent_with_each_call(library: PatternLibrary) -> None:
    chat = fake_judge()
    judge = Judge(model=role(chat), library=library, seed=3)
    items = checklist_items(episode().scenario, "Ann", library)[:2]
    from humanllm.agents.judge import system_message

    asyncio.run(judge.score_items(system_message(episode(), "Ann"), "Ann", items, 4, attempt=1))
    assert chat.call_kwargs[0]["seed"] == 3001


def test_any_schema_valid_reply_scores_every_item(library: PatternLibrary) -> None:
    """A reply valid for the per-call schema always names every item of the batch: one round suffices
    (each item scored, or answered n/a: both are answers)."""
    import random

    rng = random.Random(0)

    def careless(_messages: list[BaseMessage], kwargs: dict) -> str:
        return json.dumps(example_for_schema(json_schema_of(kwargs["response_format"]) or {}, rng))

    result = _run(ScriptedChatModel(function=careless), library, batch_size=8, retries=3)
    assert all(v.answered for v in result.verdicts) and result.rounds == 1


def test_not_applicable_is_kept_apart_from_zero_and_from_unscored() -> None:
    from humanllm.agents.judge import parse_verdicts
    from humanllm.core import Verdict

    reply = json.dumps(
        {
            "a": {"turns": [1], "quote": "fine", "reason": "it shows", "score": 1},
            "b": {"turns": [], "quote": "", "reason": "nobody offered help", "score": "n/a"},
            "c": {"turns": [], "quote": "", "reason": "no chance", "score": "Not applicable."},
            "d": {"turns": [], "quote": "", "reason": "", "score": 0},
            "e": {"turns": [], "quote": "", "reason": "", "score": 7},
        }
    )
    got = parse_verdicts(reply, ["a", "b", "c", "d", "e"], 4)
    assert got["a"].score == 1 and not got["a"].not_applicable
    assert got["b"].not_applicable and got["b"].score is None and got["b"].answered and not got["b"].scored
    assert got["b"].reason == "nobody offered help"
    assert got["c"].not_applicable
    assert got["d"].score == 0 and not got["d"].not_applicable
    assert not got["e"].answered and "not -1, 0 or +1" in got["e"].reason
    assert got["b"].value() is None and got["b"].value(na_as_zero=True) == 0 and got["e"].value(na_as_zero=True) is None
    with pytest.raises(ValueError, match="n/a verdict has no score"):
        Verdict(item_id="x", score=1, not_applicable=True)


def test_an_na_answer_is_not_asked_again(library: PatternLibrary) -> None:
    def all_na(_messages: list[BaseMessage], kwargs: dict) -> str:
        schema = json_schema_of(kwargs["response_format"]) or {}
        return json.dumps({key: {"turns": [], "quote": "", "reason": "no chance", "score": "n/a"}
                           for key in schema.get("properties", {})})  # fmt: skip

    chat = ScriptedChatModel(function=all_na)
    result = _run(chat, library, batch_size=8, retries=3, holistic="off")
    assert result.rounds == 1 and all(v.not_applicable for v in result.verdicts)
    assert len(chat.calls) == -(-len(result.items) // 8)
