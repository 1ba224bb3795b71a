"""Forks of a stored episode on the scripted fakes: what is kept, what changes, what is judged, what is reported."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from humanllm.agents.character import private_guidance
from humanllm.agents.director import TurnRules
from humanllm.core import ChecklistItem, Episode, Metric, Score, Verdict, spec_id
from humanllm.evaluation import Judgement, JudgementStore, JudgeOptions, verify_store
from humanllm.llm import RoleModel, parse_spec
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import EpisodeStore, ForkSpec, RoleModels, RunOptions, SimulationConfig, run_episode
from humanllm.study import (
    ForkInputError,
    ForkRequest,
    ForkResult,
    find_episode,
    fork_agents,
    fork_episode,
    fork_rows,
    forked_scenario,
    judged_turns,
    plan_fork,
)
from humanllm.testing import ScriptedChatModel, fake_character, fake_judge, fake_writer

TURNS = 6
PATTERNS = ["confirmation bias", "kind"]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _role(name: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0)


@pytest.fixture(scope="module")
def source(graph: InteractionGraph) -> Episode:
    """One six-turn episode of two characters, on the fakes."""
    config = SimulationConfig(patterns=PATTERNS, seed=0, rules=TurnRules(min_turns=TURNS, max_turns=TURNS))
    models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", fake_character()))
    episode = asyncio.run(run_episode(config, graph, models))
    assert len(episode.conversation.turns) == TURNS
    return episode


def _plan(source: Episode, graph: InteractionGraph, **request: Any) -> list[ForkSpec]:
    fields: dict[str, Any] = {"at_turn": 3, "replicates": 2, **request}
    generation = _role("character", fake_character()).generation()
    return plan_fork(source, ForkRequest(**fields), graph, model="fake", generation=generation)


def _fork(
    source: Episode,
    specs: list[ForkSpec],
    out: Path,
    graph: InteractionGraph,
    *,
    character: RoleModel | None = None,
    judge_every: int = 1,
    run_options: RunOptions | None = None,
) -> ForkResult:
    return asyncio.run(
        fork_episode(
            source,
            specs,
            out=out,
            character=character or _role("character", fake_character()),
            judge=_role("judge", fake_judge()),
            graph=graph,
            judge_options=JudgeOptions(runs=1, batch_size=8, holistic="off"),
            judge_every=judge_every,
            run_options=run_options,
        )
    )


def _carrier(source: Episode, pattern: str) -> str:
    return next(name for name, held in source.scenario.char2pattern.items() if pattern in held)


# --- an edit --------------------------------------------------------------------------------------------------


def test_an_edit_keeps_the_start_replaces_turn_k_and_is_judged_turn_by_turn(
    source: Episode, graph: InteractionGraph, tmp_path: Path
) -> None:
    out = tmp_path / "fork"
    specs = _plan(source, graph, edit="[I should push back.] (frowns) No, that is not what happened at all.")
    result = _fork(source, specs, out, graph)

    ids = [spec_id(spec) for spec in specs]
    assert len(set(ids)) == 2 and result.continuations == ids and result.run.done == 2
    stored = {e.id: e for e in EpisodeStore.open_for_reading(out).iter_episodes()}
    assert set(stored) == set(ids)
    original = source.conversation.turns
    for episode in stored.values():
        turns = episode.conversation.turns
        assert [t.model_dump_json() for t in turns[:2]] == [t.model_dump_json() for t in original[:2]]
        edited = turns[2]
        assert edited.speaker == original[2].speaker and edited != original[2]
        assert (edited.thought, edited.action) == ("I should push back.", "frowns")
        assert edited.speech == "No, that is not what happened at all."
        assert len(turns) in (TURNS - 1, TURNS) and turns[3].speaker != edited.speaker  # played on from it
        assert episode.config["source_episode"] == source.id
        assert episode.spec == specs[episode.spec["replicate"]].model_dump(mode="json")

    judgements = list(JudgementStore.open_for_reading(out))
    judged = {(j.episode_id, j.character) for j in judgements}
    characters = list(specs[0].measure)
    assert characters and set(characters) <= {p.name for p in source.scenario.characters}
    for base, length in [(result.original, TURNS), *((i, len(stored[i].conversation.turns)) for i in ids)]:
        for turn in judged_turns(3, length):
            for character in characters:
                assert (f"{base}@{turn}", character) in judged
    assert len(judgements) == len(judged) == result.judging.judged
    assert result.turns == list(range(3, TURNS + 1))

    # the report's numbers are those of the stored judgements
    rows = list(csv.DictReader((out / "fork.csv").open(encoding="utf-8")))
    assert [r["character"] for r in rows][:1] == characters[:1] == [source.scenario.protagonist.name]
    assert rows and (out / "fork.md").read_text(encoding="utf-8").startswith(f"# Fork of episode {source.id} at turn 3")
    by_key = {(j.episode_id, j.character): j for j in judgements}
    for row in rows:
        if row["turn"] == "end":
            continue
        turn = int(row["turn"])
        values = [
            _value(by_key[(f"{i}@{turn}", row["character"])], row["item_id"])
            for i in ids
            if (f"{i}@{turn}", row["character"]) in by_key
        ]
        scored = [v for v in values if v is not None]
        assert int(row["n"]) == len(scored)
        assert float(row["mean"]) == pytest.approx(sum(scored) / len(scored))
        assert float(row["original"]) == _value(by_key[(f"{result.original}@{turn}", row["character"])], row["item_id"])
    assert verify_store(out).ok

    # a rerun plays and judges nothing, and changes no stored byte
    files = {path.name: path.read_bytes() for path in out.glob("*.jsonl")}
    again = _fork(source, specs, out, graph)
    assert again.run.done == 0 and again.run.already_done == 2
    assert again.judging.judged == 0 and again.judging.already_done == result.judging.requested
    assert {path.name: path.read_bytes() for path in out.glob("*.jsonl")} == files


def _value(judgement: Judgement, item_id: str) -> int | None:
    verdict = next(v for v in judgement.verdicts if v.item_id == item_id)
    return verdict.value()


def test_judge_every_thins_the_turns_but_keeps_the_end(
    source: Episode, graph: InteractionGraph, tmp_path: Path
) -> None:
    assert judged_turns(3, 8, 2) == [3, 5, 7, 8] and judged_turns(3, 3) == [3] and judged_turns(4, 3) == []
    specs = _plan(source, graph, at_turn=2, edit="(sighs) Fine, tell me again.", replicates=1)
    result = _fork(source, specs, tmp_path / "fork", graph, judge_every=3)
    (episode,) = EpisodeStore.open_for_reading(tmp_path / "fork").iter_episodes()
    length = len(episode.conversation.turns)
    ids = {j.episode_id for j in JudgementStore.open_for_reading(tmp_path / "fork")}
    assert {i.rsplit("@", 1)[1] for i in ids if i.startswith(result.original)} == {"2", "5", str(TURNS)}
    assert {i.rsplit("@", 1)[1] for i in ids if i.startswith(result.continuations[0])} == {
        str(t) for t in judged_turns(2, length, 3)
    }


# --- give and withhold --------------------------------------------------------------------------------------


def test_a_given_pattern_reaches_only_its_characters_prompt(
    source: Episode, graph: InteractionGraph, tmp_path: Path
) -> None:
    protagonist = source.scenario.protagonist.name
    specs = _plan(source, graph, give="anxious", to=protagonist, replicates=2)
    assert specs[0].give is not None and specs[0].give.character == protagonist
    assert "anxious" in specs[0].measure[protagonist]
    markers = private_guidance([graph.library.get("anxious")])
    chat = ScriptedChatModel(function=fake_character().function)  # records every prompt
    result = _fork(source, specs, tmp_path / "fork", graph, character=_role("character", chat))

    episodes = list(EpisodeStore.open_for_reading(tmp_path / "fork").iter_episodes())
    assert len(episodes) == 2 and len({e.id for e in episodes}) == 2
    played = sum(len(e.conversation.turns) - 2 for e in episodes)  # turns 1-2 kept: never asked again
    assert len(chat.calls) == played
    for messages in chat.calls:
        system, user = messages[0].text, messages[-1].text
        speaker = user.rsplit("your turn, ", 1)[1].rstrip(".").strip()
        shown = [marker for marker in markers if f"- {marker}" in system]
        assert shown == (markers if speaker == protagonist else [])
    for episode in episodes:
        assert "anxious" in episode.scenario.char2pattern[protagonist]
        assert [t.model_dump_json() for t in episode.conversation.turns[:2]] == [
            t.model_dump_json() for t in source.conversation.turns[:2]
        ]
    anxious = graph.library.get("anxious").id
    for judgement in JudgementStore.open_for_reading(tmp_path / "fork"):
        if judgement.character == protagonist:  # the original too is judged on the given pattern's items
            assert any(item.id.startswith(f"ipe.{anxious}.") for item in judgement.items)
    assert result.original.startswith(source.id)


def test_a_withheld_pattern_leaves_its_carriers_prompt_but_stays_measured(
    source: Episode, graph: InteractionGraph
) -> None:
    pattern = graph.library.get(PATTERNS[0]).name
    carrier = _carrier(source, pattern)
    (spec,) = _plan(source, graph, withhold=PATTERNS[0], replicates=1)  # --from found: one carrier
    assert spec.withhold is not None and spec.withhold.character == carrier
    assert pattern in spec.measure[carrier]
    model = _role("character", fake_character())
    before = fork_agents(source.scenario, model, graph.library, guidance=True)[carrier].system_prompt()
    scenario = forked_scenario(source.scenario, spec, graph.library)
    after = fork_agents(scenario, model, graph.library, guidance=True)[carrier].system_prompt()
    markers = private_guidance([graph.library.get(pattern)])
    assert all(m in before for m in markers) and not any(f"- {m}" in after for m in markers)
    assert pattern not in scenario.char2pattern[carrier] and pattern not in scenario.patterns


# --- bad requests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_fields", "option", "needle"),
    [
        ({"at_turn": 0, "edit": "Hi."}, "--at-turn", f"turns 1-{TURNS}, not 0"),
        ({"at_turn": TURNS + 1, "edit": "Hi."}, "--at-turn", f"turns 1-{TURNS}, not {TURNS + 1}"),
        ({"give": "no such pattern"}, "--give", "unknown pattern"),
        ({"give": "anxious", "withhold": "kind"}, "--give / --withhold", "not both"),
        ({}, "--edit / --give / --withhold", "nothing would change"),
        ({"give": "anxious", "to": "Nobody Here"}, "--to", "not in the scene"),
        ({"to": "protagonist"}, "--to", "goes with --give"),
        ({"from_": "protagonist"}, "--from", "goes with --withhold"),
        ({"withhold": "anxious"}, "--withhold", "nobody in episode"),
    ],
)
def test_bad_requests_fail_in_one_line_naming_the_option(
    source: Episode, graph: InteractionGraph, request_fields: dict[str, object], option: str, needle: str
) -> None:
    with pytest.raises(ForkInputError) as caught:
        _plan(source, graph, **request_fields)
    assert caught.value.option == option and needle in str(caught.value) and "\n" not in str(caught.value)


def test_patterns_the_character_cannot_take_or_does_not_carry(source: Episode, graph: InteractionGraph) -> None:
    carrier = _carrier(source, graph.library.get(PATTERNS[0]).name)
    other = next(p.name for p in source.scenario.characters if p.name != carrier)
    with pytest.raises(ForkInputError, match="does not carry") as caught:
        _plan(source, graph, withhold=PATTERNS[0], from_=other)
    assert caught.value.option == "--withhold"
    with pytest.raises(ForkInputError, match="already carries"):
        _plan(source, graph, give=PATTERNS[0], to=carrier)
    kind = _carrier(source, "kind")
    held = source.scenario.char2pattern[kind]
    clash = next(  # a pattern that cannot live beside one the character carries (the opposite pole of kind)
        p.name for p in graph.library.select() if p.name not in held and graph.violations([*held, p.name])
    )
    with pytest.raises(ForkInputError, match="excluded pair") as caught:
        _plan(source, graph, give=clash, to=kind)
    assert caught.value.option == "--give"


def test_an_edit_must_change_the_line_and_keep_its_speaker(source: Episode, graph: InteractionGraph) -> None:
    turn = source.conversation.turns[2]
    with pytest.raises(ForkInputError, match="as it was"):
        _plan(source, graph, edit=turn.as_trinity())
    other = next(p.name for p in source.scenario.characters if p.name != turn.speaker)
    with pytest.raises(ForkInputError, match=f"is {turn.speaker}'s"):
        _plan(source, graph, edit=f"{other}: (waves) Hello there.")
    (spec,) = _plan(source, graph, edit=f"{turn.speaker}: (waves) Hello there.", replicates=1)
    assert spec.edit is not None and spec.edit.speech == "Hello there." and spec.edit.speaker == turn.speaker


def test_the_episode_is_found_by_id_prefix_or_file(source: Episode, tmp_path: Path) -> None:
    with EpisodeStore.open_for_writing(tmp_path / "store") as store:
        store.add_episode(source)
    assert find_episode(source.id[:6], tmp_path / "store").id == source.id
    single = tmp_path / "one.json"
    single.write_text(source.model_dump_json(), encoding="utf-8")
    assert find_episode(str(single), None).id == source.id
    with pytest.raises(ForkInputError, match="no episode 'zzz'") as caught:
        find_episode("zzz", tmp_path / "store")
    assert caught.value.option == "EPISODE"
    with pytest.raises(ForkInputError) as missing:
        find_episode(source.id, tmp_path / "nowhere")
    assert missing.value.option == "--data"


def test_a_folder_holding_another_fork_is_refused(source: Episode, graph: InteractionGraph, tmp_path: Path) -> None:
    out = tmp_path / "fork"
    _fork(source, _plan(source, graph, edit="(shrugs) Maybe.", replicates=1), out, graph)
    more = _fork(source, _plan(source, graph, edit="(shrugs) Maybe.", replicates=2), out, graph)
    assert more.run.done == 1 and more.run.already_done == 1  # more replicates of the same fork resume it
    with pytest.raises(ForkInputError, match="holds another fork") as caught:
        _fork(source, _plan(source, graph, edit="(laughs) Never.", replicates=1), out, graph)
    assert caught.value.option == "--out"
    store = tmp_path / "store"
    with EpisodeStore.open_for_writing(store) as writer:
        writer.add_episode(source)
    with pytest.raises(ForkInputError, match="not a fork's"):
        _fork(source, _plan(source, graph, edit="(laughs) Never.", replicates=1), store, graph)


def test_a_failed_continuation_is_recorded_and_the_original_still_judged(
    source: Episode, graph: InteractionGraph, tmp_path: Path
) -> None:
    broken = _role("character", ScriptedChatModel(function=lambda _messages, _kwargs: RuntimeError("model down")))
    specs = _plan(source, graph, edit="(nods) Go on.", replicates=1)
    result = _fork(source, specs, tmp_path / "fork", graph, character=broken, run_options=RunOptions(episode_retries=0))
    assert result.run.failed == 1 and result.continuations == [] and result.failed == 1
    (failure,) = EpisodeStore.open_for_reading(tmp_path / "fork").failures()
    assert failure.id == spec_id(specs[0]) and "model down" in failure.reason
    assert {j.episode_id.rsplit("@", 1)[0] for j in JudgementStore.open_for_reading(tmp_path / "fork")} == {
        result.original
    }
    assert (tmp_path / "fork" / "fork.md").read_text(encoding="utf-8").count("none finished") == 1


# --- the comparison, by hand --------------------------------------------------------------------------------

ITEM = ChecklistItem(id="ipe.p.1", metric=Metric.IPE, question="Does | it show?", pattern="p")


def _judged(episode_id: str, score: int | None, *, na: bool = False, run: int = 0) -> Judgement:
    verdict = Verdict(item_id=ITEM.id, score=None if score is None else Score(score), not_applicable=na)
    return Judgement(
        episode_id=episode_id,
        character="Ana",
        judge="fake",
        run=run,
        prompt_version="v",
        batch_size=8,
        items=[ITEM],
        verdicts=[verdict],
    )


def test_rows_give_the_original_and_the_spread_of_the_continuations() -> None:
    judgements = [
        _judged("orig@3", 1),
        _judged("orig@3", 0, run=1),
        _judged("orig@4", 1),
        _judged("a@3", 1),
        _judged("b@3", 0),
        _judged("c@3", 0),
        _judged("a@4", -1),
        _judged("b@4", None, na=True),  # c ends at turn 3: its end is its turn 3
        _judged("other@3", -1),  # not of this fork
    ]
    rows = {row.turn: row for row in fork_rows(judgements, original="orig", continuations=["a", "b", "c"])}
    assert list(rows) == [3, 4, None]
    three, four, end = rows[3], rows[4], rows[None]
    assert three.original == 0.5 and three.original_n == 2
    assert three.mean == pytest.approx(1 / 3) and (three.min, three.max) == (0.0, 1.0)
    assert three.agreement == pytest.approx(2 / 3) and three.n == 3 and three.reached == 3 and not three.diverges
    assert four.original == 1.0 and four.mean == -1.0 and four.n == 1 and four.reached == 2 and four.diverges
    assert end.original == 1.0 and end.n == 2 and end.mean == pytest.approx(-0.5) and end.reached == 3
    assert end.diverges and end.question == "Does | it show?"
    counted = {
        r.turn: r for r in fork_rows(judgements, original="orig", continuations=["a", "b", "c"], na_as_zero=True)
    }
    assert counted[4].n == 2 and counted[4].mean == pytest.approx(-0.5)


def test_the_report_files_hold_the_rows(tmp_path: Path) -> None:
    from humanllm.study import write_fork_report

    judgements = [_judged("orig@3", 1), _judged("a@3", -1), _judged("b@3", -1)]
    rows = fork_rows(judgements, original="orig", continuations=["a", "b"])
    files = write_fork_report(
        tmp_path, rows, source="S", at_turn=3, change="x", continuations=["a", "b"], original="orig", judge="fake"
    )
    assert [f.name for f in files] == ["fork.csv", "fork.md"] and not list(tmp_path.glob(".*tmp"))
    table = list(csv.DictReader((tmp_path / "fork.csv").open(encoding="utf-8")))
    assert [(r["turn"], r["original"], r["mean"], r["diverges"]) for r in table] == [
        ("3", "1", "-1", "yes"),
        ("end", "1", "-1", "yes"),
    ]
    text = (tmp_path / "fork.md").read_text(encoding="utf-8")
    assert "| Ana | ipe.p.1 | p | Does \\| it show? | +1.00 | -1.00 | -1.00..-1.00 | 100% |" in text
    assert "+1.00 → -1.00 **≠**" in text
    assert json.loads(json.dumps([r.model_dump() for r in rows]))[0]["item_id"] == "ipe.p.1"
