"""Each chat's conversation state (bot.core.conversation.ConversationState), kept across
restarts so a follow-up is read in context; never the resident's words, only which cards were
shown. Removed by /forget, and ignored (then overwritten) after a quiet spell.

Also the "was this helpful? 👍 / 👎" counts per card and day: numbers only, no text, no user."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.conversation import QUIET_SECONDS, ConversationState
from bot.store.database import Database


class SqliteConversationStore:
    def __init__(
        self,
        database: Database,
        quiet_seconds: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.quiet_seconds, self.clock = database, quiet_seconds, clock

    def get(self, chat_id: int) -> ConversationState:
        """The chat's state, or a fresh one (none stored, expired, or unreadable)."""
        row = self.db.execute(
            "SELECT state FROM conversations WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        if row is None:
            return ConversationState()
        return ConversationState.from_json(row[0]).fresh(self.clock(), self.quiet_seconds)

    def put(self, chat_id: int, user_id: int, state: ConversationState) -> None:
        self.db.execute(
            "INSERT INTO conversations (chat_id, user_id, state, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET user_id = excluded.user_id,"
            " state = excluded.state, updated_at = excluded.updated_at",
            (chat_id, user_id, state.to_json(), self.clock()),
        )

    def forget_user(self, user_id: int) -> None:
        """Every conversation the resident had with the bot (their private chat, and the
        group chats where they were the last to talk to it)."""
        self.db.execute(
            "DELETE FROM conversations WHERE user_id = ? OR chat_id = ?", (user_id, user_id)
        )

    def purge(self) -> int:
        """Delete states older than the quiet spell; how many went."""
        cursor = self.db.execute(
            "DELETE FROM conversations WHERE updated_at < ?", (self.clock() - self.quiet_seconds,)
        )
        return cursor.rowcount


class SqliteFeedbackStore:
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.db, self.clock = database, clock

    def count(self, intent: str, helpful: bool) -> None:
        day = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
        column = "up" if helpful else "down"
        self.db.execute(
            f"INSERT INTO feedback (day, intent, {column}) VALUES (?, ?, 1)"  # noqa: S608
            f" ON CONFLICT(day, intent) DO UPDATE SET {column} = feedback.{column} + 1",
            (day, intent),
        )

    def summary(self, days: int) -> list[tuple[str, int, int]]:
        """(intent, 👍, 👎) over the last `days` days, most votes first."""
        since = self.clock() - days * 86400
        day = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d")
        rows = self.db.execute(
            "SELECT intent, SUM(up), SUM(down) FROM feedback WHERE day >= ?"
            " GROUP BY intent ORDER BY SUM(up) + SUM(down) DESC, intent",
            (day,),
        ).fetchall()
        return [(i, int(u), int(d)) for i, u, d in rows]
