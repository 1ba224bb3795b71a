"""The local web viewer (`humanllm view`): stores, episodes, judgements, studies and the pattern graph in a browser.

It reads, never writes, the folders it serves (architecture decision 8): each folder is indexed
incrementally into SQLite outside it (`StoreIndex`), pages read single records by offset, and
annotation mode writes ratings to their own file. `build_app` makes the Starlette app; `serve` runs it.
"""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.viewer._annotations import RatingsFile
    from humanllm.viewer._app import build_app, open_indexes
    from humanllm.viewer._evidence import cited_turns, evidence_turns
    from humanllm.viewer._folders import cache_dir, discover, index_path
    from humanllm.viewer._graph_data import neighbourhood
    from humanllm.viewer._index import RefreshReport, StoreIndex
    from humanllm.viewer._query import ListQuery
    from humanllm.viewer._serve import bind, is_loopback, serve, url_of
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "ListQuery",
    "RatingsFile",
    "RefreshReport",
    "StoreIndex",
    "bind",
    "build_app",
    "cache_dir",
    "cited_turns",
    "discover",
    "evidence_turns",
    "index_path",
    "is_loopback",
    "neighbourhood",
    "open_indexes",
    "serve",
    "url_of",
]
