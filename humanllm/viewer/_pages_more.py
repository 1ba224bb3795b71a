"""The pattern pages, the study and results pages, and compare (two episodes, or two models on one scenario)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from humanllm.errors import HumanLLMError
from humanllm.viewer._episode_view import judgement_view, turn_views
from humanllm.viewer._pages import html
from humanllm.viewer._state import NotFound, Served, Viewer, viewer_of
from humanllm.viewer._templating import render

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

TABLE_ROWS = 500
"""Rows of a CSV the study page shows."""
SAFE_TYPES = {
    ".png": "image/png",
    ".svg": "text/plain",
    ".csv": "text/plain",
    ".json": "text/plain",
    ".md": "text/plain",
    ".txt": "text/plain",
    ".jsonl": "text/plain",
    ".html": "text/html",
}


# --- patterns -----------------------------------------------------------------------------------
def _card(viewer: Viewer, pattern_id: str) -> Any:
    try:
        return viewer.library.get(pattern_id)
    except KeyError as exc:
        raise NotFound(f"no pattern {pattern_id}") from exc


def pattern_list(request: Request) -> Response:
    viewer = viewer_of(request)
    cards = sorted(viewer.library, key=lambda c: (c.kind.value, c.family.value, c.name))
    return html(render("patterns.html", title="patterns", cards=cards))


def pattern_page(request: Request) -> Response:
    viewer = viewer_of(request)
    card = _card(viewer, request.path_params["pattern_id"])
    edges = viewer.graph.neighbours(card.name)
    carried = []
    for served in viewer.folders:
        with served.index.connect() as db:
            count = db.execute(
                "SELECT COUNT(DISTINCT episode) FROM episode_pattern WHERE pattern = ?", (card.name,)
            ).fetchone()[0]
        carried.append((served, count))
    return html(
        render(
            "pattern.html",
            title=f"pattern: {card.name}",
            card=card,
            edges=edges,
            ids={c.name: c.id for c in viewer.library},
            carried=carried,
        )
    )


def pattern_graph(request: Request) -> Response:
    from starlette.responses import JSONResponse

    from humanllm.viewer._graph_data import neighbourhood

    viewer = viewer_of(request)
    card = _card(viewer, request.path_params["pattern_id"])
    try:
        radius = max(1, min(3, int(request.query_params.get("radius", "1"))))
    except ValueError:
        radius = 1
    return JSONResponse(neighbourhood(viewer.graph, viewer.library, card.id, radius=radius))


# --- files, studies, results ---------------------------------------------------------------------
def folder_file(request: Request) -> Response:
    """A file of a served folder (pictures, tables, the study's report page), refused outside it."""
    from starlette.responses import FileResponse

    served = viewer_of(request).served(request.path_params["k"])
    path = served.file(request.path_params["path"])
    kind = SAFE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise NotFound(f"{path.name}: the viewer serves only pictures, tables and reports")
    # a page from the folder runs nothing (its scripts could otherwise act on this server as the user)
    headers = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=kind, headers=headers)


def _csv_table(served: Served, relative: str) -> dict[str, Any] | None:
    try:
        path = served.file(relative)
    except NotFound:
        return None
    with io.StringIO(path.read_text(encoding="utf-8", errors="replace"), newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return None
    return {"name": path.name, "header": rows[0], "rows": rows[1 : TABLE_ROWS + 1], "more": len(rows) - 1 > TABLE_ROWS}


def study_page(request: Request) -> Response:
    served = viewer_of(request).served(request.path_params["k"])
    relative = request.path_params["path"].strip("/") or "."
    if relative not in served.index.layout.studies:
        raise NotFound(f"{relative} is not a study folder of {served.folder}")
    base = "" if relative == "." else relative + "/"
    design = served.file(base + "design.json").read_text(encoding="utf-8", errors="replace")
    reports = sorted({p.rsplit("/", 1)[0] for p in _files(served, base, "analysis.json")})
    sections = []
    for report in reports:
        prefix = report + "/"
        tables = [t for name in ("expression.csv", "effects.csv") if (t := _csv_table(served, prefix + name))]
        pictures = sorted(_files(served, prefix, ".png"))
        summary = ""
        if (served.folder / prefix / "summary.md").is_file():
            summary = served.file(prefix + "summary.md").read_text(encoding="utf-8", errors="replace")
        has_html = (served.folder / prefix / "report.html").is_file()
        sections.append(
            {
                "folder": report,
                "tables": tables,
                "pictures": pictures,
                "summary": summary,
                "html": prefix + "report.html" if has_html else "",
            }
        )
    folder = "" if relative == "." else relative
    return html(
        render(
            "study.html",
            title=f"study {relative}",
            served=served,
            relative=relative,
            design=design,
            sections=sections,
            folder=folder,
        )
    )


def _files(served: Served, prefix: str, suffix: str) -> list[str]:
    """Files under `prefix` of the served folder (to two levels) whose names end in `suffix`, relative."""
    root = served.folder / prefix if prefix else served.folder
    found = []
    for pattern in (f"*{suffix}", f"*/*{suffix}"):
        for path in root.glob(pattern):
            if path.is_file() and not path.is_symlink():
                found.append(str(path.relative_to(served.folder)))
    return sorted(found)


def results_page(request: Request) -> Response:
    from humanllm.evaluation import EvalResults

    served = viewer_of(request).served(request.path_params["k"])
    relative = request.path_params["path"]
    if relative not in served.index.layout.results:
        raise NotFound(f"{relative} is not an evaluation result of {served.folder}")
    try:
        results = EvalResults.load(served.file(relative))
    except HumanLLMError as exc:
        return html(render("error.html", title="not a result", message=str(exc)), status=422)
    with served.index.connect() as db:
        pairs = db.execute(
            "SELECT source, target, COUNT(DISTINCT model) AS models, COUNT(*) AS plays FROM episodes "
            "WHERE source != '' GROUP BY source, target HAVING COUNT(DISTINCT model) >= 1 ORDER BY source, target "
            "LIMIT 500"
        ).fetchall()
    return html(
        render(
            "results.html",
            title=relative,
            served=served,
            relative=relative,
            results=results,
            pairs=[dict(p) for p in pairs],
        )
    )


# --- compare -------------------------------------------------------------------------------------
def _side(viewer: Viewer, ref: str) -> dict[str, Any]:
    number, _, episode_id = ref.partition(":")
    served = viewer.served(number)
    episode = served.index.episode(episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id} in {served.folder}")
    judgements = [judgement_view(j, episode) for j in served.index.judgements(episode.id)]
    return {
        "served": served,
        "episode": episode,
        "turns": turn_views(episode, None),
        "judgements": judgements,
        "label": episode.spec.get("model", "") if episode.spec and episode.spec.get("kind") == "play" else "",
    }


def compare_page(request: Request) -> Response:
    viewer = viewer_of(request)
    refs = [r for r in request.query_params.getlist("e") if r]
    if not refs:
        refs = [r for r in (request.query_params.get("a", ""), request.query_params.get("b", "")) if r]
    if len(refs) < 2:
        return html(render("error.html", title="compare", message="compare needs two episodes: ?a=0:ID&b=0:ID"), 400)
    sides = [_side(viewer, ref) for ref in refs[:4]]
    return html(render("compare.html", title="compare", sides=sides, heading="Two episodes side by side"))


def compare_models(request: Request) -> Response:
    """Every model's play of one source episode's target, side by side (from `eval run` folders)."""
    viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    source, target = request.query_params.get("source", ""), request.query_params.get("target", "")
    with served.index.connect() as db:
        rows = db.execute(
            "SELECT id, model FROM episodes WHERE source = ? AND (? = '' OR target = ?) ORDER BY model, id LIMIT 4",
            (source, target, target),
        ).fetchall()
    if not rows:
        raise NotFound(f"no plays of {source} in {served.folder}")
    sides = [_side(viewer, f"{served.number}:{row['id']}") for row in rows]
    heading = f"{target or 'the target'} in {source[:12]}, played by {len(sides)} models"
    return html(render("compare.html", title="compare models", sides=sides, heading=heading, json=json))
