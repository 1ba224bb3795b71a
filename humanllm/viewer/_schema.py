"""The index's SQLite schema: one row per episode, who carries what, judgements, failed attempts, shards read."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = "1"

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shards (
    path TEXT PRIMARY KEY,          -- relative to the served folder
    kind TEXT NOT NULL,             -- episodes, judgements, attempts, plan
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL,        -- bytes read so far (every whole line before it is indexed)
    records INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0  -- lines that are not valid records
);
CREATE TABLE IF NOT EXISTS episodes (
    seq INTEGER PRIMARY KEY,        -- the order indexed
    id TEXT NOT NULL UNIQUE,
    shard TEXT NOT NULL,
    offset INTEGER NOT NULL,        -- where its line starts in the shard
    length INTEGER NOT NULL,        -- the line's bytes
    folder TEXT NOT NULL,           -- the shard's folder, relative ('' = the served folder)
    situation TEXT NOT NULL,
    patterns TEXT NOT NULL,         -- JSON list of the bundle's pattern names
    characters TEXT NOT NULL,       -- JSON list, protagonist first
    n_characters INTEGER NOT NULL,
    turns INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    mode TEXT NOT NULL,
    models TEXT NOT NULL,
    label TEXT NOT NULL,            -- split carried by the record or its split file
    split TEXT,                     -- train / id_eval / ood_eval / mixed_eval / ... (NULL: no split known)
    source TEXT NOT NULL,           -- a benchmark play: its source episode
    target TEXT NOT NULL,
    model TEXT NOT NULL,            -- a benchmark play: the model under test
    ipe REAL,                       -- mean IPE x100 over its judgements (NULL: not judged)
    mpd REAL,
    judgements INTEGER NOT NULL DEFAULT 0,
    search TEXT                     -- the searched text, when SQLite has no FTS5
);
CREATE INDEX IF NOT EXISTS episodes_situation ON episodes (situation);
CREATE INDEX IF NOT EXISTS episodes_split ON episodes (split);
CREATE INDEX IF NOT EXISTS episodes_ipe ON episodes (ipe);
CREATE INDEX IF NOT EXISTS episodes_mpd ON episodes (mpd);
CREATE INDEX IF NOT EXISTS episodes_shard ON episodes (shard);
CREATE INDEX IF NOT EXISTS episodes_source ON episodes (source, target);
CREATE TABLE IF NOT EXISTS episode_pattern (
    episode TEXT NOT NULL,
    character TEXT NOT NULL,
    pattern TEXT NOT NULL,
    family TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS episode_pattern_pattern ON episode_pattern (pattern, episode);
CREATE INDEX IF NOT EXISTS episode_pattern_family ON episode_pattern (family, episode);
CREATE INDEX IF NOT EXISTS episode_pattern_episode ON episode_pattern (episode);
CREATE TABLE IF NOT EXISTS judgements (
    key TEXT PRIMARY KEY,
    episode TEXT NOT NULL,
    character TEXT NOT NULL,
    judge TEXT NOT NULL,
    run INTEGER NOT NULL,
    shard TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    ipe REAL,
    mpd REAL,
    unscored INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS judgements_episode ON judgements (episode);
CREATE INDEX IF NOT EXISTS judgements_shard ON judgements (shard);
CREATE TABLE IF NOT EXISTS attempts (
    episode TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    cause TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    shard TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_shard ON attempts (shard);
"""

FTS_TABLE = "CREATE VIRTUAL TABLE IF NOT EXISTS episode_text USING fts5(text)"
"""The text search (rowid = episodes.seq), where SQLite has FTS5."""


def has_fts5(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        connection.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError:
        return False
    return True


def create(connection: sqlite3.Connection) -> bool:
    """Create the tables (an index of another schema version is emptied first); returns whether FTS5 is used."""
    found = connection.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if found is not None:
        version = connection.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if version is None or version[0] != SCHEMA_VERSION:
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                if not name.startswith("sqlite_") and not name.startswith("episode_text_"):
                    connection.execute(f'DROP TABLE IF EXISTS "{name}"')
    connection.executescript(TABLES)
    fts = has_fts5(connection)
    if fts:
        connection.execute(FTS_TABLE)
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
    connection.commit()
    return fts
