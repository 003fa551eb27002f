"""Residents' chosen reply language, remembered across restarts."""

from __future__ import annotations

import sqlite3
import threading
from typing import Protocol


class PreferenceStore(Protocol):
    def get_language(self, user_id: int) -> str | None: ...

    def set_language(self, user_id: int, lang: str) -> None: ...


class SqlitePreferenceStore:
    """One small table; `path` may be ":memory:" for tests and the offline chat."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS user_language ("
                " user_id INTEGER PRIMARY KEY, lang TEXT NOT NULL)"
            )

    def get_language(self, user_id: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT lang FROM user_language WHERE user_id = ?", (user_id,)
            ).fetchone()
        return row[0] if row else None

    def set_language(self, user_id: int, lang: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO user_language (user_id, lang) VALUES (?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang",
                (user_id, lang),
            )

    def close(self) -> None:
        self._db.close()
