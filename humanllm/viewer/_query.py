"""Questions the pages ask the index, all answered in SQL: the filtered, sorted, paged episode list, and counts."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SortKey = Literal["seq", "id", "situation", "turns", "tokens", "ipe", "mpd", "characters"]
SORT_COLUMNS: dict[str, str] = {
    "seq": "e.seq",
    "id": "e.id",
    "situation": "e.situation",
    "turns": "e.turns",
    "tokens": "e.tokens",
    "ipe": "e.ipe",
    "mpd": "e.mpd",
    "characters": "e.n_characters",
}
PAGE_SIZES = (25, 50, 100, 200)


class ListQuery(BaseModel):
    """The episode list's filters, sort and page (every field optional)."""

    model_config = ConfigDict(extra="ignore")

    pattern: str = Field(default="", description="A pattern some character carries (card name).")
    family: str = Field(default="", description="A family of a carried pattern.")
    situation: str = ""
    split: str = ""
    folder: str = Field(default="", description="The shard's folder, relative to the served folder.")
    character: str = ""
    text: str = Field(default="", description="Words the names, background or turns contain.")
    metric: Literal["ipe", "mpd"] = "ipe"
    min_score: float | None = Field(default=None, description="Lowest mean score of `metric` (x100).")
    max_score: float | None = None
    judged: bool = False
    sort: SortKey = "seq"
    desc: bool = False
    page: int = Field(default=1, ge=1)
    size: int = Field(default=50, ge=1, le=500)

    def params(self, **changes: Any) -> dict[str, str]:
        """The query as URL parameters (defaults left out), with `changes` applied."""
        data = self.model_copy(update=changes).model_dump()
        defaults = ListQuery().model_dump()
        return {k: _param(v) for k, v in data.items() if v != defaults[k] and v is not None}


def _param(value: object) -> str:
    return "1" if value is True else str(value)


def _match(text: str) -> str:
    """Words as an FTS5 query: each one quoted (no operator can be injected), all required."""
    words = re.findall(r"\w+", text)
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def where(query: ListQuery, *, fts: bool) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    if query.pattern:
        clauses.append("e.id IN (SELECT episode FROM episode_pattern WHERE pattern = ?)")
        args.append(query.pattern)
    if query.family:
        clauses.append("e.id IN (SELECT episode FROM episode_pattern WHERE family = ?)")
        args.append(query.family)
    if query.character:
        clauses.append("e.id IN (SELECT episode FROM episode_pattern WHERE character = ?)")
        args.append(query.character)
    for column in ("situation", "split", "folder"):
        value = getattr(query, column)
        if value:
            clauses.append(f"e.{column} = ?")
            args.append(value)
    column = SORT_COLUMNS[query.metric]
    if query.min_score is not None:
        clauses.append(f"{column} >= ?")
        args.append(query.min_score)
    if query.max_score is not None:
        clauses.append(f"{column} <= ?")
        args.append(query.max_score)
    if query.judged:
        clauses.append("e.judgements > 0")
    if query.text.strip():
        if fts:
            match = _match(query.text)
            if match:
                clauses.append("e.seq IN (SELECT rowid FROM episode_text WHERE episode_text MATCH ?)")
                args.append(match)
        else:
            for word in query.text.lower().split():
                clauses.append("e.search LIKE ? ESCAPE '\\'")
                args.append("%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


class ListPage(BaseModel):
    total: int
    rows: list[dict[str, Any]]
    pages: int


def list_episodes(db: sqlite3.Connection, query: ListQuery, *, fts: bool) -> ListPage:
    clause, args = where(query, fts=fts)
    total = db.execute(f"SELECT COUNT(*) FROM episodes e{clause}", args).fetchone()[0]
    order = SORT_COLUMNS[query.sort]
    direction = "DESC" if query.desc else "ASC"
    nulls = f"{order} IS NULL, " if query.sort in ("ipe", "mpd") else ""
    rows = db.execute(
        f"SELECT e.seq, e.id, e.situation, e.patterns, e.characters, e.turns, e.tokens, e.split, e.folder, e.ipe, "
        f"e.mpd, e.judgements, e.model, e.target FROM episodes e{clause} ORDER BY {nulls}{order} {direction}, e.seq "
        "LIMIT ? OFFSET ?",
        [*args, query.size, (query.page - 1) * query.size],
    ).fetchall()
    out = []
    for row in rows:
        item = dict(row)
        item["patterns"] = json.loads(item["patterns"])
        item["characters"] = json.loads(item["characters"])
        out.append(item)
    return ListPage(total=total, rows=out, pages=max(1, -(-total // query.size)))


def counts(db: sqlite3.Connection, column: str) -> list[tuple[str, int]]:
    """(value, episodes) of one column of the episodes table, most common first."""
    assert column in ("situation", "split", "folder", "mode")
    rows = db.execute(f"SELECT {column}, COUNT(*) FROM episodes GROUP BY {column} ORDER BY COUNT(*) DESC, {column}")
    return [(r[0] or "", r[1]) for r in rows]


def pattern_counts(db: sqlite3.Connection, column: str = "pattern") -> list[tuple[str, int]]:
    """(pattern or family, episodes with a character carrying it), most common first."""
    assert column in ("pattern", "family")
    rows = db.execute(
        f"SELECT {column}, COUNT(DISTINCT episode) FROM episode_pattern WHERE {column} != '' "
        f"GROUP BY {column} ORDER BY 2 DESC, {column}"
    )
    return [(r[0], r[1]) for r in rows]


class Totals(BaseModel):
    episodes: int
    judged: int
    judgements: int
    turns: int
    tokens: int
    characters: int
    ipe: float | None
    mpd: float | None
    skipped: int
    shards: int


def totals(db: sqlite3.Connection) -> Totals:
    e = db.execute(
        "SELECT COUNT(*), SUM(judgements > 0), COALESCE(SUM(turns), 0), COALESCE(SUM(tokens), 0), "
        "COALESCE(SUM(n_characters), 0), AVG(ipe), AVG(mpd) FROM episodes"
    ).fetchone()
    shards = db.execute("SELECT COUNT(*), COALESCE(SUM(skipped), 0) FROM shards").fetchone()
    judgements = db.execute("SELECT COUNT(*) FROM judgements").fetchone()[0]
    return Totals(
        episodes=e[0],
        judged=e[1] or 0,
        judgements=judgements,
        turns=e[2],
        tokens=e[3],
        characters=e[4],
        ipe=e[5],
        mpd=e[6],
        skipped=shards[1],
        shards=shards[0],
    )


class FailureGroupRow(BaseModel):
    cause: str
    episodes: int
    example: str


def failure_groups(db: sqlite3.Connection) -> list[FailureGroupRow]:
    """As `EpisodeStore.failure_groups`: the last failed attempt of each episode not done since, by root cause.

    Answered from the index (the store's own method reads every episode line for the done ids).
    """
    rows = db.execute(
        "SELECT a.episode, a.cause, a.reason FROM attempts a JOIN (SELECT episode, MAX(rowid) AS last FROM attempts "
        "GROUP BY episode) l ON a.rowid = l.last WHERE a.episode NOT IN (SELECT id FROM episodes) ORDER BY a.rowid"
    ).fetchall()
    grouped: dict[str, FailureGroupRow] = {}
    for _, cause, reason in rows:
        group = grouped.setdefault(cause, FailureGroupRow(cause=cause, episodes=0, example=reason))
        group.episodes += 1
    return sorted(grouped.values(), key=lambda g: -g.episodes)
