"""The pages of a served folder: its overview, the episode list and one episode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from humanllm.viewer import _query
from humanllm.viewer._episode_view import given_prompt, judgement_view, turn_views
from humanllm.viewer._state import NotFound, Served, Viewer, viewer_of
from humanllm.viewer._templating import render

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


def html(body: str, status: int = 200) -> Response:
    from starlette.responses import HTMLResponse

    return HTMLResponse(body, status_code=status)


def overview_data(served: Served) -> dict[str, Any]:
    with served.index.connect() as db:
        return {
            "totals": _query.totals(db).model_dump(),
            "splits": _query.counts(db, "split"),
            "situations": _query.counts(db, "situation"),
            "folders": _query.counts(db, "folder"),
            "modes": _query.counts(db, "mode"),
            "patterns": _query.pattern_counts(db, "pattern")[:30],
            "families": _query.pattern_counts(db, "family"),
            "failures": [g.model_dump() for g in _query.failure_groups(db)],
        }


def home(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    viewer = viewer_of(request)
    if len(viewer.folders) == 1:
        return RedirectResponse("/f/0", status_code=302)
    rows = [(s, overview_data(viewer.served(s.number))["totals"]) for s in viewer.folders]
    return html(render("home.html", title="humanllm view", rows=rows))


def overview(request: Request) -> Response:
    viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    layout = served.index.layout
    return html(
        render(
            "overview.html",
            title=f"{served.name}: overview",
            served=served,
            data=overview_data(served),
            studies=layout.studies,
            results=layout.results,
        )
    )


def parse_list_query(request: Request) -> _query.ListQuery:
    raw: dict[str, Any] = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        return _query.ListQuery.model_validate(raw)
    except ValidationError:
        known = {}
        for key, value in raw.items():  # keep what is valid, drop the rest
            try:
                _query.ListQuery.model_validate({key: value})
                known[key] = value
            except ValidationError:
                continue
        return _query.ListQuery.model_validate(known)


def list_data(served: Served, query: _query.ListQuery) -> _query.ListPage:
    with served.index.connect() as db:
        return _query.list_episodes(db, query, fts=served.index.fts)


def episode_list(request: Request) -> Response:
    viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    query = parse_list_query(request)
    page = list_data(served, query)
    with served.index.connect() as db:
        choices = {
            "pattern": [p for p, _ in _query.pattern_counts(db, "pattern")],
            "family": [f for f, _ in _query.pattern_counts(db, "family")],
            "situation": [s for s, _ in _query.counts(db, "situation")],
            "split": [s for s, _ in _query.counts(db, "split") if s],
            "folder": [f for f, _ in _query.counts(db, "folder")],
        }
    return html(
        render(
            "list.html",
            title=f"{served.name}: episodes",
            served=served,
            query=query,
            page=page,
            choices=choices,
            sorts=list(_query.SORT_COLUMNS),
            sizes=_query.PAGE_SIZES,
        )
    )


def episode_context(viewer: Viewer, served: Served, episode_id: str, perspective: str | None) -> dict[str, Any]:
    episode = served.index.episode(episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id} in {served.folder}")
    names = [p.name for p in episode.scenario.characters]
    if perspective not in names:
        perspective = None
    judgements = [judgement_view(j, episode) for j in served.index.judgements(episode.id)]
    given = given_prompt(episode, perspective, viewer.library) if perspective and episode.mode == "agents" else ""
    with served.index.connect() as db:
        row = db.execute("SELECT shard, split, folder FROM episodes WHERE id = ?", (episode.id,)).fetchone()
    return {
        "served": served,
        "episode": episode,
        "names": names,
        "perspective": perspective,
        "turns": turn_views(episode, perspective),
        "judgements": [j for j in judgements if perspective is None or j.character == perspective],
        "given": given,
        "row": dict(row) if row is not None else {},
        "carried": {name: episode.scenario.char2pattern.get(name, []) for name in names},
        "pattern_ids": {
            p: viewer.library.get(p).id
            for ps in episode.scenario.char2pattern.values()
            for p in ps
            if p in viewer.library
        },
        "models": json.dumps(episode.models, indent=1) if episode.models else "",
    }


def episode_page(request: Request) -> Response:
    viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    perspective = request.query_params.get("as") or None
    context = episode_context(viewer, served, request.path_params["episode_id"], perspective)
    return html(render("episode.html", title=f"episode {context['episode'].id[:12]}", **context))
