"""The viewer: its index (incremental, torn lines, replaced shards), every page through Starlette's TestClient,
path refusal, escaping, perspectives, verdict evidence, annotation mode's file, and `humanllm view` itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from markupsafe import escape
from starlette.testclient import TestClient
from typer.testing import CliRunner

from humanllm.cli._app import register
from humanllm.core import Episode
from humanllm.errors import ConfigError
from humanllm.evaluation import align, judge_ratings, load_judgements, read_ratings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.viewer import StoreIndex, build_app, cited_turns, index_path
from tests._viewer_store import SCRIPT, build_store, write_episodes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, graph: InteractionGraph) -> tuple[Path, list[Episode]]:
    """The 100-episode fixture store (6 judged, 2 open failures, split)."""
    root = tmp_path_factory.mktemp("viewer")
    return root / "store", build_store(root / "store", graph, count=100)


@pytest.fixture(scope="module")
def client(big: tuple[Path, list[Episode]], graph: InteractionGraph, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("viewer-app")
    app = build_app([big[0]], library=graph.library, index_dir=root / "index", ratings=root / "ratings.jsonl")
    return TestClient(app)


def _index(folder: Path, graph: InteractionGraph, tmp_path: Path) -> StoreIndex:
    return StoreIndex(folder, graph.library, index_dir=tmp_path / "index")


def _count(index: StoreIndex, sql: str = "SELECT COUNT(*) FROM episodes") -> int:
    with index.connect() as db:
        return int(db.execute(sql).fetchone()[0])


# --- the index -----------------------------------------------------------------------------------
def test_the_index_lives_outside_the_store_and_covers_every_episode(big: tuple[Path, list[Episode]], graph, tmp_path):
    folder, episodes = big
    before = sorted(p.name for p in folder.rglob("*"))
    index = _index(folder, graph, tmp_path)
    report = index.refresh()
    assert report.episodes == 100 and report.judgements > 0 and report.attempts == 2 and report.skipped == 0
    assert index.path == index_path(folder, tmp_path / "index") and folder not in index.path.parents
    assert sorted(p.name for p in folder.rglob("*")) == before  # nothing written into the store
    assert _count(index) == 100
    carried = sum(len(ps) for e in episodes for ps in e.scenario.char2pattern.values())
    assert _count(index, "SELECT COUNT(*) FROM episode_pattern") == carried
    with index.connect() as db:
        splits = dict(db.execute("SELECT split, COUNT(*) FROM episodes GROUP BY split").fetchall())
        judged = {r[0] for r in db.execute("SELECT id FROM episodes WHERE ipe IS NOT NULL")}
    plan = json.loads((folder / "splits" / "splits.json").read_text())
    assert splits["id_eval"] == plan["counts"]["id_eval"] and splits["train"] == plan["counts"]["train"]
    assert splits.get("mixed_eval", 0) == plan["counts"]["mixed_eval"]
    assert judged == {e.id for e in episodes[:6]}
    assert index.episode(episodes[42].id) == episodes[42]  # read back from its one line
    assert index.refresh().episodes == 0  # nothing new: nothing read
    assert index.refresh().bytes_read == 0


def test_a_refresh_reads_only_what_a_shard_gained(tmp_path: Path, graph: InteractionGraph) -> None:
    folder = tmp_path / "store"
    first = write_episodes(folder, graph, 3, script=False)
    index = _index(folder, graph, tmp_path)
    assert index.refresh().episodes == 3
    size = (folder / "episodes-main.jsonl").stat().st_size
    more = write_episodes(folder, graph, 2, start=3, script=False)
    report = index.refresh()
    assert report.episodes == 2 and report.bytes_read == (folder / "episodes-main.jsonl").stat().st_size - size
    assert report.reread == []
    assert [index.episode(e.id) for e in [*first, *more]] == [*first, *more]


@pytest.mark.tampers_store
def test_torn_and_invalid_lines_are_skipped_never_fatal(tmp_path: Path, graph: InteractionGraph) -> None:
    folder = tmp_path / "store"
    episodes = write_episodes(folder, graph, 2, script=False)
    shard = folder / "episodes-main.jsonl"
    with shard.open("ab") as handle:
        handle.write(b"this is not json\n")
        handle.write(b'{"id": "x"}\n')  # JSON, not an episode
        handle.write(episodes[0].model_dump_json().encode()[:100])  # a write in progress
    index = _index(folder, graph, tmp_path)
    report = index.refresh()
    assert (report.episodes, report.skipped) == (2, 2)
    with index.connect() as db:
        offset = db.execute("SELECT offset FROM shards WHERE path = 'episodes-main.jsonl'").fetchone()[0]
    assert offset < shard.stat().st_size  # the torn tail is left for the next refresh
    third = write_episodes(tmp_path / "other", graph, 1, start=7, script=False)[0]
    with shard.open("ab") as handle:  # the write completes... as another record (a crash, then a new writer)
        handle.write(b"\n" + third.model_dump_json().encode() + b"\n")
    report = index.refresh()
    assert report.episodes == 1 and report.skipped == 1 and index.episode(third.id) == third
    overview = TestClient(build_app([folder], library=graph.library, index_dir=tmp_path / "index",
                                    ratings=tmp_path / "r.jsonl")).get("/f/0")  # fmt: skip
    assert overview.status_code == 200 and "3</b> lines skipped" in overview.text


def test_a_shard_that_shrank_or_was_replaced_is_read_again(tmp_path: Path, graph: InteractionGraph) -> None:
    folder = tmp_path / "store"
    episodes = write_episodes(folder, graph, 4, script=False)
    index = _index(folder, graph, tmp_path)
    index.refresh()
    shard = folder / "episodes-main.jsonl"
    lines = shard.read_bytes().splitlines(keepends=True)
    replacement = tmp_path / "copy.jsonl"
    replacement.write_bytes(b"".join(lines[:2]))
    os.replace(replacement, shard)  # another inode, fewer bytes
    report = index.refresh()
    assert report.reread == ["episodes-main.jsonl"] and report.episodes == 2
    assert _count(index) == 2 and index.episode(episodes[3].id) is None
    assert _count(index, "SELECT COUNT(*) FROM episode_pattern") == sum(
        len(ps) for e in episodes[:2] for ps in e.scenario.char2pattern.values()
    )
    shard.unlink()
    assert index.refresh().reread == ["episodes-main.jsonl"] and _count(index) == 0


def test_evidence_turn_numbers() -> None:
    assert cited_turns('turns 2, 5: "I see"', 9) == [2, 5]
    assert cited_turns("Turn 3 and turn 7", 9) == [3, 7]
    assert cited_turns("turns 2-4", 9) == [2, 3, 4]
    assert cited_turns("turns 12", 9) == [] and cited_turns('"no numbers"', 9) == []


# --- pages ---------------------------------------------------------------------------------------
def test_overview_counts_splits_situations_tokens_and_failures(client: Any, big: tuple[Path, list[Episode]]) -> None:
    _, episodes = big
    page = client.get("/f/0")
    assert page.status_code == 200
    assert "<b>100</b> episodes" in page.text and "<b>6</b> judged" in page.text
    tokens = sum(u.total_tokens for e in episodes for u in e.usage.values())
    assert f"<b>{tokens}</b> tokens" in page.text
    for situation in {e.scenario.situation for e in episodes}:
        assert f">{situation}</a>" in page.text
    assert ">train</a>" in page.text and ">id_eval</a>" in page.text
    data = client.get("/api/f/0/overview").json()
    assert {g["cause"]: g["episodes"] for g in data["failures"]} == {"401": 1, "timeout": 1}
    assert client.get("/", follow_redirects=False).headers["location"] == "/f/0"


def _ids(client: Any, **params: Any) -> list[str]:
    body = client.get("/api/f/0/episodes", params={"size": 500, **params}).json()
    return [row["id"] for row in body["rows"]]


def test_the_list_filters_sorts_and_pages_in_sql(client: Any, big: tuple[Path, list[Episode]]) -> None:
    _, episodes = big
    carriers = {e.id for e in episodes if any("kind" in ps for ps in e.scenario.char2pattern.values())}
    assert carriers and set(_ids(client, pattern="kind")) == carriers
    negativity = {e.id for e in episodes if e.scenario.situation == "negativity"}
    assert set(_ids(client, situation="negativity")) == negativity
    assert set(_ids(client, situation="negativity", pattern="kind")) == negativity & carriers
    family = load_library().get("kind").family.value
    assert carriers <= set(_ids(client, family=family))
    plan = json.loads((big[0] / "splits" / "splits.json").read_text())
    assert set(_ids(client, split="id_eval")) == set(plan["eval_ids"]["id_eval"])
    judged = client.get("/api/f/0/episodes", params={"judged": 1, "sort": "ipe", "desc": 1}).json()["rows"]
    scores = [row["ipe"] for row in judged]
    assert len(scores) == 6 and scores == sorted(scores, reverse=True)
    cut = scores[2]
    assert set(_ids(client, min_score=cut)) == {r["id"] for r in judged if r["ipe"] >= cut}
    assert set(_ids(client, max_score=cut, metric="ipe")) == {r["id"] for r in judged if r["ipe"] <= cut}
    assert _ids(client, text="pwned") == [episodes[0].id]  # words of a speech
    assert _ids(client, text='" OR 1=1 --') == []  # quoted: no FTS syntax gets through
    first, second = (client.get("/api/f/0/episodes", params={"size": 30, "page": p}).json() for p in (1, 2))
    assert first["total"] == 100 and first["pages"] == 4 and len(first["rows"]) == 30
    assert not {r["id"] for r in first["rows"]} & {r["id"] for r in second["rows"]}
    page = client.get("/f/0/episodes", params={"pattern": "kind", "size": 25, "page": 2})
    assert page.status_code == 200 and "page 2 of" in page.text
    assert client.get("/f/0/episodes", params={"size": "lots", "sort": "nope"}).status_code == 200


def test_an_episode_shows_the_scene_turns_and_escapes_everything(client: Any, big: tuple[Path, list[Episode]]) -> None:
    _, episodes = big
    episode = episodes[0]
    page = client.get(f"/f/0/episodes/{episode.id}")
    assert page.status_code == 200
    assert SCRIPT not in page.text and "&lt;script&gt;window.__pwned = true" in page.text
    assert episode.scenario.background in page.text
    for person in episode.scenario.characters:
        assert person.about_self in page.text
    assert page.text.count('<li class="turn"') == len(episode.conversation.turns)
    for channel in ("thought", "action", "speech"):
        assert f'<span class="{channel}">' in page.text
    assert client.get("/f/0/episodes/nope").status_code == 404
    assert client.get("/f/9").status_code == 404


def test_as_a_character_saw_it_hides_the_others_thoughts(client: Any, big: tuple[Path, list[Episode]]) -> None:
    _, episodes = big
    episode = episodes[0]
    me = episode.scenario.protagonist.name
    page = client.get(f"/f/0/episodes/{episode.id}", params={"as": me}).text
    for turn in episode.conversation.turns:
        if turn.thought:
            assert (turn.thought in page) == (turn.speaker == me)
    assert "## How you tend to think and act" in page  # the agent's own system prompt, guidance included
    for other in episode.scenario.supporting:
        assert other.about_self not in page  # another character's profile is not given to this agent


def test_verdicts_show_scores_na_unscored_and_their_evidence_turns(
    client: Any, big: tuple[Path, list[Episode]]
) -> None:
    _, episodes = big
    page = client.get(f"/f/0/episodes/{episodes[1].id}").text
    for css in ("plus", "na", "unscored"):
        assert f'class="verdict {css}"' in page
    assert 'data-turns="3"' in page and 'data-turns="1"' in page
    data = client.get(f"/api/f/0/episodes/{episodes[1].id}").json()
    statuses = {v["status"] for j in data["judgements"] for v in j["verdicts"]}
    assert {"n/a", "unscored", "+1"} <= statuses
    assert client.get(f"/api/f/0/episodes/{episodes[50].id}").json()["judgements"] == []


def test_paths_outside_the_folder_are_refused(client: Any, big: tuple[Path, list[Episode]], tmp_path: Path) -> None:
    folder, _ = big
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n")
    link = folder / "link.csv"
    link.symlink_to(secret)
    try:
        for path in ("../secret.csv", "%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fetc%2fpasswd", "link.csv", "/etc/passwd"):
            answer = client.get(f"/f/0/files/{path}")
            assert answer.status_code == 404, path
        ok = client.get("/f/0/files/splits/splits.json")
        assert ok.status_code == 200 and ok.headers["content-security-policy"] == "sandbox"
        assert client.get("/f/0/studies/../..").status_code == 404
    finally:
        link.unlink()


def test_the_host_header_must_name_this_machine(client: Any) -> None:
    assert client.get("/f/0", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/f/0", headers={"host": "127.0.0.1:8765"}).status_code == 200


def test_compare_two_episodes(client: Any, big: tuple[Path, list[Episode]]) -> None:
    _, episodes = big
    page = client.get("/compare", params=[("e", f"0:{episodes[0].id}"), ("e", f"0:{episodes[1].id}")])
    assert page.status_code == 200 and page.text.count('class="side"') == 2
    assert episodes[1].scenario.background in page.text
    assert client.get("/compare", params={"a": f"0:{episodes[0].id}"}).status_code == 400


def test_pattern_page_and_its_graph(client: Any, big: tuple[Path, list[Episode]], graph: InteractionGraph) -> None:
    _, episodes = big
    page = client.get("/patterns/kind")
    card = graph.library.get("kind")
    assert page.status_code == 200 and all(str(escape(item)) in page.text for item in card.checklist)
    assert '<div id="pattern-graph" data-elements-url="/api/patterns/kind/graph"' in page.text
    assert 'data-pattern-url="/patterns/{id}"' in page.text
    assert '<script src="/static/vendor/cytoscape.min.js">' in page.text
    carriers = sum(any("kind" in ps for ps in e.scenario.char2pattern.values()) for e in episodes)
    assert f"{carriers} episodes in store carry it" in page.text and "/f/0/episodes?pattern=kind" in page.text
    elements = client.get("/api/patterns/kind/graph", params={"radius": 1}).json()
    ids = {n["data"]["id"] for n in elements["nodes"]}
    assert "kind" in ids and len(ids) == 1 + len({e.a if e.b == "kind" else e.b for e in graph.neighbours("kind")})
    assert all(e["data"]["relation"] and e["data"]["rationale"] for e in elements["edges"])
    assert client.get("/api/patterns/kind/graph", params={"radius": 2}).json()["radius"] == 2
    assert client.get("/patterns/no-such-pattern").status_code == 404
    assert client.get("/api/patterns/no-such-pattern/graph").status_code == 404
    assert client.get("/patterns").status_code == 200


# --- annotation mode -----------------------------------------------------------------------------
def test_annotation_ratings_are_what_eval_alignment_reads(
    big: tuple[Path, list[Episode]], graph: InteractionGraph, tmp_path: Path
) -> None:
    folder, episodes = big
    ratings = tmp_path / "ratings.jsonl"
    app = build_app([folder], library=graph.library, index_dir=tmp_path / "index", ratings=ratings)
    client = TestClient(app)
    episode = episodes[1]
    me = episode.scenario.protagonist.name
    page = client.get(f"/f/0/annotate/{episode.id}/{me}")
    assert page.status_code == 200
    for turn in episode.conversation.turns:
        if turn.thought:
            assert (turn.thought in page.text) == (turn.speaker == me)
    items = re.findall(r'class="rate-item" data-item="([^"]+)"', page.text)
    checklist = [i for i in items if not i.startswith("holistic.")]
    assert len(checklist) >= 4

    def rate(item: str, score: str, rater: str = "ana") -> Any:
        body = {"episode_id": episode.id, "character": me, "item_id": item, "score": score, "rater": rater}
        return client.post("/api/f/0/ratings", json=body)

    for item, score in zip(checklist, ["1", "0", "-1", "n/a"], strict=False):
        assert rate(item, score).json()["saved"]
    assert rate(checklist[0], "-1").json()["changed"]  # changed: the row is replaced, not added
    assert rate("holistic.fidelity", "70").status_code == 200
    assert rate(checklist[0], "5").status_code == 400 and rate("ipe.nope.1", "1").status_code == 400
    form = client.post("/api/f/0/ratings", data={"episode_id": episode.id}, headers={"content-type": "text/plain"})
    assert form.status_code == 415
    lines = ratings.read_text().splitlines()
    assert len(lines) == 5 and not any(folder in p.parents for p in [ratings])
    people = read_ratings(ratings)
    assert {(r.item_id, r.score) for r in people} == {
        (checklist[0], -1.0), (checklist[1], 0.0), (checklist[2], -1.0), ("holistic.fidelity", 70.0)
    }  # n/a is not a score  # fmt: skip
    report = align(people, judge_ratings(load_judgements(folder)))
    assert report.human_ratings == 4 and report.metrics
    cli = CliRunner().invoke(
        register(), ["eval", "alignment", "--human", str(ratings), "--judge", str(folder), "--json"]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["human_ratings"] == 4
    again = client.get(f"/f/0/annotate/{episode.id}/{me}", params={"rater": "ana"}).text
    assert again.count("checked") >= 4
    with pytest.raises(ConfigError, match="inside the served folder"):
        build_app([folder], library=graph.library, index_dir=tmp_path / "index", ratings=folder / "r.jsonl")


# --- studies and benchmark results ---------------------------------------------------------------
def test_a_study_folder_shows_its_tables_and_plots(tmp_path: Path, graph: InteractionGraph) -> None:
    from humanllm.study import Study, read_design

    design_file = tmp_path / "design.yaml"
    design_file.write_text(
        yaml.safe_dump(
            {
                "name": "anx",
                "question": "Does anxiety amplify the sunk-cost fallacy when a friend pushes back?",
                "scenario": {"write": {"situation": "a bakery after closing", "characters": 2,
                             "fixed": [{"pattern": "sunk cost fallacy", "character": "protagonist"}]}},
                "factors": [{"name": "anxiety", "pattern": "anxious", "character": "protagonist"}],
                "replicates": 2,
                "models": {"character": "fake", "writer": "fake", "judge": "fake"},
                "turns": {"min": 4, "max": 4},
            }
        )
    )  # fmt: skip
    folder = tmp_path / "runs" / "study"
    study = Study(read_design(design_file), folder, graph=graph)
    study.run()
    study.report(n_boot=50, n_perm=50)
    client = TestClient(build_app([tmp_path / "runs"], library=graph.library, index_dir=tmp_path / "index",
                                  ratings=tmp_path / "r.jsonl"))  # fmt: skip
    overview = client.get("/f/0").text
    assert 'href="/f/0/studies/study"' in overview
    page = client.get("/f/0/studies/study")
    assert page.status_code == 200 and "effects.csv" in page.text and "expression.csv" in page.text
    pictures = re.findall(r'<img src="(/f/0/files/[^"]+\.png)"', page.text)
    assert pictures and all(client.get(p).content.startswith(b"\x89PNG") for p in pictures)
    episodes = client.get("/api/f/0/episodes", params={"folder": "study"}).json()
    assert episodes["total"] == 4
    assert client.get("/f/0/studies/nope").status_code == 404


def test_benchmark_results_compare_two_models_on_one_scenario(tmp_path: Path, graph: InteractionGraph) -> None:
    store = tmp_path / "store"
    build_store(store, graph, count=8)
    out = tmp_path / "bench"
    args = ["eval", "run", "--model", "fake", "--model", "fake:schema", "--judge", "fake", "--data",
            str(store / "splits"), "--out", str(out), "--runs", "1", "--limit", "1", "--json"]  # fmt: skip
    result = CliRunner().invoke(register(), args)
    assert result.exit_code == 0, result.output
    client = TestClient(build_app([out], library=graph.library, index_dir=tmp_path / "index",
                                  ratings=tmp_path / "r.jsonl"))  # fmt: skip
    page = client.get("/f/0/results/results-replay.json")
    assert page.status_code == 200 and "fake:schema" in page.text
    link = re.search(r'href="(/f/0/compare-models\?[^"]+)"', page.text)
    assert link is not None
    side_by_side = client.get(link.group(1).replace("&amp;", "&"))
    assert side_by_side.status_code == 200 and side_by_side.text.count('class="side"') == 2
    assert "fake:schema" in side_by_side.text
    both = TestClient(build_app([out, store], library=graph.library, index_dir=tmp_path / "index",
                                ratings=tmp_path / "r.jsonl")).get("/")  # fmt: skip
    assert both.status_code == 200 and str(out) in both.text and str(store) in both.text
    assert 'href="/f/1"' in both.text


# --- the command ---------------------------------------------------------------------------------
def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "200"}


def test_humanllm_view_serves_the_overview(tmp_path: Path, graph: InteractionGraph) -> None:
    folder = tmp_path / "store"
    write_episodes(folder, graph, 2, script=False)
    before = sorted((p.name, p.stat().st_size) for p in folder.iterdir())
    command = [sys.executable, "-m", "humanllm", "view", str(folder), "--port", "0", "--no-open",
               "--ratings", str(tmp_path / "ratings.jsonl")]  # fmt: skip
    process = subprocess.Popen(command, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            found = re.search(r"viewer: (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else ""
        assert url, process.stderr.read() if process.stderr else "no URL printed"
        with urllib.request.urlopen(url + "f/0", timeout=30) as answer:
            body = answer.read().decode()
        assert "<b>2</b> episodes" in body
        assert (tmp_path / "cache" / "humanllm" / "viewer").is_dir()  # the index went to the cache
        assert sorted((p.name, p.stat().st_size) for p in folder.iterdir()) == before  # the store is not written
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_humanllm_view_errors_are_one_line(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "humanllm", "view", *args, "--no-open"]
        return subprocess.run(command, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)

    missing = run(str(tmp_path / "nope"))
    assert missing.returncode != 0 and missing.stderr.strip().count("\n") == 0 and "does not exist" in missing.stderr
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = run(str(tmp_path), "--port", str(taken.getsockname()[1]))
    assert busy.returncode != 0 and "in use" in busy.stderr and busy.stderr.strip().count("\n") == 0


def test_the_episodes_simulate_saves_are_indexed_and_a_rewritten_one_read_again(
    tmp_path: Path, graph: InteractionGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`humanllm simulate` writes `runs/simulate/<id>.json` (pretty-printed, one episode a file): the folder a
    newcomer views first."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the same spec twice: <id>.json and <id>-2.json
        done = CliRunner().invoke(register(), ["simulate", "--model", "fake", "--turns", "2-3", "--json"])
        assert done.exit_code == 0, done.output
    folder = tmp_path / "runs" / "simulate"
    files = sorted((p.name for p in folder.glob("*.json")), key=len)
    assert len(files) == 2 and files[1].endswith("-2.json")
    index = _index(folder, graph, tmp_path)
    report = index.refresh()
    assert report.episodes == 1 and report.skipped == 0  # one id, the first file wins
    episode_id = files[0].removesuffix(".json")
    episode = index.episode(episode_id)
    assert episode is not None and episode.id == episode_id
    with index.connect() as db:
        assert db.execute("SELECT split FROM episodes").fetchone()[0] in ("", None)  # a file name is no split
    client = TestClient(build_app([folder], library=graph.library, index_dir=tmp_path / "index"))
    assert client.get(f"/f/0/episodes/{episode_id}").status_code == 200
    # a file written again (other content, other size) is read again, not appended to
    (folder / files[1]).unlink()
    assert index.refresh().reread == [files[1]]
    (folder / files[0]).write_text(episode.model_copy(update={"seed": 99}).model_dump_json())
    assert index.refresh().reread == [files[0]] and index.episode(episode_id).seed == 99  # type: ignore[union-attr]
