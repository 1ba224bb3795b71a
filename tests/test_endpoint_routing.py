"""Several endpoints: sticky routing by episode id (weighted rendezvous), health checks, figures per endpoint."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from humanllm.agents.director import TurnRules
from humanllm.core import Episode
from humanllm.errors import ConfigError, EndpointError
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import (
    Endpoint,
    EndpointRouter,
    EpisodeStore,
    RoleSpecs,
    RunOptions,
    SimulationConfig,
    check_health,
    endpoints_from,
    episode_sampling_seed,
    plan_jobs,
    read_endpoints,
    rendezvous,
    run_batch,
    sample_jobs,
)
from humanllm.simulation._run import Plan
from humanllm.testing import MockOpenAIServer


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _config(base_url: str) -> SimulationConfig:
    return SimulationConfig(
        models=RoleSpecs(writer="openai:mock", character="openai:mock"),
        rules=TurnRules(min_turns=2, max_turns=2),
        settings=ModelSettings(base_url=base_url, timeout_s=5, max_retries=0),
    )


def _planned(graph: InteractionGraph, config: SimulationConfig, n: int) -> list[tuple[SimulationConfig, Plan]]:
    return plan_jobs(config, sample_jobs(graph, n, ["duty"], 0), graph)


async def _arun(graph: InteractionGraph, store: Path, endpoints: list[Endpoint], n: int, **options: object):  # type: ignore[no-untyped-def]
    config = _config(endpoints[0].url)  # the first replica names the deployment in the specs
    planned = _planned(graph, config, n)
    router = EndpointRouter.build(config, endpoints, recheck_s=60.0)
    run_options = RunOptions(concurrency=4, episode_retries=2, backoff_s=0.01, **options)  # type: ignore[arg-type]
    report = await run_batch(EpisodeStore(store), planned, graph, router, run_options)
    return planned, report


def _run(graph: InteractionGraph, store: Path, endpoints: list[Endpoint], n: int, **options: object):  # type: ignore[no-untyped-def]
    return asyncio.run(_arun(graph, store, endpoints, n, **options))


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: connection refused


def _episodes_by_seed(planned: list[tuple[SimulationConfig, Plan]]) -> dict[int, str]:
    return {episode_sampling_seed(plan.spec): plan.id for _, plan in planned}


def _served(server: MockOpenAIServer, by_seed: dict[int, str]) -> set[str]:
    """The episode ids whose calls reached the server (each request carries its episode's seed)."""
    assert all(seen.seed in by_seed for seen in server.requests)  # every call names its episode
    return {by_seed[seen.seed] for seen in server.requests if seen.seed is not None}


# --- the hashing -----------------------------------------------------------------------------------


def test_rendezvous_is_stable_and_weighted() -> None:
    endpoints = [Endpoint(url="http://a:8000/v1"), Endpoint(url="http://b:8000/v1", weight=3)]
    keys = [f"episode-{i}" for i in range(8000)]
    picks = [rendezvous(key, endpoints) for key in keys]
    assert picks == [rendezvous(key, endpoints) for key in keys]  # the same key, the same replica
    assert picks.count(1) / len(picks) == pytest.approx(0.75, abs=0.02)  # weight 3 of 4


def test_removing_a_replica_moves_only_its_own_episodes() -> None:
    three = [Endpoint(url=f"http://gpu-{i}:8000/v1") for i in range(3)]
    keys = [f"episode-{i}" for i in range(3000)]
    before = {key: three[rendezvous(key, three)].url for key in keys}
    two = [three[0], three[2]]
    after = {key: two[rendezvous(key, two)].url for key in keys}
    moved = {key for key in keys if before[key] != after[key]}
    assert moved == {key for key in keys if before[key] == three[1].url}
    assert 800 < len(moved) < 1200  # about a third had been on the removed replica


# --- the endpoints list ----------------------------------------------------------------------------


def test_an_endpoints_file_is_read_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yaml"
    path.write_text("- url: http://gpu-1:8000/v1\n  weight: 2\n  concurrency: 64\n- url: http://gpu-2:8000/v1\n")
    assert read_endpoints(path) == [
        Endpoint(url="http://gpu-1:8000/v1", weight=2, concurrency=64),
        Endpoint(url="http://gpu-2:8000/v1", weight=1, concurrency=None),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- url: http://a/v1\n  wieght: 2\n", "wieght: Extra inputs are not permitted"),
        ("- url: http://a/v1\n  api_key: sk-abcdefghijkl\n", "keys stay in the OPENAI_API_KEY"),
        ("- url: http://user:secret@a/v1\n", "carries a credential"),
        ("- url: http://a/v1?api_key=x\n", "carries a credential"),
        ("- url: a:8000\n", "is not an http(s) URL"),
        ("- url: http://a/v1\n  weight: 0\n", "greater than 0"),
        ("- url: http://a/v1\n- url: http://a/v1\n", "listed twice"),
        ("url: http://a/v1\n", "write a list"),
        ("[]\n", "write a list"),
    ],
)
def test_a_bad_endpoints_file_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "endpoints.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_endpoints(path)
    assert says in str(error.value) and "\n" not in str(error.value)
    assert "secret" not in str(error.value) and "sk-abc" not in str(error.value)


def test_base_urls_or_a_file_not_both(tmp_path: Path) -> None:
    assert endpoints_from(None, None) == []
    assert [e.url for e in endpoints_from(["http://a/v1", "http://b/v1"], None)] == ["http://a/v1", "http://b/v1"]
    with pytest.raises(ConfigError, match="not both"):
        endpoints_from(["http://a/v1"], tmp_path / "x.yaml")


# --- health checks ---------------------------------------------------------------------------------


def test_health_check_answers() -> None:
    with MockOpenAIServer() as up, MockOpenAIServer(status=500) as failing:
        assert asyncio.run(check_health(up.base_url, api_key=None, timeout_s=2)) is None
        problem = asyncio.run(check_health(failing.base_url, api_key=None, timeout_s=2))
        assert problem is not None and "500" in problem
    problem = asyncio.run(check_health(_closed_port_url(), api_key=None, timeout_s=2))
    assert problem is not None and "Connect" in problem


def test_a_replica_comes_back_once_it_answers_again() -> None:
    with MockOpenAIServer() as a, MockOpenAIServer(status=500) as b:
        endpoints = [Endpoint(url=a.base_url), Endpoint(url=b.base_url)]
        router = EndpointRouter.build(_config(a.base_url), endpoints, recheck_s=0.0)

        async def scenario() -> tuple[bool, bool, set[str]]:
            await router.prepare()
            out = router.replicas[1].healthy
            b.status = None  # the server is fixed
            await router.route("any")  # a replica that is out is checked again when due
            await asyncio.gather(*router._tasks)
            back = router.replicas[1].healthy
            routed = {(await router.route(f"episode-{i}")).name for i in range(40)}
            await router.close()
            return out, back, routed

        out, back, routed = asyncio.run(scenario())
    assert out is False and back is True
    assert routed == {a.base_url, b.base_url}  # it takes new episodes again


def test_no_healthy_endpoint_is_a_clear_error(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(status=500) as failing:
        endpoints = [Endpoint(url=failing.base_url), Endpoint(url=_closed_port_url())]
        with pytest.raises(EndpointError, match="none of the 2 endpoints answered its health check"):
            _run(graph, tmp_path / "store", endpoints, 2)
        assert failing.requests == []  # no chat call was made


# --- runs against two mock servers -----------------------------------------------------------------


def test_every_episode_stays_on_one_replica_and_both_get_episodes(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        endpoints = [Endpoint(url=a.base_url), Endpoint(url=b.base_url)]
        planned, report = _run(graph, tmp_path / "store", endpoints, 16)
        by_seed = _episodes_by_seed(planned)
        on_a, on_b = _served(a, by_seed), _served(b, by_seed)
    assert report.done == 16 and report.failed == 0
    assert on_a and on_b and not on_a & on_b  # each episode's calls all on one replica; both used
    assert on_a | on_b == {plan.id for _, plan in planned}
    expected = {plan.id: endpoints[rendezvous(plan.id, endpoints)].url for _, plan in planned}
    assert on_a == {i for i, url in expected.items() if url == a.base_url}  # the replica its id hashes to
    figures = report.endpoints
    assert figures[a.base_url].episodes == len(on_a) and figures[b.base_url].episodes == len(on_b)
    assert figures[a.base_url].calls == len(a.requests) and figures[b.base_url].calls == len(b.requests)
    assert figures[a.base_url].prompt_tokens > 0 and figures[a.base_url].latency_p95_s is not None
    assert sum(f.calls for f in figures.values()) == report.usage.calls


def test_weights_skew_the_share(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        endpoints = [Endpoint(url=a.base_url, weight=1), Endpoint(url=b.base_url, weight=5)]
        planned, report = _run(graph, tmp_path / "store", endpoints, 24)
        by_seed = _episodes_by_seed(planned)
        on_a, on_b = _served(a, by_seed), _served(b, by_seed)
    assert report.done == 24
    # weight 5 of 6: about 20 of the 24 (the ports, so the hashes, change per run: a loose bound here,
    # the shares themselves are measured over 8000 ids above)
    assert len(on_b) > len(on_a)
    counts = Counter(endpoints[rendezvous(plan.id, endpoints)].url for _, plan in planned)
    assert (len(on_a), len(on_b)) == (counts[a.base_url], counts[b.base_url])


@pytest.mark.parametrize("down", ["closed port", "500 on health"])
def test_a_replica_that_is_down_gets_no_episodes_and_the_run_completes(
    graph: InteractionGraph, tmp_path: Path, down: str
) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer(status=500) as failing:
        dead = _closed_port_url() if down == "closed port" else failing.base_url
        endpoints = [Endpoint(url=a.base_url), Endpoint(url=dead)]
        planned, report = _run(graph, tmp_path / "store", endpoints, 10)
        assert failing.requests == []  # not one chat call went to the failing replica
        assert len(_served(a, _episodes_by_seed(planned))) == 10
    assert report.done == 10 and report.failed == 0
    assert report.endpoints[dead].episodes == 0 and report.endpoints[dead].healthy is False
    stored = EpisodeStore(tmp_path / "store").done
    assert stored == {plan.id for _, plan in planned}


def test_a_replica_that_fails_mid_run_has_its_new_episodes_moved(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        calls = {"n": 0}
        reply = b.reply

        def breaks_after_a_few(messages: object, kwargs: dict) -> str:
            calls["n"] += 1
            if calls["n"] == 5:
                b.status = 500  # from now on every request (health checks too) answers 500
            return reply(messages, kwargs)  # type: ignore[arg-type]

        b.reply = breaks_after_a_few
        endpoints = [Endpoint(url=a.base_url), Endpoint(url=b.base_url)]
        planned, report = _run(graph, tmp_path / "store", endpoints, 16, max_consecutive_failures=3)
    assert report.stopped_reason is None  # the breaker did not trip: the failures were one replica's
    assert report.done == 16 and report.failed == 0
    assert report.endpoints[b.base_url].healthy is False and report.endpoints[b.base_url].errors > 0
    assert EpisodeStore(tmp_path / "store").done == {plan.id for _, plan in planned}


def _records(store: Path) -> dict[str, dict]:
    episodes = [Episode.model_validate_json(line) for p in store.glob("episodes-*.jsonl") for line in p.open()]
    return {e.id: e.model_dump(mode="json", exclude={"usage"}) for e in episodes}


def test_the_store_equals_a_one_endpoint_run(graph: InteractionGraph, tmp_path: Path) -> None:
    async def both(a: MockOpenAIServer, b: MockOpenAIServer) -> None:
        # one event loop for both runs: langchain-openai shares one HTTP client per base URL across
        # the process, bound to the loop it first ran in (a second asyncio.run gets "Event loop is closed")
        await _arun(graph, tmp_path / "one", [Endpoint(url=a.base_url)], 12)
        await _arun(graph, tmp_path / "two", [Endpoint(url=a.base_url), Endpoint(url=b.base_url)], 12)

    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        asyncio.run(both(a, b))
        assert b.requests  # the second run did use both replicas
    one, two = _records(tmp_path / "one"), _records(tmp_path / "two")
    assert len(one) == 12 and one.keys() == two.keys()  # the same ids: the replica is not in the spec
    assert one == two  # the same records, usage aside


def test_a_per_endpoint_concurrency_cap_holds(graph: InteractionGraph, tmp_path: Path) -> None:
    with MockOpenAIServer(latency_s=0.02) as a:
        endpoints = [Endpoint(url=a.base_url, concurrency=1)]
        config = _config(a.base_url)
        router = EndpointRouter.build(config, endpoints)
        peak = {"now": 0, "max": 0}
        replica = router.replicas[0]
        semaphore = replica.slots
        assert semaphore is not None

        class Watched(asyncio.Semaphore):
            async def __aenter__(self) -> None:
                await semaphore.acquire()
                peak["now"] += 1
                peak["max"] = max(peak["max"], peak["now"])

            async def __aexit__(self, *exc: object) -> None:
                peak["now"] -= 1
                semaphore.release()

        replica.slots = Watched()
        planned = _planned(graph, config, 6)
        report = asyncio.run(run_batch(EpisodeStore(tmp_path / "s"), planned, graph, router, RunOptions(concurrency=6)))
    assert report.done == 6 and peak["max"] == 1


# --- the command line ------------------------------------------------------------------------------


def _generate(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "humanllm", "generate", "--out", str(out), "--n", "8", "--situations", "duty"]
    command += ["--turns", "2-2", "--model", "openai:mock", "--json", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_generate_with_two_base_urls_and_data_status(tmp_path: Path) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        proc = _generate(tmp_path / "store", "--base-url", a.base_url, "--base-url", b.base_url)
        assert proc.returncode == 0, proc.stderr
        assert a.requests and b.requests
    report = json.loads(proc.stdout)
    assert set(report["endpoints"]) == {a.base_url, b.base_url}
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert [e["url"] for e in manifest["endpoints"]] == [a.base_url, b.base_url]
    assert manifest["config"]["settings"]["base_url"] == a.base_url
    status = subprocess.run(
        [sys.executable, "-m", "humanllm", "data", "status", str(tmp_path / "store"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    figures = json.loads(status.stdout)["endpoints"]
    assert sum(f["episodes"] for f in figures.values()) == 8
    assert figures[a.base_url]["calls"] == len(a.requests)
    text = subprocess.run(
        [sys.executable, "-m", "humanllm", "data", "status", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**__import__("os").environ, "COLUMNS": "200"},
    ).stdout
    assert "endpoints (last run)" in text and f"{figures[a.base_url]['calls']} calls" in text


def test_generate_with_an_endpoints_file(tmp_path: Path) -> None:
    with MockOpenAIServer() as a, MockOpenAIServer() as b:
        path = tmp_path / "endpoints.yaml"
        path.write_text(f"- url: {a.base_url}\n  weight: 3\n- url: {b.base_url}\n  concurrency: 2\n")
        proc = _generate(tmp_path / "store", "--endpoints", str(path))
        assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["endpoints"][a.base_url]["weight"] == 3
    assert sum(f["episodes"] for f in report["endpoints"].values()) == 8


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--base-url", "ftp://x/v1"], 2, "is not an http(s) URL"),
        (["--base-url", "http://a/v1", "--endpoints", "e.yaml"], 1, "not both"),
    ],
)
def test_bad_endpoints_on_the_command_line(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    proc = _generate(tmp_path / "store", *args)
    assert proc.returncode == code and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
