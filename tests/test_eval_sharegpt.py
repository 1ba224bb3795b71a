"""`eval run --format sharegpt`: the model under test sees exactly what `export-sft` trains on."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from humanllm.agents.character import private_guidance
from humanllm.cli._app import register
from humanllm.core import CharacterProfile, Conversation, Episode, Scenario, ScenarioChecklist, Turn
from humanllm.errors import StructuredOutputError
from humanllm.evaluation import BenchmarkConfig, EvalResults, replay_turns, verify_store
from humanllm.evaluation._benchmark import live_conversation, play_id, play_spec
from humanllm.evaluation._sft_player import read_turn
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import load_library
from humanllm.simulation import EpisodeStore, split_store
from humanllm.testing import ScriptedChatModel, register_fakes
from humanllm.training import episode_records

runner = CliRunner()
SHAREGPT_ROLE = {"human": "user", "gpt": "assistant"}


def _episode(n: int = 6, first: str = "Ben") -> Episode:
    speakers = ["Ben", "Ann"] if first == "Ben" else ["Ann", "Ben"]
    turns = [
        Turn(speaker=speakers[i % 2], thought=f"thought {i}", action=f"act {i}", speech=f"line {i}") for i in range(n)
    ]
    return Episode(
        id=f"e-{first}-{n}",
        scenario=Scenario(
            patterns=["sunk cost fallacy", "anxious"],
            situation="duty",
            analysis="a",
            background="An office late at night.",
            protagonist=CharacterProfile(name="Ann", about_self="Manager; proud.", about_others="Ben: cautious."),
            supporting=[CharacterProfile(name="Ben", about_self="Analyst.", about_others="Ann: stubborn.")],
            char2pattern={"Ann": ["sunk cost fallacy"], "Ben": ["anxious"]},
            checklists=[
                ScenarioChecklist(character="Ann", items=["Ann defends the plan."]),
                ScenarioChecklist(character="Ben", items=["Ben hesitates."]),
            ],
        ),
        conversation=Conversation(turns=turns),
    )


def _role(chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role="character", spec=parse_spec("fake"), chat=chat, max_retries=0)


def to_chat_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": m.text} for m in messages]


def _record_as_chat(record: dict[str, Any]) -> list[dict[str, str]]:
    turns = [{"role": SHAREGPT_ROLE[t["from"]], "content": t["value"]} for t in record["conversations"]]
    return [{"role": "system", "content": record["system"]}, *turns]


def _numbered(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    return f"[my thought {len(messages)}] (my act) my line {len(messages)}"


@pytest.mark.parametrize(("first", "guidance"), [("Ben", False), ("Ann", False), ("Ben", True)])
def test_the_model_under_test_sees_the_export_sft_record_prefix(first: str, guidance: bool) -> None:
    episode = _episode(first=first)
    library = load_library()
    cards = {who: library.resolve(held) for who, held in episode.scenario.char2pattern.items()}
    records = episode_records(episode, cards=cards, keep_guidance=guidance)
    for character in ("Ann", "Ben"):
        (record,) = [r for r in records if r["system"].startswith(f"You are {character}.")]
        chat = ScriptedChatModel(function=_numbered)
        played = asyncio.run(replay_turns(episode, character, _role(chat), library, guidance=guidance, fmt="sharegpt"))
        expected = _record_as_chat(record)
        assert len(chat.calls) == sum(1 for t in episode.conversation.turns if t.speaker == character)
        for k, messages in enumerate(chat.calls):
            assert to_chat_dicts(messages) == expected[: 2 * k + 2]  # system + k exchanges + the next context
            assert chat.call_kwargs[k].get("response_format") is None  # plain text, no JSON schema
        if guidance:
            assert private_guidance(cards[character])[0] in record["system"]
        mine = [t for t in played if t.speaker == character]
        assert mine[0] == Turn(speaker=character, thought="my thought 2", action="my act", speech="my line 2")
        others = [t for t in played if t.speaker != character]
        assert others == [t for t in episode.conversation.turns if t.speaker != character]  # teacher forcing


def test_json_prompts_are_unchanged_by_default() -> None:
    reply = json.dumps({"thought": "t", "action": "a", "speech": "s"})
    chat = ScriptedChatModel(function=lambda messages, kwargs: reply)
    asyncio.run(replay_turns(_episode(), "Ann", _role(chat), load_library(), guidance=False))
    assert all(kwargs.get("response_format") for kwargs in chat.call_kwargs)
    assert len(chat.calls[0]) == 2 and "Now it is your turn, Ann." in chat.calls[0][1].text


def test_live_mode_plays_the_target_through_the_sft_prompt_and_the_partner_through_json() -> None:
    episode = _episode()
    episode = episode.model_copy(update={"config": {"min_turns": 4, "max_turns": 4}})
    target = ScriptedChatModel(function=_numbered)
    partner = ScriptedChatModel(
        function=lambda m, k: json.dumps({"thought": "p", "action": "q", "speech": f"partner {len(m)}"})
    )
    conversation = asyncio.run(
        live_conversation(episode, "Ann", _role(target), _role(partner), load_library(), guidance=False, fmt="sharegpt")
    )
    assert [t.speaker for t in conversation.turns] == ["Ben", "Ann", "Ben", "Ann"]
    assert all(k.get("response_format") is None for k in target.call_kwargs)
    assert all(k.get("response_format") for k in partner.call_kwargs)
    last = to_chat_dicts(target.calls[-1])
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert last[2]["content"] == "[my thought 2] (my act) my line 2"  # its own earlier turn, as it played it


@pytest.mark.parametrize(
    ("reply", "turn", "problem"),
    [
        ("[hm] (nods) Fine.", Turn(speaker="Ann", thought="hm", action="nods", speech="Fine."), ""),
        ("Ann: (nods) Fine.\nBen: (sighs) No.", Turn(speaker="Ann", action="nods", speech="Fine."), ""),
        ("**Ann**: Fine.", Turn(speaker="Ann", speech="Fine."), ""),
        ("  \n ", Turn(speaker="Ann"), "the reply is empty"),
        ("[only a thought]", Turn(speaker="Ann", thought="only a thought"), "it has nothing said aloud"),
        ("Ben: (sighs) No.", Turn(speaker="Ann"), "it is written as Ben, not Ann"),
    ],
)
def test_read_turn(reply: str, turn: Turn, problem: str) -> None:
    assert read_turn(reply, "Ann", ["Ben"]) == (turn, problem)


def test_an_unusable_reply_is_repaired_then_the_play_fails_with_its_reason() -> None:
    chat = ScriptedChatModel(replies=["", "[just thinking]", "(waves) Hello."])
    played = asyncio.run(
        replay_turns(_episode(n=2), "Ann", _role(chat), load_library(), guidance=False, fmt="sharegpt")
    )
    assert played[-1] == Turn(speaker="Ann", action="waves", speech="Hello.")
    repair = to_chat_dicts(chat.calls[2])
    assert repair[:-2] == to_chat_dicts(chat.calls[0])  # the exact prompt, then the bad reply and what to fix
    assert repair[-2] == {"role": "assistant", "content": "[just thinking]"}
    assert "nothing said aloud" in repair[-1]["content"]
    never = ScriptedChatModel(function=lambda m, k: "")
    with pytest.raises(StructuredOutputError, match=r"unusable turns for Ann.*the reply is empty"):
        asyncio.run(replay_turns(_episode(n=2), "Ann", _role(never), load_library(), guidance=False, fmt="sharegpt"))


def test_formats_never_share_ids_and_json_ids_stay_as_before() -> None:
    episode = _episode()
    json_config = BenchmarkConfig(models=["fake"], data=Path("d"), out=Path("o"))
    sft_config = json_config.model_copy(update={"format": "sharegpt"})
    assert play_id(episode, "Ann", "fake", json_config) != play_id(episode, "Ann", "fake", sft_config)
    stored = play_spec(episode, "Ann", "fake", json_config).model_dump(mode="json")
    assert "format" not in stored  # a json play's spec (and so its id) is what it was before formats existed
    assert play_spec(episode, "Ann", "fake", sft_config).model_dump(mode="json")["format"] == "sharegpt"
    assert (json_config.run_name, sft_config.run_name) == ("replay", "replay-sharegpt")


@pytest.fixture
def split_folder(tmp_path: Path) -> Path:
    store = EpisodeStore(tmp_path / "store")
    for n in (4, 5):
        store.add_episode(_episode(n=n))
    split_store(store, load_library(), tmp_path / "store" / "splits", ood_patterns=["kind"], eval_size=5)
    return tmp_path / "store" / "splits"


def _bench(split_folder: Path, out: Path, *extra: str) -> Any:
    args = ["eval", "run", "--judge", "fake", "--data", str(split_folder), "--out", str(out), "--runs", "1"]
    return runner.invoke(register(), [*args, *extra, "--json"])


def test_both_formats_run_into_one_out_folder_without_mixing(split_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    assert _bench(split_folder, out, "--model", "fake:schema").exit_code == 0
    result = _bench(split_folder, out, "--model", "fake:schema", "--format", "sharegpt")
    assert result.exit_code == 0, result.output
    results = EvalResults.load(out / "results-replay-sharegpt.json")
    assert results.config["format"] == "sharegpt" and results.reports["fake:schema"].overall["mpd"].mean is not None
    assert EvalResults.load(out / "results-replay.json").config["format"] == "json"
    assert "sharegpt format" in (out / "results-replay-sharegpt.md").read_text()
    played = list(EpisodeStore(out / "fake_schema" / "replay-sharegpt").iter_episodes())
    json_ids = {e.id for e in EpisodeStore(out / "fake_schema" / "replay").iter_episodes()}
    assert played and all(e.spec and e.spec["format"] == "sharegpt" for e in played)
    assert not json_ids & {e.id for e in played}
    for episode in played:  # the fake:schema text reply, parsed as trinity text
        target = str(episode.config["target"])
        mine = [t for t in episode.conversation.turns if t.speaker == target]
        assert mine and all(
            t == Turn(speaker=target, thought="I should answer.", action="nods", speech="All right.") for t in mine
        )
    assert verify_store(out).ok


@pytest.fixture
def silent_fake() -> Iterator[None]:
    """`fake` answers every character call (a JSON turn or a plain-text one) with nothing; the judge as usual."""

    def reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        from humanllm.llm import json_schema_of
        from humanllm.testing import role_reply

        schema = json_schema_of(kwargs.get("response_format"))
        return "" if schema is None or schema.get("title") == "TurnReply" else role_reply(messages, kwargs)

    register()  # the CLI registers the usual fakes once per process: before ours, not over them
    register_fakes(reply)
    yield
    register_fakes()


@pytest.mark.parametrize("fmt", ["json", "sharegpt"])
def test_a_model_that_never_answers_usably_fails_its_plays_not_the_command(
    split_folder: Path, tmp_path: Path, silent_fake: None, fmt: str
) -> None:
    result = _bench(split_folder, tmp_path / "bench", "--model", "fake", "--format", fmt)
    assert result.exit_code == 4, result.output  # nothing finished (README "Exit codes"), not an error about the folder
    run = "replay" if fmt == "json" else "replay-sharegpt"
    results = EvalResults.load(tmp_path / "bench" / f"results-{run}.json")
    assert results.reports == {} and len(results.notes) == 4  # two episodes x two judged characters
    assert all("could not play" in note for note in results.notes)


def test_records_and_prompts_come_from_one_builder() -> None:
    """Windowing aside, every record is the prompt of its last target turn plus that turn."""
    episode = _episode(n=7)
    from humanllm.training import prompt_messages

    for record in episode_records(episode):
        character = record["system"].split(".")[0].removeprefix("You are ")
        turns = episode.conversation.turns
        last = max(i for i, t in enumerate(turns) if t.speaker == character)
        chat = _record_as_chat(record)
        assert prompt_messages(episode, character, turns[:last]) == chat[:-1]
        assert all(a["role"] != b["role"] for a, b in itertools.pairwise(chat[1:]))
