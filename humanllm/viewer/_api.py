"""The JSON endpoints beside the pages (`/api/...`), and annotation mode (its page and the ratings it posts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from humanllm.errors import ConfigError
from humanllm.viewer._annotations import check_score, items_for, rating_payload
from humanllm.viewer._episode_view import judgement_view, turn_views
from humanllm.viewer._pages import html, list_data, overview_data, parse_list_query
from humanllm.viewer._state import NotFound, Served, Viewer, viewer_of
from humanllm.viewer._templating import render

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from humanllm.core import Episode


def _json(data: object, status: int = 200) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(data, status_code=status)


def api_folders(request: Request) -> Response:
    viewer = viewer_of(request)
    return _json([{"number": s.number, "folder": str(s.folder), "index": str(s.index.path)} for s in viewer.folders])


def api_overview(request: Request) -> Response:
    return _json(overview_data(viewer_of(request).served(request.path_params["k"])))


def api_episodes(request: Request) -> Response:
    served = viewer_of(request).served(request.path_params["k"])
    query = parse_list_query(request)
    return _json({"query": query.model_dump(), **list_data(served, query).model_dump()})


def api_episode(request: Request) -> Response:
    served = viewer_of(request).served(request.path_params["k"])
    episode = served.index.episode(request.path_params["episode_id"])
    if episode is None:
        raise NotFound("no such episode")
    perspective = request.query_params.get("as") or None
    return _json(
        {
            "episode": episode.model_dump(mode="json"),
            "perspective": perspective,
            "turns": [
                {"number": t.number, "speaker": t.speaker, "pieces": [[p.channel, p.text] for p in t.pieces]}
                for t in turn_views(episode, perspective)
            ],
            "judgements": [_plain(judgement_view(j, episode)) for j in served.index.judgements(episode.id)],
        }
    )


def _plain(view: object) -> dict[str, object]:
    import dataclasses

    return dataclasses.asdict(view)  # type: ignore[call-overload]


# --- annotation mode ---------------------------------------------------------------------------
def _split(served: Served, episode_id: str) -> str:
    with served.index.connect() as db:
        row = db.execute("SELECT split FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    return (row[0] or "") if row is not None else ""


def _episode(served: Served, episode_id: str, character: str) -> Episode:
    episode = served.index.episode(episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    if character not in [p.name for p in episode.scenario.characters]:
        raise NotFound(f"no character {character} in episode {episode_id}")
    return episode


def annotate_page(request: Request) -> Response:
    viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    character = request.path_params["character"]
    episode = _episode(served, request.path_params["episode_id"], character)
    rows = items_for(episode, character, _split(served, episode.id), viewer.library)
    rater = request.query_params.get("rater", "").strip()[:80]
    given = viewer.ratings_file.ratings(episode.id, character, rater)
    return html(
        render(
            "annotate.html",
            title=f"rate {character}",
            served=served,
            episode=episode,
            character=character,
            turns=turn_views(episode, character),
            rows=rows,
            given=given,
            rater=rater,
            ratings_file=str(viewer.ratings),
        )
    )


async def api_rate(request: Request) -> Response:
    """Save one rating: JSON {episode_id, character, item_id, score, rater}; only JSON is taken (no form posts
    from other sites: a cross-site JSON post needs a preflight this server never grants)."""
    viewer: Viewer = viewer_of(request)
    served = viewer.served(request.path_params["k"])
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _json({"error": "send the rating as application/json"}, 415)
    try:
        episode_id, character, item_id, score, rater = rating_payload(await request.json())
        episode = _episode(served, episode_id, character)
        rows = {r.item_id: r for r in items_for(episode, character, _split(served, episode_id), viewer.library)}
        if item_id not in rows:
            raise ConfigError(f"{character} has no item {item_id} in episode {episode_id}")
        row = rows[item_id].model_copy(update={"human_score": check_score(rows[item_id], score), "rater": rater})
    except ValueError:
        return _json({"error": "the body is not JSON"}, 400)
    except ConfigError as exc:
        return _json({"error": str(exc)}, 400)
    changed = viewer.ratings_file.save(row)
    return _json({"saved": True, "changed": changed, "score": row.human_score, "file": str(viewer.ratings)})
