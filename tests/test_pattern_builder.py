"""Pattern construction from literature: corpus -> card + checklist + provenance + relation proposals."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from humanllm.agents.pattern_builder import (
    CACHE_DIR,
    BuildConfig,
    BuildResult,
    build_pattern,
    chunk_corpus,
    read_corpus,
)
from humanllm.cli._app import register
from humanllm.core import Pattern
from humanllm.errors import ConfigError, DataError, EndpointError
from humanllm.llm import ModelSettings, RoleModel, build_role_model, parse_spec
from humanllm.llm._messages import json_schema_of
from humanllm.patterns import InteractionGraph, Relation, load_graph, load_library, validate_directory
from humanllm.testing import QUESTIONS, ScriptedChatModel, builder_reply

NAME = "escalation of commitment"
PDF_SENTENCE = "Decision makers who feel personally responsible for a losing project commit even more resources to it."


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with Helvetica text, written by hand (offsets computed, no binary blob)."""
    content = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "staw-1976.txt").write_text(
        "Escalation of commitment is the tendency to keep investing in a failing course of action because one "
        "chose it. It is closely related to the sunk cost fallacy.\n\nManagers keep funding projects they started "
        "long after the numbers turned bad.",
        encoding="utf-8",
    )
    (folder / "review.md").write_text(
        "# Why people persist\n\nPeople feel responsible for their earlier decisions and fear admitting a "
        "mistake, so they ask for more money and time. Public commitments make it worse.",
        encoding="utf-8",
    )
    (folder / "brockner-1992.pdf").write_bytes(make_pdf([PDF_SENTENCE, "Public commitment strengthens the effect."]))
    (folder / "notes.docx").write_bytes(b"not read")
    (folder / ".hidden.txt").write_text("never read", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def fake_model(function: Callable[[list[BaseMessage], dict[str, Any]], str] = builder_reply) -> RoleModel:
    return RoleModel(role="builder", spec=parse_spec("fake"), chat=ScriptedChatModel(function=function), max_retries=0)


def calls(model: RoleModel) -> list[list[BaseMessage]]:
    assert isinstance(model.chat, ScriptedChatModel)
    return model.chat.calls


def build(config: BuildConfig, graph: InteractionGraph, model: RoleModel) -> BuildResult:
    return build_pattern(config, graph, model=model)


# --- corpus ---------------------------------------------------------------------------------------


def test_corpus_reads_text_markdown_and_pdf_and_skips_the_rest(corpus: Path) -> None:
    read = read_corpus(corpus, max_chars=100_000)
    assert [d.name for d in read.documents] == ["brockner-1992.pdf", "review.md", "staw-1976.txt"]
    pdf = read.documents[0]
    assert pdf.kind == "pdf" and pdf.pages == 1 and PDF_SENTENCE in pdf.text
    assert set(read.skipped) == {"notes.docx"}
    chunks = chunk_corpus(read, chunk_chars=120)
    assert all(len(c.text) <= 120 for c in chunks)
    assert {c.document for c in chunks} == {d.name for d in read.documents}
    assert "".join(c.text for c in chunks if c.document == "staw-1976.txt").replace(" ", "") == (
        read.documents[2].text.replace("\n", "").replace(" ", "")
    )


# --- a full build ---------------------------------------------------------------------------------


def test_build_from_a_corpus_gives_a_valid_loadable_card_with_provenance(
    corpus: Path, tmp_path: Path, graph: InteractionGraph
) -> None:
    out = tmp_path / "out"
    model = fake_model()
    result = build(BuildConfig(name="Escalation of Commitment", corpus=corpus, out=out), graph, model)

    # the card: valid, loadable with --patterns-dir, no provenance inside
    assert result.card.name == NAME and 12 <= len(result.card.checklist) <= 15
    assert validate_directory(out) == []
    raw = yaml.safe_load(result.card_path.read_text(encoding="utf-8"))
    assert isinstance(raw, list) and Pattern.model_validate(raw[0]) == result.card
    library = load_library([out])
    assert library.get(NAME).id == "escalation-of-commitment" and len(library) == 245

    # provenance in the sidecar: documents, sections with their documents, model, date, prompt versions
    saved = json.loads(result.provenance_path.read_text(encoding="utf-8"))
    assert result.provenance_path.name == "escalation-of-commitment.provenance.json"
    assert saved["source"] == "corpus" and saved["model"] == "fake" and saved["created"]
    assert [d["name"] for d in saved["documents"]] == ["brockner-1992.pdf", "review.md", "staw-1976.txt"]
    assert saved["skipped_files"] == {"notes.docx": saved["skipped_files"]["notes.docx"]}
    assert set(saved["sections"]) == {
        "definition",
        "core_mechanisms",
        "real_world_manifestation",
        "triggers",
        "markers",
    }
    for record in saved["sections"].values():
        assert record["method"] == "model" and not record["knowledge"]
        assert record["documents"] == ["brockner-1992.pdf", "review.md", "staw-1976.txt"]
    assert set(saved["prompt_versions"]) >= {"pattern_builder/notes", "pattern_builder/section"}
    assert saved["usage"]["calls"] == len(calls(model)) and saved["fallbacks"] == []
    # the PDF's text reached the model
    assert any(PDF_SENTENCE in m[-1].text for m in calls(model))

    # relation proposals: a relations file for review, NOT loaded by the graph
    assert result.review_path == out / "review" / "relations" / "escalation-of-commitment.yaml"
    proposals = [Relation.model_validate(r) for r in yaml.safe_load(result.review_path.read_text(encoding="utf-8"))]
    assert proposals and all(r.source == NAME and len(r.rationale) >= 10 for r in proposals)
    built = load_graph(library, [out])
    assert built.neighbours(NAME) == []
    # ... and accepted by moving it where the graph looks
    (out / "relations").mkdir()
    shutil.copy(result.review_path, out / "relations" / "accepted.yaml")
    accepted = load_graph(load_library([out]), [out])
    assert {e.b for e in accepted.neighbours(NAME)} == {p.target for p in proposals}


def test_new_card_can_be_simulated_at_once(corpus: Path, tmp_path: Path, graph: InteractionGraph) -> None:
    out = tmp_path / "out"
    build(BuildConfig(name=NAME, corpus=corpus, out=out), graph, fake_model())
    episode_file = tmp_path / "episode.json"
    result = CliRunner().invoke(
        register(),
        [
            *("simulate", "--model", "fake", "--patterns", f"{NAME}, anxious", "--patterns-dir", str(out)),
            *("--turns", "4-4", "--out", str(episode_file), "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert NAME in json.loads(episode_file.read_text(encoding="utf-8"))["scenario"]["patterns"]


def test_from_knowledge_is_marked_in_the_provenance(tmp_path: Path, graph: InteractionGraph) -> None:
    model = fake_model()
    result = build(BuildConfig(name=NAME, from_knowledge=True, out=tmp_path / "out"), graph, model)
    p = result.provenance
    assert p.source == "knowledge" and p.documents == [] and p.corpus is None
    assert all(r.knowledge and r.documents == [] for r in p.sections.values())
    assert not any("Excerpt" in m[-1].text for m in calls(model))  # no map step
    assert validate_directory(tmp_path / "out") == []


def test_trait_family_and_pole_are_respected(tmp_path: Path, graph: InteractionGraph) -> None:
    config = BuildConfig(
        name="stubborn", from_knowledge=True, family="conscientiousness", pole="positive", out=tmp_path / "o"
    )
    card = build(config, graph, fake_model()).card
    assert card.kind == "trait" and card.family == "conscientiousness" and card.pole == "positive"
    assert card.core_mechanisms.motivation is None


# --- checklist self-review ------------------------------------------------------------------------

PLANTED = "Does the character talk about the effort already spent as a reason not to quit now?"
SUNK_COST_ITEM = "Does the character say that stopping now would waste what they have already put in?"
NAMING = "Does the character show escalation of commitment when the project falters?"
VAGUE = "Does the character seem somewhat attached to the plan in general terms?"
SHARPER = "Does the character raise the budget for the plan right after a bad quarterly report?"


def _review_items(messages: list[BaseMessage]) -> dict[str, str]:
    return dict(re.findall(r"^(item_\d\d): (.*)$", messages[-1].text, flags=re.MULTILINE))


def planted_reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The fake builder, with three bad items planted in the checklist and a review that flags one."""
    schema = json_schema_of(kwargs.get("response_format")) or {}
    title = schema.get("title")
    if title == "ChecklistReply":
        good = json.loads(builder_reply(messages, kwargs))["questions"][:11]
        return json.dumps({"questions": [PLANTED, *good[:5], SUNK_COST_ITEM, NAMING, VAGUE, *good[5:]]})
    if title == "ChecklistReviewReply":
        verdicts = {}
        for key, item in _review_items(messages).items():
            verdicts[key] = {"verdict": "keep", "also_predicted_by": "none", "rewrite": ""}
            if item == PLANTED:
                verdicts[key] = {"verdict": "drop", "also_predicted_by": "sunk cost fallacy", "rewrite": ""}
            if item == VAGUE:
                verdicts[key] = {"verdict": "rewrite", "also_predicted_by": "none", "rewrite": SHARPER}
        return json.dumps(verdicts)
    return builder_reply(messages, kwargs)


def test_self_review_drops_non_discriminating_and_naming_items(
    corpus: Path, tmp_path: Path, graph: InteractionGraph
) -> None:
    model = fake_model(planted_reply)
    result = build(BuildConfig(name=NAME, corpus=corpus, out=tmp_path / "out"), graph, model)
    checklist = result.card.checklist
    record = result.provenance.checklist
    assert "sunk cost fallacy" in record.neighbours
    # the review judged the planted item equally predicted by a neighbour: dropped
    assert PLANTED not in checklist
    assert any(c.item == PLANTED and c.action == "dropped" and "sunk cost fallacy" in c.reason for c in record.changes)
    # kept by the review, but the deterministic gate catches a neighbour's own item and a naming item
    assert SUNK_COST_ITEM not in checklist and NAMING not in checklist
    reasons = {c.item: c.reason for c in record.changes}
    assert "equally predicted by sunk cost fallacy" in reasons[SUNK_COST_ITEM]
    assert "names the pattern" in reasons[NAMING]
    # a rewrite replaces the item
    assert VAGUE not in checklist and SHARPER in checklist
    # 15 proposed, 3 dropped: 12 is enough, so no second round
    assert len(checklist) == 12 and record.rounds == 1 and record.filled_from_markers == 0


EXTRA = (
    "Does the character ask for a bigger budget right after hearing the plan is behind schedule?",
    "Does the character describe the next phase of the plan as the one that will finally work?",
    "Does the character's inner thought rehearse how to explain the extra spending to others?",
    "Does the character turn down an offer to hand the failing plan over to someone else?",
    "Does the character count how far the plan has come instead of how far it still has to go?",
)


def test_a_second_round_tops_up_the_checklist_after_heavy_drops(tmp_path: Path, graph: InteractionGraph) -> None:
    prompts: list[str] = []

    def reply(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        schema = json_schema_of(kwargs.get("response_format")) or {}
        if schema.get("title") == "ChecklistReply":
            prompts.append(messages[-1].text)
            if len(prompts) == 1:
                return builder_reply(messages, kwargs)
            return json.dumps({"questions": list(EXTRA[: schema["properties"]["questions"]["maxItems"]])})
        if schema.get("title") == "ChecklistReviewReply":
            keys = list(_review_items(messages))
            verdict = {"verdict": "keep", "also_predicted_by": "none", "rewrite": ""}
            drop = {"verdict": "drop", "also_predicted_by": "none", "rewrite": ""}
            dropped = keys[:5] if len(prompts) == 1 else []
            return json.dumps({k: drop if k in dropped else verdict for k in keys})
        return builder_reply(messages, kwargs)

    result = build(BuildConfig(name=NAME, from_knowledge=True, out=tmp_path / "o"), graph, fake_model(reply))
    record = result.provenance.checklist
    assert record.rounds == 2 and record.generated == 20 and len(result.card.checklist) == 15
    assert set(EXTRA) <= set(result.card.checklist)
    # round two is told what was kept and what was dropped, so it does not repeat them
    assert "Do not repeat" in prompts[1] and all(q in prompts[1] for q in QUESTIONS)


def test_checklist_reaches_twelve_from_the_markers_when_the_model_cannot(
    tmp_path: Path, graph: InteractionGraph
) -> None:
    def useless(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        schema = json_schema_of(kwargs.get("response_format")) or {}
        if schema.get("title") == "ChecklistReply":
            return '{"questions": ["not enough"]}'  # invalid: too few, too short
        return builder_reply(messages, kwargs)

    result = build(BuildConfig(name=NAME, from_knowledge=True, out=tmp_path / "o"), graph, fake_model(useless))
    record = result.provenance.checklist
    assert len(result.card.checklist) == 12 and record.filled_from_markers == 12
    assert any("derived from the markers" in f for f in result.provenance.fallbacks)
    assert any(f.startswith("checklist:") and "unusable" in f for f in result.provenance.fallbacks)


def test_checklist_for_an_existing_card_without_one(tmp_path: Path, graph: InteractionGraph) -> None:
    card = graph.library.get("sunk cost fallacy").model_dump(mode="json", exclude={"checklist"})
    path = tmp_path / "sunk.yaml"
    path.write_text(yaml.safe_dump([card], sort_keys=False), encoding="utf-8")
    model = fake_model()
    result = build(BuildConfig(card=path, out=tmp_path / "out"), graph, model)
    assert result.card.model_dump(exclude={"checklist"}) == graph.library.get("sunk cost fallacy").model_dump(
        exclude={"checklist"}
    )
    assert result.provenance.source == "card"
    assert all(r.method == "given" for r in result.provenance.sections.values())
    # told apart from its graph neighbours; no section calls were made
    assert set(result.provenance.checklist.neighbours) & set(graph.interactions("sunk cost fallacy"))
    assert not any("one section of a card" in m[-1].text for m in calls(model))
    assert validate_directory(tmp_path / "out") == []
    with pytest.raises(ConfigError, match="already has a checklist"):
        build(BuildConfig(card=result.card_path, out=tmp_path / "again"), graph, fake_model())


# --- fallbacks when the model's output is unusable ------------------------------------------------


def test_unusable_steps_fall_back_and_are_recorded(corpus: Path, tmp_path: Path, graph: InteractionGraph) -> None:
    def broken(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        title = (json_schema_of(kwargs.get("response_format")) or {}).get("title")
        if title in ("ChunkNotes", "MarkersReply", "ManifestationReply", "RelationsReply"):
            return "I cannot answer in JSON, sorry."
        return builder_reply(messages, kwargs)

    result = build(BuildConfig(name=NAME, corpus=corpus, out=tmp_path / "out"), graph, fake_model(broken))
    sections = result.provenance.sections
    assert sections["definition"].method == "model"
    assert sections["markers"].method in ("notes", "template") and sections["markers"].note
    assert sections["real_world_manifestation"].method in ("notes", "template")
    assert result.provenance.relations_proposed == 0
    fallbacks = " | ".join(result.provenance.fallbacks)
    assert "extracted from its sentences" in fallbacks and "relations:" in fallbacks
    assert validate_directory(tmp_path / "out") == []


# --- resume -------------------------------------------------------------------------------------


def test_resume_after_interruption_uses_the_cache(corpus: Path, tmp_path: Path, graph: InteractionGraph) -> None:
    full = fake_model()
    build(BuildConfig(name=NAME, corpus=corpus, out=tmp_path / "reference", concurrency=1), graph, full)
    total = len(calls(full))

    answered = 0

    def dies_after_five(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        nonlocal answered
        if answered == 5:
            raise RuntimeError("connection reset by the test")
        answered += 1
        return builder_reply(messages, kwargs)

    out = tmp_path / "out"
    config = BuildConfig(name=NAME, corpus=corpus, out=out, concurrency=1)
    with pytest.raises(EndpointError, match="run the same command to resume"):
        build(config, graph, fake_model(dies_after_five))
    assert not (out / "escalation-of-commitment.yaml").exists()
    assert len(list((out / CACHE_DIR).rglob("*.json"))) == 5

    resumed = fake_model()
    result = build(config, graph, resumed)
    assert len(calls(resumed)) == total - 5
    assert result.provenance.cache_hits == 5 and result.provenance.usage.calls == total - 5

    again = fake_model()
    assert build(config, graph, again).card == result.card
    assert len(calls(again)) == 0

    fresh = fake_model()
    build(config.model_copy(update={"use_cache": False}), graph, fresh)
    assert len(calls(fresh)) == total


# --- the command and its one-line errors ----------------------------------------------------------


def test_cli_build_with_the_fake_model(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["patterns", "build", NAME, "--corpus", str(corpus), "--out", str(out), "--model", "fake"]
    result = runner.invoke(register(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["card"]["name"] == NAME and Path(data["card_path"]).exists()
    assert data["provenance"]["model"] == "fake"
    assert runner.invoke(register(), ["patterns", "validate", str(out)]).exit_code == 0
    shown = runner.invoke(register(), ["patterns", "show", NAME, "--patterns-dir", str(out), "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == "escalation-of-commitment"
    readable = runner.invoke(register(), args)
    assert readable.exit_code == 0 and "from the cache" in readable.output


def _run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    from humanllm.cli import main

    monkeypatch.setattr(sys, "argv", ["humanllm", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("empty", "has no readable .txt, .md or .pdf documents"),
        ("bad-pdf", "broken.pdf: not a readable PDF"),
        ("unknown-model", "unknown model spec 'gpt5'"),
        ("too-large", "more than 50 characters of text"),
        ("no-source", "give exactly one of --corpus DIR, --from-knowledge or --card FILE"),
        ("exists", "already exists"),
        ("pole", "is a Big-Five dimension: also pass --pole"),
    ],
)
def test_bad_inputs_give_one_line_errors(
    case: str,
    needle: str,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / case
    folder.mkdir()
    args = [NAME, "--corpus", str(corpus), "--model", "fake", "--out", str(tmp_path / "out")]
    if case == "empty":
        (folder / "ignored.docx").write_bytes(b"x")
        args[2] = str(folder)
    elif case == "bad-pdf":
        shutil.copytree(corpus, folder, dirs_exist_ok=True)
        (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
        args[2] = str(folder)
    elif case == "unknown-model":
        args[4] = "gpt5"
    elif case == "too-large":
        args += ["--max-chars", "50"]
    elif case == "no-source":
        args = [NAME, "--model", "fake"]
    elif case == "exists":
        args[0] = "Sunk Cost Fallacy"
    elif case == "pole":
        args += ["--family", "openness"]
    err = _run_main(monkeypatch, capsys, ["patterns", "build", *args])
    assert needle in err


def test_unreadable_files_raise_data_errors(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(make_pdf([]))
    with pytest.raises(DataError, match="no extractable text"):
        read_corpus(tmp_path, max_chars=1000)
    (tmp_path / "scan.pdf").unlink()
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_corpus(tmp_path, max_chars=1000)


# --- the real embedded model, offline --------------------------------------------------------------


@pytest.mark.slow
def test_local_model_builds_a_valid_card_offline(tmp_path: Path, graph: InteractionGraph) -> None:
    """SmolLM2-135M writes poor text; the pipeline must still assemble a card that validates."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Escalation of commitment: people keep investing in a failing plan they chose, to avoid admitting a mistake.",
        encoding="utf-8",
    )
    settings = ModelSettings(max_tokens=160, seed=1, threads=1, temperature=0.2)
    model = build_role_model("builder", "local", settings)
    model.repairs = 0  # one call per step: an unusable reply falls back at once
    config = BuildConfig(
        name=NAME,
        corpus=folder,
        out=tmp_path / "out",
        settings=settings,
        model="local",
        checklist_rounds=1,
        relation_candidates=3,
        neighbours=2,
        concurrency=1,
    )
    started = time.monotonic()
    result = build_pattern(config, graph, model=model)
    elapsed = time.monotonic() - started
    assert validate_directory(tmp_path / "out") == []
    assert load_library([tmp_path / "out"]).get(NAME) == result.card
    provenance = json.loads(result.provenance_path.read_text(encoding="utf-8"))
    assert provenance["model"] == "local" and provenance["documents"][0]["name"] == "a.txt"
    assert provenance["usage"]["calls"] >= 5 and provenance["usage"]["completion_tokens"] > 0
    print(f"local build: {elapsed:.1f}s, {provenance['usage']}, fallbacks: {provenance['fallbacks']}")
