"""The graphs as LangGraph Studio (`langgraph dev`) loads them, and the pause for a person's line.

The server imports each `module:attr` that `langgraph.json` names, calls the factory, draws the
input, output and context JSON schemas, and starts runs with plain JSON for input and context.
These tests do the same with LangGraph itself (the server is an optional extra).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel
from langgraph.types import Command

from humanllm.core import Episode, Scenario, Turn
from humanllm.graphs.episode import EpisodeContext
from humanllm.simulation import check_checkpointing
from humanllm.simulation._drive import serializer

ROOT = Path(__file__).resolve().parents[1]
FAKE = {"spec": "fake"}
EPISODE_CONTEXT = {"writer": FAKE, "character": FAKE, "rules": {"min_turns": 4, "max_turns": 6}, "seed": 3}


def studio_graphs() -> dict[str, Pregel]:
    """Every graph `langgraph.json` names, loaded the way langgraph_api does (import, call the factory)."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    graphs = {}
    for graph_id, path in config["graphs"].items():
        module, attr = path.split(":")
        factory = getattr(importlib.import_module(module), attr)
        assert callable(factory) and not inspect.signature(factory).parameters  # a zero-argument factory
        graphs[graph_id] = factory()
    return graphs


@pytest.fixture(scope="module")
def graphs() -> dict[str, Pregel]:
    return studio_graphs()


@pytest.fixture(scope="module")
def studio_episode(graphs: dict[str, Pregel]) -> dict[str, Any]:
    """An episode started from JSON, as Studio sends it."""
    graph_input = json.loads('{"patterns": ["shy", "bold"], "situation": "sociality"}')
    return asyncio.run(graphs["episode"].ainvoke(graph_input, context=json.loads(json.dumps(EPISODE_CONTEXT))))


def _keys(schema: object) -> set[str]:
    """Every property name anywhere in a JSON schema."""
    if isinstance(schema, dict):
        here = set(schema.get("properties", {})) if isinstance(schema.get("properties"), dict) else set()
        return here.union(*(_keys(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_keys(v) for v in schema))
    return set()


def test_langgraph_json_names_the_four_graphs_and_each_draws_its_schemas(graphs: dict[str, Pregel]) -> None:
    assert set(graphs) == {"scenario", "conversation", "episode", "judge"}
    for graph_id, graph in graphs.items():
        assert isinstance(graph, Pregel) and graph.name == graph_id
        schemas = {
            "input": graph.get_input_jsonschema(),
            "output": graph.get_output_jsonschema(),
            "context": graph.get_context_jsonschema(),
        }
        json.dumps(schemas)  # what /schemas returns
        context = _keys(schemas["context"])
        assert "seed" in context and "patterns_dirs" in context
        assert not {k for k in context if "key" in k.lower() or "secret" in k.lower()}, "a secret in the context"
    assert {"scenario", "turns"} <= set(graphs["conversation"].get_input_jsonschema()["properties"])


def test_an_episode_runs_from_plain_json(studio_episode: dict[str, Any]) -> None:
    scenario, conversation = studio_episode["scenario"], studio_episode["conversation"]
    assert isinstance(scenario, Scenario) and scenario.patterns == ["shy", "bold"]
    assert 4 <= len(conversation.turns) <= 6 and conversation.turns[-1].speaker == scenario.protagonist.name
    assert len({turn.speaker for turn in conversation.turns}) == 2


def test_a_context_of_live_objects_is_not_needed_and_settings_are_checked() -> None:
    assert EpisodeContext().parts is None  # every field has a default: Studio's empty form is a valid context
    with pytest.raises(ValueError, match="api_key"):
        EpisodeContext.model_validate({"writer": {"spec": "fake", "api_key": "sk-x"}})


def test_the_conversation_graph_runs_from_a_json_scenario(
    graphs: dict[str, Pregel], studio_episode: dict[str, Any]
) -> None:
    scenario = studio_episode["scenario"].model_dump(mode="json")
    opening = {"speaker": scenario["supporting"][0]["name"], "segments": [{"channel": "speech", "text": "Hi."}]}
    context = {"character": FAKE, "rules": {"min_turns": 4, "max_turns": 4}}
    result = asyncio.run(graphs["conversation"].ainvoke({"scenario": scenario, "turns": [opening]}, context=context))
    turns = result["turns"]
    assert len(turns) == 4 and all(isinstance(t, Turn) for t in turns) and turns[0].speech == "Hi."


def test_a_person_s_turn_pauses_the_graph_and_their_line_resumes_it(
    graphs: dict[str, Pregel], studio_episode: dict[str, Any]
) -> None:
    scenario = studio_episode["scenario"].model_dump(mode="json")
    protagonist = scenario["protagonist"]["name"]
    graph = graphs["conversation"].copy(update={"checkpointer": InMemorySaver(serde=serializer())})
    config: Any = {"configurable": {"thread_id": "person"}}
    context = {"character": FAKE, "human": protagonist, "rules": {"min_turns": 4, "max_turns": 4}}
    result = asyncio.run(graph.ainvoke({"scenario": scenario}, config, context=context))
    (pause,) = result["__interrupt__"]
    assert pause.value["speaker"] == protagonist and "[thought] (action) speech" in pause.value["prompt"]
    lines = iter(["", "[Not again.] (sighs) Fine, I'll look.", "(stands up) Goodbye."])
    while "__interrupt__" in result:
        result = asyncio.run(graph.ainvoke(Command(resume=next(lines)), config, context=context))
    mine = [t for t in result["turns"] if t.speaker == protagonist]
    assert [t.speech for t in mine] == ["Fine, I'll look.", "Goodbye."] and mine[0].thought == "Not again."
    assert len(result["turns"]) == 4 and next(lines, None) is None  # the empty line was asked again


def _cli(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "humanllm", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
    )


def test_simulate_checkpoints_every_step_to_sqlite_and_keeps_the_episode_id(tmp_path: Path) -> None:
    check_checkpointing()  # langgraph-checkpoint-sqlite is a dev dependency: this suite tests it
    common = ["simulate", "--model", "fake", "--patterns", "shy,bold", "--turns", "4-4", "--json"]
    with_file = _cli(*common, "--checkpoint", "run.sqlite", "--out", "a.json", cwd=tmp_path)
    assert with_file.returncode == 0, with_file.stderr
    plain = _cli(*common, "--out", "b.json", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    a, b = (Episode.model_validate_json((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert a.id == b.id  # checkpointing changes nothing in the episode
    assert a.conversation == b.conversation
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        namespaces = {ns for (ns,) in db.execute("select distinct checkpoint_ns from checkpoints")}
        steps = db.execute("select count(*) from checkpoints").fetchone()[0]
    assert "" in namespaces and any(ns.startswith("conversation:") for ns in namespaces) and steps > 8


def test_interactive_simulate_pauses_for_each_line_typed(tmp_path: Path) -> None:
    done = _cli(
        "simulate", "--model", "fake", "--patterns", "shy,bold", "--turns", "4-4", "--interactive",
        "--out", "me.json",
        cwd=tmp_path,
        stdin="[Why me?] (shrugs) Fine.\n(waves) Goodbye.\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    episode = Episode.model_validate_json((tmp_path / "me.json").read_text())
    mine = [t for t in episode.conversation.turns if t.speaker == episode.scenario.protagonist.name]
    assert [t.speech for t in mine] == ["Fine.", "Goodbye."] and mine[0].thought == "Why me?"
    assert "Deserializing unregistered type" not in done.stderr + done.stdout


def test_checkpoint_without_the_sqlite_package_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from humanllm.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "aiosqlite" else real(name, *a))
    with pytest.raises(ConfigError, match=r"langgraph-checkpoint-sqlite.*humanllm\[studio\]") as caught:
        check_checkpointing()
    assert "\n" not in str(caught.value)


def test_the_judge_graph_scores_a_json_episode(graphs: dict[str, Pregel], studio_episode: dict[str, Any]) -> None:
    episode = {
        "id": "studio",
        "scenario": studio_episode["scenario"].model_dump(mode="json"),
        "conversation": studio_episode["conversation"].model_dump(mode="json"),
    }
    character = episode["scenario"]["protagonist"]["name"]
    context = {"judge": FAKE, "holistic": "off", "batch_size": 2}
    result = asyncio.run(graphs["judge"].ainvoke({"episode": episode, "character": character}, context=context))
    items, verdicts = result["items"], result["verdicts"]
    assert items and set(verdicts) == {item.id for item in items}
    assert all(verdict.answered for verdict in verdicts.values())
