"""One run spec: ids are hashes of stored specs, seeds flow one way, every prompt is hashed (issue 14)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humanllm.agents.director import TurnRules
from humanllm.core import PromptFolder, spec_id
from humanllm.evaluation import JudgeOptions, verify_store
from humanllm.evaluation._judging import judgement_key, judgement_spec
from humanllm.llm import ModelSettings, RoleModel, build_role_model, canonical_spec, parse_spec
from humanllm.patterns import BundleRecipe, InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    EPISODE_TEMPLATES,
    RoleModels,
    RoleSpecs,
    SimulationConfig,
    episode_sampling_seed,
    plan_episode,
    run_episode,
    template_versions,
)
from humanllm.simulation._jobs import Job, plan_jobs
from humanllm.simulation._runner import RunOptions, run_batch
from humanllm.simulation._store import EpisodeStore
from humanllm.testing import ScriptedChatModel, fake_character, fake_writer

BUNDLE = ["confirmation bias", "kind"]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _models() -> tuple[RoleModels, ScriptedChatModel, ScriptedChatModel]:
    writer, character = fake_writer(), fake_character()
    models = RoleModels(
        writer=RoleModel(role="writer", spec=parse_spec("fake"), chat=writer, max_retries=0),
        character=RoleModel(role="character", spec=parse_spec("fake"), chat=character, max_retries=0),
    )
    return models, writer, character


def _config(**changes: Any) -> SimulationConfig:
    base: dict[str, Any] = {"patterns": BUNDLE, "situation": "duty", "rules": TurnRules(min_turns=2, max_turns=2)}
    return SimulationConfig(**{**base, **changes})


# --- the model spec normaliser ---------------------------------------------------------------------
def test_one_written_form_per_model_spec(graph: InteractionGraph) -> None:
    assert canonical_spec(" OpenAI:gpt-4o ") == canonical_spec("openai:gpt-4o") == "openai:gpt-4o"
    assert canonical_spec("LOCAL") == "local" and canonical_spec("Fake") == "fake"
    upper = plan_episode(_config(models=RoleSpecs(writer="OpenAI:x", character="OpenAI:x")), graph)
    lower = plan_episode(_config(models=RoleSpecs(writer="openai:x", character="openai:x")), graph)
    assert upper.id == lower.id


def test_the_unused_director_field_is_not_part_of_the_id(graph: InteractionGraph) -> None:
    plain = plan_episode(_config(), graph)
    other = plan_episode(_config(models=RoleSpecs(director="anything")), graph)
    assert plain.id == other.id and "director" not in plain.spec.models


# --- ids are hashes of the stored spec ---------------------------------------------------------------
def test_an_episode_id_is_recomputed_from_its_stored_spec(graph: InteractionGraph) -> None:
    models, _, _ = _models()
    episode = asyncio.run(run_episode(_config(), graph, models))
    assert episode.spec is not None and spec_id(episode.spec) == episode.id
    assert episode.spec["generation"] == {"temperature": 0.8, "max_tokens": 512, "base_url": None}


def test_every_input_changes_the_id(graph: InteractionGraph) -> None:
    changes: list[dict[str, Any]] = [
        {},
        {"seed": 1},
        {"situation": "mating"},
        {"patterns": ["sunk cost fallacy", "kind"]},
        {"characters": 3},
        {"mode": "author"},
        {"guidance": False},
        {"variation": True},
        {"rules": TurnRules(min_turns=2, max_turns=3)},
        {"models": RoleSpecs(character="fake")},
        {"settings": ModelSettings(temperature=0.2)},
        {"settings": ModelSettings(max_tokens=256)},
        {"recipe": BundleRecipe.PAPER},
    ]
    ids = [plan_episode(_config(**change), graph).id for change in changes]
    assert len(set(ids)) == len(ids)


# --- seeds flow one way ------------------------------------------------------------------------------
def _seeds(*chats: ScriptedChatModel) -> set[object]:
    return {kwargs.get("seed") for chat in chats for kwargs in chat.call_kwargs}


def test_batch_episodes_sample_with_their_own_seeds(graph: InteractionGraph, tmp_path: Path) -> None:
    base = SimulationConfig(rules=TurnRules(min_turns=2, max_turns=2))  # seedless, as `generate` builds it
    jobs = [Job(patterns=BUNDLE, situation="duty", seed=7), Job(patterns=BUNDLE, situation="duty", seed=8)]
    planned = plan_jobs(base, jobs, graph)
    seen = []
    for config, plan in planned:  # one batch per episode, to see each one's calls on its own
        models, writer, character = _models()
        with EpisodeStore.open_for_writing(tmp_path / plan.id) as store:
            report = asyncio.run(run_batch(store, [(config, plan)], graph, models, RunOptions()))
        assert report.done == 1
        assert _seeds(writer, character) == {episode_sampling_seed(plan.spec)}  # every call, one seed
        seen.append(episode_sampling_seed(plan.spec))
    assert seen[0] != seen[1]


def test_simulate_and_generate_give_one_id_and_one_sampling_for_the_same_inputs(graph: InteractionGraph) -> None:
    rules = TurnRules(min_turns=2, max_turns=2)
    # what `humanllm simulate --seed 7` builds, and what `generate` builds for a job with seed 7
    simulated = _config(seed=7, rules=rules)
    (generated, plan), *_ = plan_jobs(
        SimulationConfig(rules=rules), [Job(patterns=BUNDLE, situation="duty", seed=7)], graph
    )
    assert plan_episode(simulated, graph).id == plan.id
    runs = []
    for config in (simulated, generated):
        models, writer, character = _models()
        episode = asyncio.run(run_episode(config, graph, models))
        runs.append((episode.id, _seeds(writer, character), episode.conversation.model_dump_json()))
    assert runs[0] == runs[1]
    # a settings seed no longer forks the sampling seed away from the id
    models, writer, character = _models()
    forked = _config(seed=7, rules=rules, settings=ModelSettings(seed=99))
    asyncio.run(run_episode(forked, graph, models))
    assert _seeds(writer, character) == runs[0][1]


# --- every prompt an episode renders is hashed ---------------------------------------------------------
def test_every_template_an_episode_renders_is_in_its_spec(
    graph: InteractionGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: set[str] = set()
    real = PromptFolder.render

    def recording(self: PromptFolder, template: str, /, **variables: Any) -> str:
        rendered.add(f"{self.label}{template}")
        return real(self, template, **variables)

    def author(messages: list[Any], _kwargs: dict[str, Any]) -> str:  # a transcript the author mode accepts
        prompt = messages[-1].text
        opener = prompt.split("- ", 3)[2].split(" speaks first")[0].strip() if " speaks first" in prompt else ""
        cast = [line[4:].split(" (")[0] for line in prompt.splitlines() if line.startswith("### ")]
        other = next(c for c in cast if c != cast[0])
        turns = [f"{opener or other}: (nods) Hello there."]
        return "\n".join(
            turns + [f"{cast[0] if i % 2 else other}: [thinking] (looks up) Line {i}." for i in range(1, 6)]
        )

    monkeypatch.setattr(PromptFolder, "render", recording)
    author_mode = {"mode": "author", "rules": TurnRules(min_turns=4, max_turns=8)}
    for change in ({"variation": True}, author_mode):
        models, _, _ = _models()
        if change.get("mode") == "author":
            models.character.chat = ScriptedChatModel(function=author)
        episode = asyncio.run(run_episode(_config(**change), graph, models))
        assert episode.spec is not None
        assert rendered <= set(episode.spec["templates"])
    assert {"writer_system", "scenario_draft", "character_system", "author_system", "author"} <= rendered
    assert set(template_versions()) == set(EPISODE_TEMPLATES) | {n for n in template_versions() if n.startswith("llm/")}


def test_no_prompt_text_is_left_in_python_constants() -> None:
    import humanllm.agents.author as author
    import humanllm.agents.pattern_builder._steps as steps
    import humanllm.agents.scenario_writer as writer

    assert not hasattr(writer, "WRITER_SYSTEM") and not hasattr(author, "AUTHOR_SYSTEM")
    assert not hasattr(steps, "BUILDER_SYSTEM")


# --- judgement keys hold every judge setting ----------------------------------------------------------
def test_judgement_keys_include_every_judge_setting() -> None:
    options = JudgeOptions()

    def key(**settings: Any) -> str:
        model = build_role_model("judge", "fake", ModelSettings(**settings))
        return judgement_key("e1", "Ann", 0, model, options)

    keys = [key(), key(temperature=0.2), key(max_tokens=1024)]
    assert len(set(keys)) == 3
    remote = [
        build_role_model("judge", "openai:m", ModelSettings(base_url=url, api_key="sk-test"))
        for url in ("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1", "http://user:hunter2@127.0.0.1:1/v1?key=s3cret")
    ]
    assert len({judgement_key("e1", "Ann", 0, m, options) for m in remote}) == 3
    text = judgement_spec("e1", "Ann", 0, remote[2], options).model_dump_json()
    assert "hunter2" not in text and "s3cret" not in text and "sk-test" not in text
    assert judgement_key("e1", "Ann", 0, remote[0], options) == judgement_key(
        "e1", "Ann", 0, build_role_model("judge", "OpenAI:m", ModelSettings(base_url="http://127.0.0.1:1/v1")), options
    )


# --- data verify -------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanllm", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.tampers_store
def test_data_verify_passes_on_written_stores_and_names_a_tampered_record(tmp_path: Path) -> None:
    out = tmp_path / "store"
    made = _cli("generate", "--out", str(out), "--model", "fake", "--n", "2", "--situations", "duty", "--turns", "2-2")
    assert made.returncode == 0, made.stderr
    scored = _cli("eval", "score", str(out), "--judge", "fake", "--runs", "1", "--json")
    assert scored.returncode == 0, scored.stderr
    good = _cli("data", "verify", str(out))
    assert good.returncode == 0, good.stderr
    assert "0 mismatches" in good.stdout and len(good.stdout.strip().splitlines()) == 1
    report = verify_store(out)
    assert report.ok and report.episodes == 2 and report.judgements > 0 and report.legacy == 0

    episodes = next(out.glob("episodes-*.jsonl"))
    lines = episodes.read_text().splitlines()
    record = json.loads(lines[1])
    record["spec"]["seed"] += 1  # the spec no longer matches the id
    lines[1] = json.dumps(record)
    episodes.write_text("\n".join(lines) + "\n")
    judgements = next(out.glob("judgements-*.jsonl"))
    rows = judgements.read_text().splitlines()
    judged = json.loads(rows[0])
    judged["spec"]["generation"]["temperature"] = 0.1
    rows[0] = json.dumps(judged)
    judgements.write_text("\n".join(rows) + "\n")

    bad = _cli("data", "verify", str(out))
    assert bad.returncode == 1
    recomputed = spec_id(record["spec"])
    assert f"{episodes}:2" in bad.stderr and record["id"] in bad.stderr and recomputed in bad.stderr
    assert f"{judgements}:1" in bad.stderr and judged["id"] in bad.stderr
    assert "2 mismatches" in bad.stdout


def test_a_record_without_a_spec_is_legacy_not_a_mismatch(tmp_path: Path) -> None:
    source = Path(__file__).parent / "fixtures"
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    line = None
    for path in sorted(source.rglob("*.json*")):
        try:
            data = json.loads(path.read_text().splitlines()[0])
        except (ValueError, IndexError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and "scenario" in data and "conversation" in data and "spec" not in data:
            line = json.dumps(data)
            break
    if line is None:  # no legacy episode among the fixtures: make one from a fresh episode
        graph = load_graph(load_library())
        models, _, _ = _models()
        episode = asyncio.run(run_episode(_config(), graph, models))
        line = episode.model_copy(update={"spec": None}).model_dump_json()
    (legacy / "episodes-main.jsonl").write_text(line + "\n")
    result = _cli("data", "verify", str(legacy))
    assert result.returncode == 0, result.stderr
    assert "1 legacy" in result.stdout
    assert list(EpisodeStore.open_for_reading(legacy).iter_episodes())  # and it still loads


def test_a_templates_version_follows_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Versions are remembered per file (every episode's spec asks for all of them) but an edit shows."""
    (tmp_path / "greet.jinja").write_text("Hello {{ name }}.")
    folder = PromptFolder(tmp_path)
    first = folder.version("greet")
    reads: list[Path] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    assert folder.version("greet") == first and reads == []
    (tmp_path / "greet.jinja").write_text("Hello there, {{ name }}.")
    assert folder.version("greet") != first
    assert PromptFolder(tmp_path).version("greet") == folder.version("greet")
