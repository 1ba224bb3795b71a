from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml
from langchain_core.messages import HumanMessage, SystemMessage

from humanllm.core import CharacterProfile, Conversation, Episode, Scenario, ScenarioChecklist, Turn
from humanllm.errors import ConfigError, DataError
from humanllm.llm import ModelSettings, build_role_model
from humanllm.patterns import load_library
from humanllm.training import (
    apply_overrides,
    bundled_hf_model,
    check_masks,
    episode_records,
    exact_counts,
    export_sft,
    load_recipe,
    masking_template,
    merge_lora,
    mix,
    parse_source,
    recipe_names,
    train,
)
from humanllm.training._recipe import resolve_builtin_paths


def _episode(first: str = "Ben", n: int = 5, eid: str = "e1") -> Episode:
    speakers = ["Ben", "Ann"] if first == "Ben" else ["Ann", "Ben"]
    turns = [
        Turn(
            speaker=speakers[i % 2], thought=f"thought {i} of {speakers[i % 2]}", action=f"act {i}", speech=f"line {i}"
        )
        for i in range(n)
    ]
    return Episode(
        id=eid,
        scenario=Scenario(
            patterns=["sunk cost fallacy"],
            situation="duty",
            analysis="a",
            background="An office late at night.",
            protagonist=CharacterProfile(name="Ann", about_self="Manager; proud.", about_others="Ben: cautious."),
            supporting=[CharacterProfile(name="Ben", about_self="Analyst.", about_others="Ann: stubborn.")],
            char2pattern={"Ann": ["sunk cost fallacy"], "Ben": []},
        ),
        conversation=Conversation(turns=turns),
    )


def test_sharegpt_records_follow_the_released_shape() -> None:
    records = {r["system"].split(".")[0]: r for r in episode_records(_episode(n=5))}
    ann, ben = records["You are Ann"], records["You are Ben"]
    for record in (ann, ben):
        roles = [t["from"] for t in record["conversations"]]
        assert roles[0] == "human" and roles[-1] == "gpt"
        assert all(a != b for a, b in itertools.pairwise(roles))
        assert set(record) == {"system", "conversations"}
    # Ben opens: his record starts with an empty human turn; his own thoughts are kept
    assert ben["conversations"][0]["value"] == ""
    assert ben["conversations"][1]["value"] == "[thought 0 of Ben] (act 0) line 0"
    # Ann never sees Ben's thoughts; Ben's trailing turn after Ann's last reply is dropped
    human_text = " ".join(t["value"] for t in ann["conversations"] if t["from"] == "human")
    assert "thought" not in human_text and "Ben: (act 0) line 0" in human_text
    assert ann["conversations"][-1]["value"].startswith("[thought 3 of Ann]")
    assert "sunk cost" not in ann["system"]  # the system prompt names no pattern


def test_messages_format_and_windowing() -> None:
    (record,) = [
        r for r in episode_records(_episode(n=8), fmt="messages") if "You are Ann" in r["messages"][0]["content"]
    ]
    assert [m["role"] for m in record["messages"]][:3] == ["system", "user", "assistant"]
    windows = [r for r in episode_records(_episode(n=8), max_chars=450) if r["system"].startswith("You are Ann")]
    assert len(windows) > 1
    assert sum(1 for w in windows for t in w["conversations"] if t["from"] == "gpt") == 4  # each target turn once


def test_export_dedups_and_writes_dataset_info(tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    report = export_sft([_episode(), _episode(eid="copy")], out)
    assert report.records == 2 and report.duplicates == 2
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["humanllm"]["formatting"] == "sharegpt" and info["humanllm"]["file_name"] == "sft.jsonl"


def test_mixing_ratios_are_exact(tmp_path: Path) -> None:
    def write(name: str, n: int, fmt: str) -> Path:
        path = tmp_path / name
        rows = [
            {"messages": [{"role": "user", "content": f"{name}{i}"}, {"role": "assistant", "content": "ok"}]}
            if fmt == "messages"
            else {
                "system": "s",
                "conversations": [{"from": "human", "value": f"{name}{i}"}, {"from": "gpt", "value": "ok"}],
            }
            for i in range(n)
        ]
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), path)
        elif path.suffix == ".json":
            path.write_text(json.dumps(rows))
        else:
            path.write_text("\n".join(json.dumps(r) for r in rows))
        return path

    sources = [
        parse_source(f"humanllm={write('h.jsonl', 60, 'sharegpt')}:4"),
        parse_source(f"openthoughts={write('o.parquet', 60, 'messages')}:4"),
        parse_source(f"coser={write('c.json', 60, 'messages')}:2"),
    ]
    report = mix(sources, tmp_path / "mix.jsonl", total=50, seed=1)
    assert report.counts == {"humanllm": 20, "openthoughts": 20, "coser": 10}
    rows = [json.loads(line) for line in (tmp_path / "mix.jsonl").read_text().splitlines()]
    assert len(rows) == 50 and all("messages" in r for r in rows)
    assert rows[0]["messages"][0]["role"] in ("system", "user")
    assert mix(sources, tmp_path / "auto.jsonl", seed=1).total == 150  # the largest total all can fill
    assert exact_counts({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(DataError, match="needs 100 but has 60"):
        mix(sources, tmp_path / "big.jsonl", total=250)
    with pytest.raises(ConfigError, match="NAME=PATH:WEIGHT"):
        parse_source("no-weight.jsonl")


def test_recipes_validate_fields_and_overrides() -> None:
    recipe = load_recipe("qwen3-8b-full")
    assert recipe.sft["learning_rate"] == 5.0e-6 and recipe.sft["gradient_accumulation_steps"] == 8
    changed = apply_overrides(recipe, ["learning_rate=1e-5", "lora.r=8", "model=Qwen/Qwen3-32B"])
    assert changed.sft["learning_rate"] == 1e-5 and changed.lora == {"r": 8} and changed.model.endswith("32B")
    with pytest.raises(ConfigError, match="did you mean"):
        apply_overrides(recipe, ["learning_rat=1"])
    with pytest.raises(ConfigError, match="no recipe"):
        load_recipe("nope")


def _write_rows(path: Path, start: int, n: int) -> Path:
    """`n` tiny messages rows (ids start..start+n) as parquet, JSON or JSONL, by the file's suffix."""
    rows = [
        {"messages": [{"role": "user", "content": f"{path.stem}-{i}"}, {"role": "assistant", "content": "ok"}]}
        for i in range(start, start + n)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_source_may_be_a_folder_or_a_glob_of_shards(tmp_path: Path) -> None:
    for index in range(3):  # a dataset shipped as parquet shards, with a README beside them
        _write_rows(tmp_path / "ot" / "data" / f"train-{index:05d}-of-00003.parquet", 100 * index, 10)
    (tmp_path / "ot" / "README.md").write_text("# not data")
    (tmp_path / "ot" / "data" / ".gitattributes").write_text("*.parquet filter=lfs")
    _write_rows(tmp_path / "coser" / "part-a.jsonl", 0, 5)
    _write_rows(tmp_path / "coser" / "part-b.json", 5, 5)
    single = _write_rows(tmp_path / "h.jsonl", 0, 20)
    sources = [
        parse_source(f"humanllm={single}:4"),  # the old form: one file
        parse_source(f"openthoughts={tmp_path}/ot/**/*.parquet:4"),
        parse_source(f"coser={tmp_path / 'coser'}:2"),
    ]
    report = mix(sources, tmp_path / "mix.jsonl", seed=3)
    assert report.available == {"humanllm": 20, "openthoughts": 30, "coser": 10}
    assert [Path(f).name for f in report.files["openthoughts"]] == [f"train-{i:05d}-of-00003.parquet" for i in range(3)]
    assert report.counts == {"humanllm": 20, "openthoughts": 20, "coser": 10}
    taken = [json.loads(line)["messages"][0]["content"] for line in (tmp_path / "mix.jsonl").read_text().splitlines()]
    assert any(t.startswith("train-00002") for t in taken) and any(t.startswith("part-b") for t in taken)
    again = mix(sources, tmp_path / "again.jsonl", seed=3)
    assert again == report and (tmp_path / "again.jsonl").read_text() == (tmp_path / "mix.jsonl").read_text()
    with pytest.raises(DataError, match=r"no \.parquet, \.jsonl, \.json file matches"):
        mix([parse_source(f"x={tmp_path}/nothing/*.parquet:1")], tmp_path / "x.jsonl")
    with pytest.raises(DataError, match=r"holds no \.parquet"):
        mix([parse_source(f"x={tmp_path / 'ot'}:1")], tmp_path / "x.jsonl")  # only a README and a folder in it
    with pytest.raises(ConfigError, match="given twice"):
        mix([sources[0], sources[0]], tmp_path / "x.jsonl")


def test_the_papers_mixture_counts(tmp_path: Path) -> None:
    # HumanLLM 30,543 : OpenThoughts 30,543 : CoSER 15,272 = 76,358 for weights 4:4:2 (REFERENCE §9)
    assert exact_counts({"humanllm": 4, "openthoughts": 4, "coser": 2}, 76358) == {
        "humanllm": 30543,
        "openthoughts": 30543,
        "coser": 15272,
    }
    from typer.testing import CliRunner

    from humanllm.cli._app import register

    _write_rows(tmp_path / "humanllm.jsonl", 0, 30543)
    for index in range(3):
        _write_rows(tmp_path / "ot" / f"train-{index}.parquet", 10200 * index, 10200)
    _write_rows(tmp_path / "coser.json", 0, 15300)
    args = ["data", "mix", "--source", f"humanllm={tmp_path / 'humanllm.jsonl'}:4"]
    args += ["--source", f"openthoughts={tmp_path}/ot/*.parquet:4", "--source", f"coser={tmp_path / 'coser.json'}:2"]
    result = CliRunner().invoke(register(), [*args, "--total", "76358", "--out", str(tmp_path / "mix.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"] == {"humanllm": 30543, "openthoughts": 30543, "coser": 15272}
    assert report["available"]["openthoughts"] == 30600 and len(report["files"]["openthoughts"]) == 3
    assert sum(1 for _ in (tmp_path / "mix.jsonl").open()) == 76358


def test_every_recipe_states_a_global_batch_that_adds_up(tmp_path: Path) -> None:
    for name in recipe_names():
        recipe = load_recipe(name)
        sft = recipe.sft
        assert recipe.global_batch == (
            sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * recipe.gpus
        ), name
    big = load_recipe("qwen3-32b-full")  # the paper's 32B full SFT (REFERENCE §9)
    assert big.model == "Qwen/Qwen3-32B" and big.lora is None
    assert big.sft["learning_rate"] == 5e-6 and big.sft["num_train_epochs"] == 2 and big.sft["max_length"] == 6144
    assert big.sft["lr_scheduler_type"] == "cosine" and big.sft["warmup_steps"] == 0.03 and big.sft["bf16"]
    zero = json.loads(Path(resolve_builtin_paths(big.sft)["deepspeed"]).read_text())["zero_optimization"]
    assert zero["stage"] == 3 and zero["offload_optimizer"]["device"] == zero["offload_param"]["device"] == "cpu"
    assert big.gpus in (8, 16) and big.global_batch == load_recipe("qwen3-8b-full").global_batch
    one_node = apply_overrides(big, ["gradient_accumulation_steps=16", "gpus=8"])
    assert one_node.global_batch == big.global_batch  # the same batch on one node of 8
    assert apply_overrides(big, ["gpus=8"]).global_batch == big.global_batch // 2  # recomputed, and logged
    with pytest.raises(ConfigError, match="global_batch 100 is not 1 per device x 8 accumulation x 16 GPUs = 128"):
        apply_overrides(big, ["global_batch=100"])
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump({**big.model_dump(), "global_batch": 64}))
    with pytest.raises(ConfigError, match=r"wrong\.yaml: recipe: global_batch 64 is not"):
        load_recipe(str(wrong))
    from typer.testing import CliRunner

    from humanllm.cli._app import register

    listed = json.loads(CliRunner().invoke(register(), ["train", "recipes", "--json"]).output)
    assert {r["name"]: r["batch"] for r in listed}["qwen3-32b-full"] == "1 per device x 8 accumulation x 16 GPUs = 128"


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_hf_model(tmp_path_factory.mktemp("models"))


def test_mask_check_accepts_target_turns_and_catches_bad_templates(bundled: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(bundled)
    rows = [r for r in episode_records(_episode(n=6), fmt="messages")]
    good = check_masks(tokenizer, rows, masking_template(tokenizer, "chatml"))
    assert good.ok and good.assistant_turns == 6 and 0 < good.trained_tokens < good.total_tokens
    everything = "{% for m in messages %}{% generation %}{{ m['content'] }}\n{% endgeneration %}{% endfor %}"
    bad = tmp_path / "bad.jinja"
    bad.write_text(everything)
    report = check_masks(tokenizer, rows, masking_template(tokenizer, str(bad)))
    assert not report.ok and any(
        "other turns are trained" in p.problem or "non-target" in p.problem for p in report.problems
    )
    with pytest.raises(ConfigError, match="cannot mark assistant tokens"):
        masking_template(tokenizer, None)


def test_cpu_lora_smoke_train_save_merge_generate(bundled: Path, tmp_path: Path) -> None:
    data = tmp_path / "sft.jsonl"
    export_sft([_episode(n=6, eid=f"e{i}") for i in range(2)], data, dedup=False)
    recipe = apply_overrides(
        load_recipe("smollm2-cpu"),
        [f"model={bundled}", "per_device_train_batch_size=2", "max_length=192", "learning_rate=2e-3"],
    )
    out = tmp_path / "lora"
    report = train(recipe, data, out, max_steps=6)
    assert report.steps == 6 and report.first_loss is not None and report.last_loss is not None
    assert report.last_loss < report.first_loss * 0.8  # the loss clearly falls
    saved = yaml.safe_load((out / "humanllm-train.yaml").read_text())
    assert saved["sft"]["max_steps"] == 6 and saved["lora"]["r"] == 16
    assert report.global_batch == saved["run_global_batch"] == 2  # 2 per device x 1 accumulation x 1 process
    merged = merge_lora(out, tmp_path / "merged")
    model = build_role_model("character", f"hf:{merged}", ModelSettings(max_tokens=12, temperature=0.0))
    reply = model.text([SystemMessage(content="You are Ann."), HumanMessage(content="Ben: (sits) Hi.")])
    assert isinstance(reply, str) and reply.strip()


@pytest.mark.parametrize("name", recipe_names())
def test_shipped_recipes_build_a_valid_sft_config(name: str, tmp_path: Path) -> None:
    from trl import SFTConfig

    from humanllm.training._recipe import resolve_builtin_paths

    sft = resolve_builtin_paths(load_recipe(name).sft)
    if "deepspeed" in sft:  # deepspeed itself is a GPU extra; the file must exist and parse
        assert json.loads(Path(sft.pop("deepspeed")).read_text())["zero_optimization"]["stage"] == 3
    sft.update(bf16=False, use_cpu=True)
    config = SFTConfig(output_dir=str(tmp_path), **sft)
    assert config.assistant_only_loss


LINES = {
    "Ann": Turn(
        speaker="Ann", thought="I started this, so it has to work.", action="taps the table", speech="We keep going."
    ),
    "Ben": Turn(
        speaker="Ben", thought="She will not listen to me.", action="looks down", speech="Maybe we should stop."
    ),
}
"""Each character's one line: a turn a few training steps can teach, so the e2e test does not hang on model luck."""


def _rehearsed_episode(eid: str, n: int = 4) -> Episode:
    """`_episode` where each character always says its `LINES`, both carry a pattern and have a scenario checklist."""
    episode = _episode(n=n, eid=eid)
    turns = [LINES[turn.speaker] for turn in episode.conversation.turns]
    scenario = episode.scenario.model_copy(
        update={
            "char2pattern": {"Ann": ["sunk cost fallacy"], "Ben": ["anxious"]},
            "checklists": [
                ScenarioChecklist(character="Ann", items=["Ann defends the plan she started."]),
                ScenarioChecklist(character="Ben", items=["Ben hesitates before he disagrees."]),
            ],
        }
    )
    return episode.model_copy(update={"scenario": scenario, "conversation": Conversation(turns=turns)})


@pytest.mark.slow
def test_export_train_merge_then_eval_run_sharegpt_on_the_merged_model(bundled: Path, tmp_path: Path) -> None:
    """The README's evaluate-your-trained-model sequence, on CPU: the trained model plays in its own format."""
    from typer.testing import CliRunner

    from humanllm.cli._app import register
    from humanllm.evaluation import EvalResults
    from humanllm.simulation import EpisodeStore, split_store

    store = EpisodeStore(tmp_path / "store")
    for index in range(3):
        store.add_episode(_rehearsed_episode(f"e{index}"))
    split_store(store, load_library(), tmp_path / "store" / "splits", ood_patterns=["kind"], eval_size=1)
    runner = CliRunner()

    def cli(*args: str) -> None:
        result = runner.invoke(register(), list(args))
        assert result.exit_code == 0, f"{args[:2]}: {result.output}"

    sft, lora, merged, bench = (tmp_path / name for name in ("sft.jsonl", "lora", "merged", "bench"))
    cli("data", "export-sft", str(tmp_path / "store"), "--out", str(sft), "--no-dedup")
    cli(
        "train", "--recipe", "smollm2-cpu", "--data", str(sft), "--output-dir", str(lora), "--max-steps", "6",
        "--set", f"model={bundled}", "--set", "per_device_train_batch_size=2", "--set", "max_length=256",
        "--set", "learning_rate=5e-3", "--set", "warmup_steps=0",
    )  # fmt: skip
    cli("train", "merge", str(lora), "--out", str(merged))
    cli(
        "eval", "run", "--model", f"hf:{merged}", "--format", "sharegpt", "--judge", "fake",
        "--data", str(tmp_path / "store" / "splits"), "--out", str(bench), "--runs", "1",
        "--temperature", "0", "--max-tokens", "32", "--no-holistic",
    )  # fmt: skip
    results = EvalResults.load(bench / "results-replay-sharegpt.json")
    report = results.reports[f"hf:{merged}"]
    assert results.config["format"] == "sharegpt" and not results.notes
    assert report.overall["ipe"].mean is not None and report.overall["mpd"].mean is not None
    assert report.coverage.unscored == 0
    assert results.usage[f"hf:{merged}"].completion_tokens > 0  # the merged model wrote the target turns
    played = list(EpisodeStore(Path(results.sources[f"hf:{merged}"].data)).iter_episodes())
    assert played and all(e.spec and e.spec["format"] == "sharegpt" for e in played)
    for episode in played:  # every turn of the target is the merged model's own, with something said aloud
        target = str(episode.config["target"])
        assert all(t.speech for t in episode.conversation.turns if t.speaker == target)
