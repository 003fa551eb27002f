"""Per-group switch for the scam guard (on unless a group administrator turned it off)."""

from __future__ import annotations

from bot.store.database import Database


class SqliteGuardStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def enabled(self, chat_id: int) -> bool:
        row = self.db.execute(
            "SELECT enabled FROM group_guard WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        return True if row is None else bool(row[0])

    def set_enabled(self, chat_id: int, enabled: bool) -> None:
        self.db.execute(
            "INSERT INTO group_guard (chat_id, enabled) VALUES (?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET enabled = excluded.enabled",
            (chat_id, int(enabled)),
        )
