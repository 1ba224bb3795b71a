"""The pattern explorer's graph widget in a real browser: headless Debian Chromium driven by Playwright.

A stdlib HTTP server on 127.0.0.1 serves humanllm/viewer/static, a page holding the widget's
`<div id="pattern-graph">`, the elements JSON from `neighbourhood(...)` and a stand-in pattern page.
Never `playwright install`: the browser is the system's (apt-get install chromium).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from humanllm.patterns import InteractionGraph, PatternLibrary, Relation, RelationType, load_graph, load_library
from humanllm.viewer._graph_data import neighbourhood

pytestmark = pytest.mark.browser

STATIC = (Path(__file__).resolve().parents[1] / "humanllm" / "viewer" / "static").resolve()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CENTRE = "conformity"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>explorer test</title>
<link rel="stylesheet" href="/static/explorer.css"></head>
<body><h1>{centre}</h1>
<div id="pattern-graph" data-elements-url="/elements.json" data-pattern-url="/patterns/{{id}}"></div>
<script src="/static/vendor/cytoscape.min.js"></script>
<script src="/static/explorer.js"></script>
</body></html>
"""
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"
XSS = '<img src=x onerror="window.__pwned = 1; alert(1)"><script>window.__pwned = 2</script>'


@dataclass
class Site:
    """What the test server serves, and what it was asked."""

    graph: InteractionGraph
    centre: str
    csp: bool = True
    radii: list[int] = field(default_factory=list)
    url: str = ""

    def elements(self, radius: int) -> dict[str, Any]:
        return dict(neighbourhood(self.graph, self.graph.library, self.centre, radius))


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if site.csp:
                self.send_header("Content-Security-Policy", CSP)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            elif parts.path == "/":
                self._send(200, PAGE.format(centre=site.centre).encode(), "text/html; charset=utf-8")
            elif parts.path == "/elements.json":
                radius = int(parse_qs(parts.query).get("radius", ["1"])[0])
                site.radii.append(radius)
                self._send(200, json.dumps(site.elements(radius)).encode(), "application/json")
            elif parts.path.startswith("/patterns/"):
                name = parts.path.removeprefix("/patterns/")
                self._send(200, f'<!doctype html><p id="landed">{name}</p>'.encode(), "text/html")
            elif parts.path.startswith("/static/"):
                path = (STATIC / parts.path.removeprefix("/static/")).resolve()
                if not path.is_relative_to(STATIC) or not path.is_file():
                    self._send(404, b"not found", "text/plain")
                    return
                kind = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
                self._send(200, path.read_bytes(), kind)
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(site: Site) -> Site:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        site.url = f"http://127.0.0.1:{server.server_address[1]}"
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def library() -> PatternLibrary:
    return load_library()


@pytest.fixture(scope="module")
def graph(library: PatternLibrary) -> InteractionGraph:
    return load_graph(library)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (never `playwright install`)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@dataclass
class Opened:
    page: Any
    errors: list[str]
    dialogs: list[str]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_(site: Site) -> Opened:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, [], [])
        page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
        page.on("console", lambda msg: opened.errors.append(msg.text) if msg.type == "error" else None)

        def dialog(d: Any) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(site.url + "/")
        page.wait_for_selector("#pattern-graph[data-state=ready]", timeout=15000)
        return opened

    yield open_
    for context in contexts:
        context.close()


def _canvas_point(page: Any, js_point: str) -> tuple[float, float]:
    """A point given in Cytoscape's rendered coordinates (a JS expression over `cy`), on the page."""
    box = page.locator(".pg-canvas").bounding_box()
    point = page.evaluate(f"(() => {{ const cy = window.patternGraph; return {js_point}; }})()")
    return box["x"] + point["x"], box["y"] + point["y"]


def test_the_neighbourhood_is_drawn_round_its_pattern(
    graph: InteractionGraph, serve: Any, open_page: Any, tmp_path: Path
) -> None:
    site = serve(Site(graph, CENTRE))
    opened = open_page(site)
    page = opened.page
    expected = site.elements(1)
    counts = page.evaluate("[window.patternGraph.nodes().length, window.patternGraph.edges().length]")
    assert counts == [len(expected["nodes"]), len(expected["edges"])] and counts[0] > 5
    drawn = page.evaluate("window.patternGraph.nodes().map(n => [n.id(), n.data('centre'), n.position()])")
    centre = next(p for _, is_centre, p in drawn if is_centre)
    ring = [p for _, is_centre, p in drawn if not is_centre]
    mean_x, mean_y = sum(p["x"] for p in ring) / len(ring), sum(p["y"] for p in ring) / len(ring)
    spread = max(abs(p["x"] - centre["x"]) for p in ring)
    assert abs(mean_x - centre["x"]) < spread / 4 and abs(mean_y - centre["y"]) < spread / 4  # the ring is round it
    assert len({(round(p["x"]), round(p["y"])) for _, _, p in drawn}) == len(drawn)  # no two on one spot
    legend = page.eval_on_selector_all(".pg-legend [data-relation]", "items => items.map(i => i.dataset.relation)")
    assert sorted(legend) == sorted({e["data"]["relation"] for e in expected["edges"]})
    dashed = page.evaluate(
        "window.patternGraph.edges('[relation = \"excludes\"]').map(e => e.style('line-style'))"
        "  .concat(window.patternGraph.edges('[relation = \"reinforces\"]').map(e => e.style('line-style')))"
    )
    excludes = sum(1 for e in expected["edges"] if e["data"]["relation"] == "excludes")
    assert excludes and dashed[:excludes] == ["dashed"] * excludes and set(dashed[excludes:]) == {"solid"}
    assert page.evaluate("window.patternGraph.edges().every(e => e.visible())")  # one hop: every relation shown
    shot = tmp_path / "pattern-graph.png"
    page.locator("#pattern-graph").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert opened.errors == []  # none under a strict Content-Security-Policy either


def test_tapping_a_relation_shows_its_rationale(graph: InteractionGraph, serve: Any, open_page: Any) -> None:
    site = serve(Site(graph, CENTRE))
    page = open_page(site).page
    # a spoke from the centre: drawn alone from the middle outwards, so the click lands on it
    edges = page.evaluate(
        "window.patternGraph.edges().filter(e => e.source().data('centre') || e.target().data('centre'))"
        "  .filter(e => e.parallelEdges().length === 1).map(e => e.id())"
    )
    assert edges
    edge_id = edges[0]
    x, y = _canvas_point(page, f"cy.getElementById({json.dumps(edge_id)}).renderedMidpoint()")
    page.mouse.click(x, y)
    rationale = next(e["data"] for e in site.elements(1)["edges"] if e["data"]["id"] == edge_id)
    page.wait_for_selector(".pg-panel .pg-rationale")
    assert page.inner_text(".pg-panel .pg-rationale") == rationale["rationale"]
    assert page.inner_text(".pg-panel .pg-relation").lower() == rationale["relation"].replace("_", " ")


def test_tapping_a_neighbour_opens_its_page(graph: InteractionGraph, serve: Any, open_page: Any) -> None:
    site = serve(Site(graph, CENTRE))
    page = open_page(site).page
    neighbour = page.evaluate("window.patternGraph.nodes('[!centre]')[0].id()")
    x, y = _canvas_point(page, f"cy.getElementById({json.dumps(neighbour)}).renderedPosition()")
    page.mouse.click(x, y)
    page.wait_for_url(f"**/patterns/{neighbour}", timeout=10000)
    assert page.inner_text("#landed") == neighbour


def test_the_radius_selector_fetches_the_wider_ring(
    graph: InteractionGraph, serve: Any, open_page: Any, tmp_path: Path
) -> None:
    site = serve(Site(graph, CENTRE))
    page = open_page(site).page
    wider = site.elements(2)
    assert wider["truncated"]  # conformity's two-hop ring passes the cap: the status says so
    page.select_option(".pg-radius", "2")
    page.wait_for_function("n => window.patternGraph.nodes().length === n", arg=len(wider["nodes"]), timeout=15000)
    page.wait_for_selector("#pattern-graph[data-state=ready]")
    assert site.radii == [1, 2]
    assert f"of {wider['total_nodes']} within 2 hops" in page.inner_text(".pg-status")
    # Cytoscape restyles on its next frame: wait for the drawn state rather than read it at once
    shown = "([kind, seen]) => window.patternGraph.edges().filter(e => e.data('relation') === kind)"
    shown += ".every(e => e.visible() === seen)"
    page.wait_for_function(shown, arg=["excludes", False], timeout=5000)  # past one hop constraints start hidden
    page.wait_for_function(shown, arg=["reinforces", True], timeout=5000)
    page.check(".pg-legend [data-relation=excludes] input")
    page.uncheck(".pg-legend [data-relation=reinforces] input")
    page.wait_for_function(shown, arg=["excludes", True], timeout=5000)
    page.wait_for_function(shown, arg=["reinforces", False], timeout=5000)
    page.check(".pg-legend [data-relation=reinforces] input")
    page.uncheck(".pg-legend [data-relation=excludes] input")
    shot = tmp_path / "pattern-graph-radius-2.png"
    page.locator("#pattern-graph").screenshot(path=str(shot))
    print(f"screenshot: {shot}")


def test_a_rationale_holding_html_is_shown_as_text(library: PatternLibrary, serve: Any, open_page: Any) -> None:
    cards = [library.get("conformity"), library.get("naive realism")]
    relation = Relation(source=cards[0].name, target=cards[1].name, type=RelationType.REINFORCES, rationale=XSS)
    site = serve(Site(InteractionGraph(PatternLibrary(cards), [(relation, "test")]), cards[0].name, csp=False))
    opened = open_page(site)  # no CSP: the widget alone must keep the markup inert
    page = opened.page
    assert page.evaluate("window.patternGraph.edges().length") == 1
    x, y = _canvas_point(page, "cy.edges()[0].renderedMidpoint()")
    page.mouse.click(x, y)
    page.wait_for_selector(".pg-panel .pg-rationale")
    page.wait_for_timeout(300)  # time for an image error handler to have fired, were there an image
    assert page.inner_text(".pg-panel .pg-rationale") == XSS
    assert page.evaluate("window.__pwned") is None and opened.dialogs == []
    assert page.locator(".pg-panel img, .pg-panel script").count() == 0
