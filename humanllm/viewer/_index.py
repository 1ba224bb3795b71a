"""The incremental SQLite index of one served folder: its episodes, judgements and failed attempts.

A store of 100,000 episodes is never loaded: each shard is read once, line by line, and each
episode keeps one row (where its line is, byte offset and length, so its page reads that one line)
plus its patterns and scores. Per shard the index remembers size, mtime, inode and the offset read
so far; a refresh reads only the bytes appended since (shards grow while `generate` runs). A shard
that shrank below what was read, or was replaced (another inode), is read again from the start.
The store's reading rules hold: the first line of an id wins, a last line that does not parse yet
is a write in progress (left for the next refresh), and a line that is not a valid record is
skipped and counted, never fatal.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import Episode
from humanllm.errors import DataError
from humanllm.evaluation import Judgement
from humanllm.patterns import PatternLibrary
from humanllm.simulation import Failure
from humanllm.viewer import _schema
from humanllm.viewer._folders import Layout, discover, index_path, whole_file
from humanllm.viewer._rows import episode_row, failure_row, judgement_row
from humanllm.viewer._splits import assign_splits

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (bytes read, bytes to read) while a refresh reads."""
BATCH = 500
"""Records inserted per transaction."""


class RefreshReport(BaseModel):
    """What one refresh read."""

    episodes: int = Field(default=0, description="Episodes added.")
    judgements: int = 0
    attempts: int = 0
    skipped: int = Field(default=0, description="Lines that are not valid records (skipped, counted).")
    reread: list[str] = Field(default_factory=list, description="Shards read again from the start.")
    bytes_read: int = 0
    seconds: float = 0.0


class StoreIndex:
    """The index of `folder`, kept in `path` (outside the folder); `refresh()` brings it up to date."""

    def __init__(self, folder: Path, library: PatternLibrary, *, index_dir: Path | None = None) -> None:
        self.folder = Path(folder).resolve()
        self.library = library
        self.path = index_path(self.folder, index_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._checked = 0.0
        self.layout = Layout()
        with self.connect() as db:
            self.fts = _schema.create(db)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('folder', ?)", (str(self.folder),))
            db.commit()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of this thread's own (pages are served from a thread pool)."""
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    # --- refreshing ---------------------------------------------------------------------------
    def refresh_if_stale(self, every_s: float = 1.0) -> RefreshReport | None:
        """Refresh unless one ran in the last `every_s` seconds (pages call this on every request)."""
        if time.monotonic() - self._checked < every_s:
            return None
        return self.refresh()

    def refresh(self, progress: Progress | None = None) -> RefreshReport:
        """Read what the folder's shards gained since the last refresh."""
        with self._lock:
            started = time.monotonic()
            report = RefreshReport()
            self.layout = discover(self.folder)
            files = [
                *(("episodes", p) for p in self.layout.episodes),
                *(("judgements", p) for p in self.layout.judgements),
                *(("attempts", p) for p in self.layout.attempts),
            ]
            with self.connect() as db:
                known = {row["path"]: row for row in db.execute("SELECT * FROM shards")}
                for gone in set(known) - {p for _, p in files} - set(self.layout.plans):
                    self._forget(db, gone)
                    report.reread.append(gone)
                todo = []
                for kind, relative in files:
                    try:
                        stat = (self.folder / relative).stat()
                    except OSError:
                        continue
                    row = known.get(relative)
                    rewritten = whole_file(relative) and stat.st_size != (row["offset"] if row is not None else 0)
                    if row is not None and (row["inode"] != stat.st_ino or stat.st_size < row["offset"] or rewritten):
                        self._forget(db, relative)
                        report.reread.append(relative)
                        row = None
                    offset = row["offset"] if row is not None else 0
                    if row is None or stat.st_size != offset:
                        todo.append((kind, relative, stat, offset))
                total = sum(stat.st_size - offset for _, _, stat, offset in todo)
                touched: set[str] = set()
                for kind, relative, stat, offset in todo:
                    self._read_shard(db, kind, relative, stat, offset, report, touched, progress, total)
                self._rescore(db, touched)
                assign_splits(db, self.folder, self.layout.plans, new=report.episodes > 0)
                db.commit()
            self._checked = time.monotonic()
            report.seconds = self._checked - started
            return report

    def _forget(self, db: sqlite3.Connection, relative: str) -> None:
        """Drop everything indexed from one shard (it shrank, was replaced or is gone)."""
        ids = [r[0] for r in db.execute("SELECT id FROM episodes WHERE shard = ?", (relative,))]
        if self.fts:
            db.execute(
                "DELETE FROM episode_text WHERE rowid IN (SELECT seq FROM episodes WHERE shard = ?)", (relative,)
            )
        db.executemany("DELETE FROM episode_pattern WHERE episode = ?", [(i,) for i in ids])
        db.execute("DELETE FROM episodes WHERE shard = ?", (relative,))
        judged = [r[0] for r in db.execute("SELECT DISTINCT episode FROM judgements WHERE shard = ?", (relative,))]
        db.execute("DELETE FROM judgements WHERE shard = ?", (relative,))
        self._rescore(db, set(judged))
        db.execute("DELETE FROM attempts WHERE shard = ?", (relative,))
        db.execute("DELETE FROM shards WHERE path = ?", (relative,))

    def _read_shard(
        self,
        db: sqlite3.Connection,
        kind: str,
        relative: str,
        stat: os.stat_result,
        offset: int,
        report: RefreshReport,
        touched: set[str],
        progress: Progress | None,
        total: int,
    ) -> None:
        path = self.folder / relative
        split_file = kind == "episodes" and not whole_file(relative) and not Path(relative).name.startswith("episodes-")
        label = Path(relative).stem if split_file else ""  # id_eval.jsonl: its episodes are in id_eval
        records = skipped = 0
        position = offset
        pending = 0
        with path.open("rb") as handle:
            handle.seek(offset)
            # an episode file is one record over all of it (pretty-printed): read whole, like one long line
            for raw in [handle.read()] if whole_file(relative) else handle:
                if not raw.endswith(b"\n") and not _parses(raw):
                    break  # a write in progress (or a torn tail): read again next time
                start, position = position, position + len(raw)
                if raw.strip():
                    added = self._add(db, kind, relative, start, raw, label, touched)
                    records += added > 0
                    skipped += added < 0
                pending += 1
                if pending >= BATCH:
                    db.commit()
                    pending = 0
                    if progress is not None:
                        progress(report.bytes_read + position - offset, total)
        report.bytes_read += position - offset
        report.skipped += skipped
        setattr(report, kind, getattr(report, kind) + records)
        if skipped:
            logger.warning("%s: skipped %d lines that are not valid %s records", path, skipped, kind)
        db.execute(
            "INSERT INTO shards (path, kind, size, mtime_ns, inode, offset, records, skipped) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
            "mtime_ns=excluded.mtime_ns, offset=excluded.offset, records=records+excluded.records, "
            "skipped=skipped+excluded.skipped",
            (relative, kind, stat.st_size, stat.st_mtime_ns, stat.st_ino, position, records, skipped),
        )
        db.commit()
        if progress is not None:
            progress(report.bytes_read, total)

    def _add(
        self, db: sqlite3.Connection, kind: str, shard: str, offset: int, raw: bytes, label: str, touched: set[str]
    ) -> int:
        """Index one line: 1 when added, 0 when its key is indexed already (the first line wins), -1 when it is
        not a valid record of its kind."""
        try:
            if kind == "episodes":
                return self._add_episode(db, Episode.model_validate_json(raw), shard, offset, len(raw), label, touched)
            elif kind == "judgements":
                row = judgement_row(Judgement.model_validate_json(raw))
                done = db.execute(
                    "INSERT OR IGNORE INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.key,
                        row.episode,
                        row.character,
                        row.judge,
                        row.run,
                        shard,
                        offset,
                        len(raw),
                        row.ipe,
                        row.mpd,
                        row.unscored,
                        row.not_applicable,
                    ),
                )
                if not done.rowcount:
                    return 0
                touched.add(row.episode)
            else:
                db.execute(
                    "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?)",
                    (*failure_row(Failure.model_validate_json(raw)), shard),
                )
        except (ValidationError, ValueError, DataError):
            return -1
        return 1

    def _add_episode(
        self,
        db: sqlite3.Connection,
        episode: Episode,
        shard: str,
        offset: int,
        length: int,
        label: str,
        touched: set[str],
    ) -> int:
        row = episode_row(episode, self.library, label)
        folder = str(Path(shard).parent) if Path(shard).parent != Path(".") else ""
        cursor = db.execute(
            "INSERT OR IGNORE INTO episodes (id, shard, offset, length, folder, situation, patterns, characters, "
            "n_characters, turns, tokens, mode, models, label, source, target, model, search) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                shard,
                offset,
                length,
                folder,
                row.situation,
                row.patterns,
                row.characters,
                row.n_characters,
                row.turns,
                row.tokens,
                row.mode,
                row.models,
                row.label,
                row.source,
                row.target,
                row.model,
                None if self.fts else row.text.lower(),
            ),
        )
        if not cursor.rowcount:
            return 0  # the first line of an id wins
        if self.fts:
            db.execute("INSERT INTO episode_text (rowid, text) VALUES (?, ?)", (cursor.lastrowid, row.text))
        db.executemany("INSERT INTO episode_pattern VALUES (?, ?, ?, ?)", [(row.id, *c) for c in row.carried])
        touched.add(row.id)
        return 1

    def _rescore(self, db: sqlite3.Connection, episodes: set[str]) -> None:
        """Each episode's mean IPE and MPD (x100) over its judgements, for the episodes whose judgements changed."""
        db.executemany(
            "UPDATE episodes SET ipe = (SELECT 100 * AVG(ipe) FROM judgements WHERE episode = episodes.id), "
            "mpd = (SELECT 100 * AVG(mpd) FROM judgements WHERE episode = episodes.id), "
            "judgements = (SELECT COUNT(*) FROM judgements WHERE episode = episodes.id) WHERE id = ?",
            [(e,) for e in episodes],
        )

    # --- reading one record ------------------------------------------------------------------
    def read_line(self, shard: str, offset: int, length: int) -> bytes:
        """The one line at `offset` of a shard (a page reads its episode this way, never the whole shard)."""
        with (self.folder / shard).open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    def episode(self, episode_id: str) -> Episode | None:
        with self.connect() as db:
            row = db.execute("SELECT shard, offset, length FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if row is None:
            return None
        raw = self.read_line(row["shard"], row["offset"], row["length"])
        try:
            episode = Episode.model_validate_json(raw)
        except (ValidationError, ValueError):
            return None  # the shard changed under the index; the next refresh reads it again
        return episode if episode.id == episode_id else None

    def judgements(self, episode_id: str) -> list[Judgement]:
        """The episode's judgements (each key once), by character, judge and run."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT shard, offset, length FROM judgements WHERE episode = ? ORDER BY character, judge, run",
                (episode_id,),
            ).fetchall()
        out = []
        for row in rows:
            try:
                out.append(Judgement.model_validate_json(self.read_line(row["shard"], row["offset"], row["length"])))
            except (ValidationError, ValueError):
                continue
        return out


def _parses(raw: bytes) -> bool:
    import json

    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
