"""Who wants which alerts: topics, an optional township, and the language to send them in."""

from __future__ import annotations

import time
from typing import Protocol

from bot.core.records import TOPICS, Subscription
from bot.store.database import Database


class SubscriptionStore(Protocol):
    def subscribe(self, chat_id: int, user_id: int, lang: str) -> Subscription: ...
    def unsubscribe(self, chat_id: int) -> bool: ...
    def get(self, chat_id: int) -> Subscription | None: ...
    def set_topics(self, chat_id: int, topics: tuple[str, ...]) -> None: ...
    def set_area(self, chat_id: int, area: str | None) -> None: ...
    def set_audiences(self, chat_id: int, audiences: tuple[str, ...]) -> None: ...
    def set_language(self, chat_id: int, lang: str) -> None: ...
    def deactivate(self, chat_id: int) -> None: ...
    def move_chat(self, old_chat_id: int, new_chat_id: int) -> None: ...
    def forget_user(self, user_id: int) -> int: ...


def _topics_text(topics: tuple[str, ...]) -> str:
    return "," + ",".join(t for t in TOPICS if t in topics) + ","


def _ids_text(ids: tuple[str, ...]) -> str:
    """ ",merchants,students,": LIKE '%,merchants,%' selects; "," is none."""
    return "," + "".join(f"{i}," for i in sorted(set(ids)))


class SqliteSubscriptionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def subscribe(self, chat_id: int, user_id: int, lang: str) -> Subscription:
        """Subscribe (or re-activate) a chat; a new subscriber gets every topic."""
        now = time.time()
        self.db.execute(
            "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, NULL, 1, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET active = 1, lang = excluded.lang,"
            " updated_at = excluded.updated_at",
            (chat_id, user_id, lang, _topics_text(TOPICS), now, now),
        )
        subscription = self.get(chat_id)
        if subscription is None:  # pragma: no cover - the row was just written
            raise RuntimeError("subscription was not stored")
        return subscription

    def unsubscribe(self, chat_id: int) -> bool:
        return self.db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,)).rowcount > 0

    def get(self, chat_id: int) -> Subscription | None:
        row = self.db.execute(
            "SELECT chat_id, user_id, lang, topics, area, active, created_at, audiences"
            " FROM subscribers WHERE chat_id = ?",
            (chat_id,),
        ).fetchone()
        if row is None:
            return None
        topics = tuple(t for t in row[3].split(",") if t)
        audiences = tuple(a for a in (row[7] or "").split(",") if a)
        return Subscription(row[0], row[1], row[2], topics, row[4], bool(row[5]), row[6], audiences)

    def set_topics(self, chat_id: int, topics: tuple[str, ...]) -> None:
        self._update(chat_id, "topics", _topics_text(topics))

    def set_area(self, chat_id: int, area: str | None) -> None:
        self._update(chat_id, "area", area)

    def set_audiences(self, chat_id: int, audiences: tuple[str, ...]) -> None:
        self._update(chat_id, "audiences", _ids_text(audiences))

    def set_language(self, chat_id: int, lang: str) -> None:
        self._update(chat_id, "lang", lang)

    def deactivate(self, chat_id: int) -> None:
        self._update(chat_id, "active", 0)

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its subscription follows the new chat id."""
        with self.db.transaction() as db:  # the old chat's settings win over any new row
            moving = db.execute("SELECT 1 FROM subscribers WHERE chat_id = ?", (old_chat_id,))
            if moving.fetchone() is None:
                return
            db.execute("DELETE FROM subscribers WHERE chat_id = ?", (new_chat_id,))
            db.execute(
                "UPDATE subscribers SET chat_id = ?, updated_at = ? WHERE chat_id = ?",
                (new_chat_id, time.time(), old_chat_id),
            )

    def forget_user(self, user_id: int) -> int:
        """Delete every subscription the user made and every alert queued for them."""
        with self.db.transaction() as db:
            chats = [
                r[0]
                for r in db.execute("SELECT chat_id FROM subscribers WHERE user_id = ?", (user_id,))
            ]
            db.execute("DELETE FROM subscribers WHERE user_id = ?", (user_id,))
            db.executemany("DELETE FROM outbox WHERE chat_id = ?", [(c,) for c in chats])
        return len(chats)

    def _update(self, chat_id: int, column: str, value: object) -> None:
        if column not in (
            "topics",
            "area",
            "lang",
            "active",
            "audiences",
        ):  # never interpolate input
            raise ValueError(column)
        self.db.execute(
            f"UPDATE subscribers SET {column} = ?, updated_at = ? WHERE chat_id = ?",  # noqa: S608
            (value, time.time(), chat_id),
        )
