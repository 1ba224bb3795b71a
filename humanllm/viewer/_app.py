"""The viewer's Starlette app: routes, the error pages, and the guards every request passes.

Only the given folders are read; a path a URL names must resolve inside one of them (else 404). The
Host header must name this machine (or the `--host` given), so a web page elsewhere cannot reach the
server through a DNS name that resolves to 127.0.0.1; ratings are taken only as JSON posts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humanllm.patterns import PatternLibrary
from humanllm.viewer import _api, _pages, _pages_more
from humanllm.viewer._folders import check_folders
from humanllm.viewer._index import Progress, StoreIndex
from humanllm.viewer._state import NotFound, Served, Viewer, check_ratings_file
from humanllm.viewer._templating import STATIC, render

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]", "testserver")
DEFAULT_RATINGS = Path("ratings.jsonl")


def open_indexes(
    folders: Sequence[Path],
    library: PatternLibrary,
    *,
    index_dir: Path | None = None,
    progress: Progress | None = None,
) -> list[Served]:
    """Each folder with its index, brought up to date (the first time: read whole)."""
    served = []
    for number, folder in enumerate(check_folders(list(folders))):
        index = StoreIndex(folder, library, index_dir=index_dir)
        report = index.refresh(progress)
        logger.info("%s: %d episodes indexed (%s)", folder, report.episodes, index.path)
        served.append(Served(number, folder, index))
    return served


def build_app(
    folders: Sequence[Path],
    *,
    library: PatternLibrary | None = None,
    index_dir: Path | None = None,
    ratings: Path | None = None,
    hosts: Sequence[str] = (),
    refresh_s: float = 1.0,
    served: list[Served] | None = None,
    relation_dirs: Sequence[Path] = (),
) -> Starlette:
    """The viewer of `folders` (each indexed now unless `served` brings them indexed).

    `hosts`: the Host names accepted besides the loopback ones (the `--host` given, `*` for any).
    `refresh_s`: pages re-read what the shards gained at most this often.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from humanllm.patterns import load_library

    library = library if library is not None else load_library()
    served = served if served is not None else open_indexes(folders, library, index_dir=index_dir)
    viewer = Viewer(
        folders=served,
        library=library,
        ratings=check_ratings_file(ratings or DEFAULT_RATINGS, [s.folder for s in served]),
        refresh_s=refresh_s,
        relation_dirs=list(relation_dirs),
    )
    routes = [
        Route("/", _pages.home),
        Route("/f/{k:int}", _pages.overview),
        Route("/f/{k:int}/episodes", _pages.episode_list),
        Route("/f/{k:int}/episodes/{episode_id}", _pages.episode_page),
        Route("/f/{k:int}/annotate/{episode_id}/{character}", _api.annotate_page),
        Route("/f/{k:int}/studies/{path:path}", _pages_more.study_page),
        Route("/f/{k:int}/results/{path:path}", _pages_more.results_page),
        Route("/f/{k:int}/files/{path:path}", _pages_more.folder_file),
        Route("/f/{k:int}/compare-models", _pages_more.compare_models),
        Route("/compare", _pages_more.compare_page),
        Route("/patterns", _pages_more.pattern_list),
        Route("/patterns/{pattern_id}", _pages_more.pattern_page),
        Route("/api/folders", _api.api_folders),
        Route("/api/f/{k:int}/overview", _api.api_overview),
        Route("/api/f/{k:int}/episodes", _api.api_episodes),
        Route("/api/f/{k:int}/episodes/{episode_id}", _api.api_episode),
        Route("/api/f/{k:int}/ratings", _api.api_rate, methods=["POST"]),
        Route("/api/patterns/{pattern_id}/graph", _pages_more.pattern_graph),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    allowed = ["*"] if "*" in hosts or "0.0.0.0" in hosts or "::" in hosts else [*LOOPBACK_NAMES, *hosts]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed), Middleware(ContentPolicy)],
        exception_handlers={NotFound: _not_found, 404: _not_found, 500: _server_error},
    )
    app.state.viewer = viewer
    return app


CONTENT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Every page runs only the viewer's own scripts and styles: no inline script, none from elsewhere, so text
from a store that escaped the templates' escaping still could not run."""


class ContentPolicy:
    """ASGI middleware: `CONTENT_POLICY` on every response that does not set its own (a folder's files do)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CONTENT_POLICY.encode()))
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)


async def _not_found(request: Request, exc: Exception) -> Response:
    from starlette.responses import HTMLResponse, JSONResponse

    message = str(exc) if isinstance(exc, NotFound) else "no such page"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=404)
    return HTMLResponse(render("error.html", title="not found", message=message), status_code=404)


async def _server_error(request: Request, exc: Exception) -> Response:
    from starlette.responses import HTMLResponse

    logger.exception("%s failed", request.url.path)
    return HTMLResponse(render("error.html", title="error", message=f"{type(exc).__name__}: {exc}"), status_code=500)
