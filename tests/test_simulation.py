from __future__ import annotations

import asyncio
import itertools
import json
import random
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from humanllm.agents.author import write_conversation
from humanllm.agents.character import CharacterAgent
from humanllm.agents.director import RuleDirector, TurnRules
from humanllm.agents.leaks import leaked_labels
from humanllm.agents.trinity import UnknownSpeakerError, parse_transcript, parse_trinity
from humanllm.core import CharacterProfile, Scenario, Turn, spec_id
from humanllm.errors import StructuredOutputError
from humanllm.graphs.conversation import conversation_graph
from humanllm.graphs.episode import episode_graph
from humanllm.graphs.scenario import ScenarioStepError, scenario_graph
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, plan_episode, run_episode
from humanllm.testing import ScriptedChatModel, fake_character, fake_writer

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _role(role: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=role, spec=parse_spec("fake"), chat=chat, max_retries=0)


def _models(character: ScriptedChatModel | None = None) -> RoleModels:
    return RoleModels(
        writer=_role("writer", fake_writer()), character=_role("character", character or fake_character())
    )


def _run(config: SimulationConfig, graph: InteractionGraph, models: RoleModels | None = None):  # type: ignore[no-untyped-def]
    return asyncio.run(run_episode(config, graph, models or _models()))


@pytest.mark.parametrize(
    ("name", "factory"),
    [("conversation", conversation_graph), ("scenario", scenario_graph), ("episode", episode_graph)],
)
def test_graph_topology_is_pinned(name: str, factory) -> None:  # type: ignore[no-untyped-def]
    mermaid = factory().get_graph().draw_mermaid()
    assert mermaid == (SNAPSHOTS / f"{name}_graph.mmd").read_text()


def test_characters_never_see_each_others_thoughts(graph: InteractionGraph) -> None:
    character = fake_character()
    config = SimulationConfig(
        patterns=["confirmation bias", "shy", "bold"], characters=3, rules=TurnRules(min_turns=8, max_turns=10)
    )
    episode = _run(config, graph, _models(character))
    turns = episode.conversation.turns
    assert all(t.thought.startswith("SECRET-") for t in turns)
    for messages in character.calls:
        prompt = "\n".join(m.text for m in messages)
        me = prompt.rsplit("it is your turn, ", 1)[-1].rstrip(".").strip()
        for turn in turns:
            if turn.speaker != me:
                assert turn.thought not in prompt, f"{me} saw {turn.speaker}'s thought"


def test_turn_rules_hold_across_seeds(graph: InteractionGraph) -> None:
    for seed in range(6):
        config = SimulationConfig(
            patterns=["sunk cost fallacy", "anxious"],
            seed=seed,
            characters=2 + seed % 3,
            rules=TurnRules(min_turns=6, max_turns=9),
        )
        episode = _run(config, graph)
        turns = episode.conversation.turns
        protagonist = episode.scenario.protagonist.name
        assert 6 <= len(turns) <= 9
        assert turns[0].speaker != protagonist and turns[-1].speaker == protagonist
        assert all(a.speaker != b.speaker for a, b in itertools.pairwise(turns))
        assert sum("goodbye" in t.speech for t in turns) <= 1  # one closing line, never a goodbye loop


def test_director_closes_on_farewell_and_staleness() -> None:
    rules = TurnRules(min_turns=4, max_turns=20)
    director = RuleDirector(["P", "A"], "P", rules, random.Random(0))
    turns = [Turn(speaker=s, speech=f"line {i}") for i, s in enumerate(["A", "P", "A", "P"])]
    farewell = [*turns, Turn(speaker="A", speech="Well, goodbye then.")]
    decision = director.decide(farewell)
    assert decision.speaker == "P" and decision.closing and decision.reason == "natural close"
    stale = [*turns, Turn(speaker="A", speech="line 2")]
    assert director.decide(stale).reason == "conversation went stale"


def test_episode_records_scenario_usage_and_a_stable_id(graph: InteractionGraph) -> None:
    config = SimulationConfig(
        patterns=["confirmation bias", "kind"], situation="duty", seed=9, rules=TurnRules(min_turns=4, max_turns=4)
    )
    episode = _run(config, graph)
    assert set(episode.scenario.char2pattern) == {p.name for p in episode.scenario.characters}
    assert sorted(p for held in episode.scenario.char2pattern.values() for p in held) == ["confirmation bias", "kind"]
    assert {c.character for c in episode.scenario.checklists} <= set(episode.scenario.char2pattern)
    assert episode.usage["writer"].calls == 2 and episode.usage["character"].calls == 4
    assert episode.id == plan_episode(config, graph).id
    assert episode.id != plan_episode(config.model_copy(update={"seed": 10}), graph).id


def test_a_turn_naming_its_pattern_is_regenerated(graph: InteractionGraph) -> None:
    replies = iter(
        [
            {"thought": "Classic confirmation bias on my part.", "action": "nods", "speech": "Fine."},
            {"thought": "I knew it all along.", "action": "nods", "speech": "See? As I said."},
        ]
    )
    chat = ScriptedChatModel(function=lambda _m, _k: json.dumps(next(replies)))
    agent = CharacterAgent(
        profile=CharacterProfile(name="Ann", about_self="x", about_others="y"),
        background="An office.",
        patterns=[graph.library.get("confirmation bias")],
        model=_role("character", chat),
    )
    turn = asyncio.run(agent.take_turn([]))
    assert turn.thought == "I knew it all along." and len(chat.calls) == 2
    assert "do not use the words: confirmation bias" in chat.calls[1][-1].text


def test_trait_words_count_as_leaks_only_as_self_labels(graph: InteractionGraph) -> None:
    careful = [graph.library.get("careful")]
    assert leaked_labels(Turn(speaker="A", speech="Be careful with that."), careful) == []
    assert leaked_labels(Turn(speaker="A", thought="I'm so careful, always."), careful) == ["careful"]


def test_malformed_writer_output_fails_naming_the_step(graph: InteractionGraph) -> None:
    models = RoleModels(
        writer=_role("writer", ScriptedChatModel(function=lambda _m, _k: "no json here")),
        character=_role("character", fake_character()),
    )
    with pytest.raises(ScenarioStepError, match=r"scenario step 'draft' failed: .*after 3 tries"):
        _run(SimulationConfig(patterns=["kind"]), graph, models)


def test_trinity_parser_handles_messy_text() -> None:
    turn = parse_trinity('  [I hate this [really]] (sighs) (looks away) "Fine, do it."  [unclosed thought')
    assert turn.thought == "I hate this [really] unclosed thought"
    assert turn.action == "sighs; looks away"
    assert turn.speech == '"Fine, do it."'  # quotes are the speaker's: kept (issue 15)
    assert [s.channel for s in turn.segments] == ["thought", "action", "action", "speech", "thought"]
    text = "**Ann**: [Hm.] (frowns) Really?\nBen: (shrugs) Yes.\nand more words\n\nANN: Ok."
    turns = parse_transcript(text, ["Ann", "Ben"])
    assert [t.speaker for t in turns] == ["Ann", "Ben", "Ann"]
    assert turns[1].speech == "Yes.\nand more words"
    with pytest.raises(UnknownSpeakerError, match="Zed"):
        parse_transcript("Zed: hello", ["Ann", "Ben"])


def _scenario() -> Scenario:
    return Scenario(
        patterns=["kind"],
        situation="duty",
        analysis="a",
        background="b",
        protagonist=CharacterProfile(name="Ann", about_self="s", about_others="o"),
        supporting=[CharacterProfile(name="Ben", about_self="s", about_others="o")],
        char2pattern={"Ann": ["kind"], "Ben": []},
    )


def test_author_mode_repairs_then_validates(graph: InteractionGraph) -> None:
    bad = "Ann: [x] (y) Hi\nBen: hello\nAnn: bye"  # protagonist opens: invalid
    good = "Ben: (waves) Hi Ann.\nAnn: [Oh no.] (smiles) Hello.\nBen: How are you?\nAnn: Fine, goodbye."
    chat = ScriptedChatModel(replies=[bad, good])
    rules = TurnRules(min_turns=2, max_turns=6)
    turns = asyncio.run(write_conversation(_role("character", chat), _scenario(), {}, rules, "Ben"))
    assert [t.speaker for t in turns] == ["Ben", "Ann", "Ben", "Ann"]
    assert "Ben must speak first" in chat.calls[1][-1].text
    never = ScriptedChatModel(replies=["Zed: hi"] * 3)
    with pytest.raises(StructuredOutputError, match="not in the cast"):
        asyncio.run(write_conversation(_role("character", never), _scenario(), {}, rules, "Ben"))


def test_author_mode_end_to_end(graph: InteractionGraph) -> None:
    def author(messages: list[BaseMessage], _kwargs: dict) -> str:
        prompt = messages[-1].text
        opener = prompt.split("- ", 3)[2].split(" speaks first")[0].strip() if " speaks first" in prompt else ""
        cast = [line[4:].split(" (")[0] for line in prompt.splitlines() if line.startswith("### ")]
        other = next(c for c in cast if c != cast[0])
        lines = [f"{opener or other}: (nods) Hello there."] + [
            f"{cast[0] if i % 2 else other}: [thinking {i}] (looks up) Line {i}." for i in range(1, 6)
        ]
        return "\n".join(lines)

    config = SimulationConfig(
        patterns=["kind", "confirmation bias"], mode="author", rules=TurnRules(min_turns=4, max_turns=8)
    )
    models = RoleModels(
        writer=_role("writer", fake_writer()), character=_role("character", ScriptedChatModel(function=author))
    )
    episode = _run(config, graph, models)
    assert episode.mode == "author" and len(episode.conversation.turns) == 6
    assert episode.usage["character"].calls == 1


def test_simulate_cli_runs_offline_and_saves_the_episode(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from humanllm.cli._app import register

    out = tmp_path / "ep.json"
    result = CliRunner().invoke(
        register(), ["simulate", "--model", "fake", "--turns", "4-5", "--seed", "2", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["models"]["character"] == "fake" and 4 <= len(saved["conversation"]["turns"]) <= 5
    assert spec_id(saved["spec"]) == saved["id"]  # the id is recomputed from the stored spec


def test_variation_is_written_with_its_own_checklists(graph: InteractionGraph) -> None:
    config = SimulationConfig(
        patterns=["confirmation bias", "shy"], variation=True, rules=TurnRules(min_turns=2, max_turns=2)
    )
    episode = _run(config, graph)
    varied = episode.scenario.variation
    assert varied is not None and varied.new_factor_settings and varied.checklists
    assert {c.character for c in varied.checklists} == {c.character for c in episode.scenario.checklists}
    assert episode.id != plan_episode(config.model_copy(update={"variation": False}), graph).id


def test_interactive_person_plays_the_protagonist(graph: InteractionGraph) -> None:
    typed = iter(["", "[Not again.] (sighs) Fine, I'll look.", "(stands up) Goodbye."])
    prompts: list[str] = []

    def reader(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    config = SimulationConfig(patterns=["kind", "anxious"], rules=TurnRules(min_turns=4, max_turns=4))
    episode = asyncio.run(run_episode(config, graph, _models(), human=reader))
    protagonist = episode.scenario.protagonist.name
    mine = [t for t in episode.conversation.turns if t.speaker == protagonist]
    assert [t.speech for t in mine] == ["Fine, I'll look.", "Goodbye."] and mine[0].thought == "Not again."
    assert mine[1].action == "stands up"
    assert "close the conversation" in prompts[-1]  # the person is told when to close


def test_episode_ids_depend_only_on_the_prompts_that_shape_an_episode() -> None:
    from humanllm.agents._templates import PROMPTS
    from humanllm.simulation import template_versions

    versions = template_versions()
    assert set(versions) >= {"scenario_draft", "character_system", "character_turn", "author"}
    model_layer = PROMPTS.parent.parent / "llm" / "prompts"
    assert all(
        (
            model_layer / f"{name.removeprefix('llm/')}.jinja" if name.startswith("llm/") else PROMPTS / f"{name}.jinja"
        ).exists()
        for name in versions
    )
    assert {"writer_system", "author_system", "llm/repair", "llm/schema_instruction"} <= set(versions)
    assert not {"sft_system", "judge_items"} & set(versions)
