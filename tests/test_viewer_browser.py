"""The viewer in a real browser: headless Chromium (Debian's) driven by Playwright, against a real uvicorn.

Opens the fixture store, an episode, a character's perspective (the others' thoughts disappear), a
verdict (its evidence turn lights up), a pattern page; a `<script>` in a speech never runs.
Screenshots go to tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from humanllm.core import Episode
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.viewer import build_app, neighbourhood
from tests._browser import browser, live_server, page
from tests._viewer_store import SCRIPT, build_store

pytestmark = pytest.mark.browser
__all__ = ["browser", "page"]  # fixtures


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, graph: InteractionGraph) -> Iterator[tuple[str, list[Episode]]]:
    root = tmp_path_factory.mktemp("viewer-browser")
    # in a thread of its own: Playwright's sync API may already run an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        episodes = pool.submit(build_store, root / "store", graph, 12).result()
    app = build_app([root / "store"], library=graph.library, index_dir=root / "index", ratings=root / "ratings.jsonl")
    with live_server(app) as url:
        yield url, episodes


def _thought_speakers(page: Any) -> set[str]:
    return set(page.eval_on_selector_all("li.turn:has(.thought)", "els => els.map(e => e.dataset.speaker)"))


Site = tuple[str, list[Episode]]


def test_episode_perspective_and_evidence_in_a_browser(page: Any, site: Site, tmp_path: Path) -> None:
    url, episodes = site
    episode = episodes[0]
    page.goto(f"{url}/f/0")
    assert page.locator("h1").first.inner_text() == "store"
    page.goto(f"{url}/f/0/episodes")
    page.click(f"a.episode-link[href$='{episode.id}']")
    page.wait_for_selector("ol.transcript")
    page.screenshot(path=str(tmp_path / "episode.png"), full_page=True)

    # the <script> of turn 2 is shown as text and never ran
    assert SCRIPT in page.locator("#turn-2 .speech").inner_text()
    assert page.evaluate("window.__pwned === undefined") and page.dialogs == []

    # omniscient: every speaker's thoughts show; as the protagonist: only theirs
    names = {t.speaker for t in episode.conversation.turns if t.thought}
    assert len(names) >= 2 and _thought_speakers(page) == names
    me = episode.scenario.protagonist.name
    page.click(f"nav.perspectives a[data-as='{me}']")
    page.wait_for_selector("pre.given")
    assert _thought_speakers(page) == {me}
    assert page.locator("li.turn .hidden-thought").count() == sum(
        1 for t in episode.conversation.turns if t.speaker != me and t.thought
    )
    for turn in episode.conversation.turns:
        if turn.speaker != me and turn.thought:
            assert turn.thought not in page.content()
    page.screenshot(path=str(tmp_path / "perspective.png"), full_page=True)

    # a verdict citing turn 3 lights up turn 3, and only it
    assert page.locator("li.turn.evidence").count() == 0
    verdict = page.locator("li.verdict[data-turns='3']").first
    verdict.click()
    page.wait_for_selector("#turn-3.evidence")
    assert page.eval_on_selector_all("li.turn.evidence", "els => els.map(e => e.dataset.turn)") == ["3"]
    # n/a and unscored verdicts are drawn as such
    assert page.locator("li.verdict.na .score").first.inner_text() == "n/a"
    assert page.locator("li.verdict.unscored .score").first.inner_text() == "unscored"
    page.screenshot(path=str(tmp_path / "evidence.png"), full_page=True)
    assert page.dialogs == []


def test_pattern_page_in_a_browser(
    page: Any, site: tuple[str, list[Episode]], graph: InteractionGraph, tmp_path: Path
) -> None:
    url, _ = site
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{url}/patterns/kind")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # the vendored Cytoscape draws the pattern's neighbourhood under the page's strict policy
    page.wait_for_function("() => window.patternGraph && window.patternGraph.nodes().length > 0")
    expected = neighbourhood(graph, graph.library, "kind")
    assert page.evaluate("window.patternGraph.nodes().length") == len(expected["nodes"])
    assert page.evaluate("window.patternGraph.edges().length") == len(expected["edges"])
    assert errors == []
    assert page.locator("h1.pattern-name").inner_text() == "kind"
    assert page.locator("ol.checklist li").count() >= 5
    assert page.locator("#pattern-graph[data-elements-url='/api/patterns/kind/graph']").count() == 1
    link = page.locator("a.episodes-with").first
    assert "carry it" in link.inner_text()
    page.screenshot(path=str(tmp_path / "pattern.png"), full_page=True)
    link.click()
    page.wait_for_selector("table.episodes")
    rows = page.locator("table.episodes tbody tr")
    assert rows.count() >= 1 and all("kind" in rows.nth(i).inner_text() for i in range(rows.count()))


def test_annotation_mode_saves_a_rating(page: Any, site: tuple[str, list[Episode]], tmp_path: Path) -> None:
    url, episodes = site
    episode = episodes[0]
    me = episode.scenario.protagonist.name
    page.goto(f"{url}/f/0/annotate/{episode.id}/{me}?rater=ana")
    assert _thought_speakers(page) == {me}
    item = page.locator("li.rate-item").first
    item.locator("input[value='-1']").check()
    page.wait_for_function("() => document.querySelector('li.rate-item .saved').textContent === 'saved'")
    page.screenshot(path=str(tmp_path / "annotate.png"), full_page=True)
