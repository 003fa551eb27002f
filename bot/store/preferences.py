"""Residents' chosen reply language, remembered across restarts."""

from __future__ import annotations

from typing import Protocol

from bot.store.database import Database


class PreferenceStore(Protocol):
    def get_language(self, user_id: int) -> str | None: ...

    def set_language(self, user_id: int, lang: str) -> None: ...

    def forget(self, user_id: int) -> None: ...


class SqlitePreferenceStore:
    def __init__(self, database: Database | str) -> None:
        self.db = database if isinstance(database, Database) else Database(database)

    def get_language(self, user_id: int) -> str | None:
        row = self.db.execute(
            "SELECT lang FROM user_language WHERE user_id = ?", (user_id,)
        ).fetchone()
        return row[0] if row else None

    def set_language(self, user_id: int, lang: str) -> None:
        self.db.execute(
            "INSERT INTO user_language (user_id, lang) VALUES (?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang",
            (user_id, lang),
        )

    def forget(self, user_id: int) -> None:
        self.db.execute("DELETE FROM user_language WHERE user_id = ?", (user_id,))
