"""An on-disk response cache for LangChain chat models (SQLite, one row per prompt)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads


class SQLiteResponseCache(BaseCache):
    """Keyed by (prompt, model+parameters); safe to share between threads of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (prompt TEXT, llm TEXT, value TEXT, PRIMARY KEY (prompt, llm))"
        )
        self._db.commit()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM responses WHERE prompt = ? AND llm = ?", (prompt, llm_string)
            ).fetchone()
        return loads(row[0]) if row else None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        value = dumps(list(return_val))
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (prompt, llm_string, value))
            self._db.commit()

    def clear(self, **kwargs: object) -> None:
        with self._lock:
            self._db.execute("DELETE FROM responses")
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
