"""Residents' suggestions to the bureau, their delivery to the suggestions chat and the
officers' answers. A suggestion is its own delivery queue entry, as a citizen report is: it
stays `queued` until the suggestions chat has it, whatever happens to the process or to
Telegram in between. Texts are stored with phone, card and ID numbers masked."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Protocol

from bot.core.records import SUGGESTION_STATUSES, Suggestion, SuggestionAnswer
from bot.core.report_flow import china_day
from bot.store.database import Connection, Database
from bot.store.reports import new_reference

# The tables (suggestions, suggestion_answers, suggestion_waiting, suggestion_quota) are
# migration 4 (bot/store/migrations.py).
DELIVERY_LOCK = 1_800_003  # the suggestions chat's delivery turn (reports': 1_800_002)
WAITING_LIFETIME = 30 * 60.0  # seconds; a prompt left unanswered lapses, like a report draft


class SuggestionStore(Protocol):
    def delivery_turn(self) -> AbstractContextManager[bool]: ...
    def start_waiting(self, user_id: int, now: float) -> None: ...
    def is_waiting(self, user_id: int, now: float) -> bool: ...
    def stop_waiting(self, user_id: int) -> bool: ...
    def submitted_on(self, user_id: int, day: str) -> int: ...
    def submit(
        self, user_id: int, chat_id: int, lang: str, text: str, now: float
    ) -> Suggestion: ...
    def get(self, suggestion_id: int) -> Suggestion | None: ...
    def by_bureau_message(self, message_id: int) -> Suggestion | None: ...
    def for_user(self, user_id: int, limit: int = 10) -> list[Suggestion]: ...
    def count(self, user_id: int) -> int: ...
    def undelivered(self) -> list[Suggestion]: ...
    def delivered(self, suggestion_id: int, message_id: int) -> None: ...
    def refuse(self, suggestion_id: int) -> None: ...
    def failed_attempt(self, suggestion_id: int) -> int: ...
    def answer(self, suggestion_id: int, text: str, officer: str, now: float) -> Suggestion: ...
    def decide(self, suggestion_id: int, status: str, officer: str) -> Suggestion | None: ...
    def forget_user(self, user_id: int) -> list[Suggestion]: ...
    def purge(self, before: float, now: float) -> int: ...


_COLUMNS = (
    "id, reference, user_id, chat_id, lang, text, status, delivery, bureau_messages,"
    " created_at, decided_by"
)


class SqliteSuggestionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def delivery_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may deliver to the suggestions chat now: with several
        replicas, one delivers at a time, so suggestions still arrive once and in order."""
        return self.db.exclusive(DELIVERY_LOCK)

    # -- waiting for the resident's text -----------------------------------------------------

    def start_waiting(self, user_id: int, now: float) -> None:
        self.db.execute(
            "INSERT INTO suggestion_waiting (user_id, at) VALUES (?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET at = excluded.at",
            (user_id, now),
        )

    def is_waiting(self, user_id: int, now: float) -> bool:
        row = self.db.execute(
            "SELECT at FROM suggestion_waiting WHERE user_id = ?", (user_id,)
        ).fetchone()
        return row is not None and now - row[0] < WAITING_LIFETIME

    def stop_waiting(self, user_id: int) -> bool:
        query = "DELETE FROM suggestion_waiting WHERE user_id = ?"
        return self.db.execute(query, (user_id,)).rowcount > 0

    # -- suggestions -------------------------------------------------------------------------

    def submitted_on(self, user_id: int, day: str) -> int:
        """Suggestions the resident sent on `day` (China time), even ones since forgotten."""
        row = self.db.execute(
            "SELECT submitted FROM suggestion_quota WHERE user_id = ? AND day = ?", (user_id, day)
        ).fetchone()
        return int(row[0]) if row else 0

    def submit(self, user_id: int, chat_id: int, lang: str, text: str, now: float) -> Suggestion:
        """Store the (masked) text as a queued suggestion, count it for today, stop waiting:
        one step, so a crash cannot keep the text without its reference or the reverse."""
        with self.db.transaction() as db:
            for _ in range(20):  # a clash of random references is rare; try again on one
                reference = new_reference(now, "S")
                taken = db.execute("SELECT 1 FROM suggestions WHERE reference = ?", (reference,))
                if taken.fetchone() is None:
                    break
            else:  # pragma: no cover - 31^4 references a day
                raise RuntimeError("no free suggestion reference")
            suggestion_id = int(
                db.execute(
                    "INSERT INTO suggestions (reference, user_id, chat_id, lang, text, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (reference, user_id, chat_id, lang, text, now),
                ).fetchone()[0]
            )
            db.execute("DELETE FROM suggestion_waiting WHERE user_id = ?", (user_id,))
            db.execute(
                "INSERT INTO suggestion_quota (user_id, day, submitted) VALUES (?, ?, 1)"
                " ON CONFLICT(user_id, day)"
                " DO UPDATE SET submitted = suggestion_quota.submitted + 1",
                (user_id, china_day(now)),
            )
        return self._existing(suggestion_id)

    def get(self, suggestion_id: int) -> Suggestion | None:
        return self._one("id = ?", (suggestion_id,))

    def by_bureau_message(self, message_id: int) -> Suggestion | None:
        """The suggestion a message in the suggestions chat is about (an officer replies)."""
        return self._one("bureau_message = ?", (message_id,))

    def for_user(self, user_id: int, limit: int = 10) -> list[Suggestion]:
        return self._many("user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", (user_id, limit))

    def count(self, user_id: int) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM suggestions WHERE user_id = ?", (user_id,))
        return int(row.fetchone()[0])

    def undelivered(self) -> list[Suggestion]:
        """Suggestions waiting for the suggestions chat, oldest first."""
        return self._many("delivery = 'queued' ORDER BY id", ())

    def delivered(self, suggestion_id: int, message_id: int) -> None:
        self.db.execute(
            "UPDATE suggestions SET delivery = 'delivered', bureau_message = ?,"
            " bureau_messages = ? WHERE id = ?",
            (message_id, json.dumps([message_id]), suggestion_id),
        )

    def add_bureau_message(self, suggestion_id: int, message_id: int) -> None:
        """Another bot message about it in the suggestions chat (a note), for /forget."""
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT bureau_messages FROM suggestions WHERE id = ?", (suggestion_id,)
            ).fetchone()
            if row is not None:
                messages = [*json.loads(row[0]), message_id]
                db.execute(
                    "UPDATE suggestions SET bureau_messages = ? WHERE id = ?",
                    (json.dumps(messages), suggestion_id),
                )

    def refuse(self, suggestion_id: int) -> None:
        """Telegram refuses it for good: kept, out of the queue (the log says why)."""
        self.db.execute(
            "UPDATE suggestions SET delivery = 'refused' WHERE id = ?", (suggestion_id,)
        )

    def failed_attempt(self, suggestion_id: int) -> int:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE suggestions SET delivery_attempts = delivery_attempts + 1 WHERE id = ?",
                (suggestion_id,),
            )
            row = db.execute(
                "SELECT delivery_attempts FROM suggestions WHERE id = ?", (suggestion_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def answer(self, suggestion_id: int, text: str, officer: str, now: float) -> Suggestion:
        """Keep an officer's answer; an open suggestion becomes answered (a resolved or
        referred one keeps its status)."""
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO suggestion_answers (suggestion_id, at, text, officer)"
                " VALUES (?, ?, ?, ?)",
                (suggestion_id, now, text, officer),
            )
            db.execute(
                "UPDATE suggestions SET status = 'answered' WHERE id = ? AND status = 'open'",
                (suggestion_id,),
            )
        return self._existing(suggestion_id)

    def decide(self, suggestion_id: int, status: str, officer: str) -> Suggestion | None:
        """Mark resolved or referred; None when it already has that status (or is gone)."""
        if status not in SUGGESTION_STATUSES[2:]:
            raise ValueError(status)
        changed = self.db.execute(
            "UPDATE suggestions SET status = ?, decided_by = ? WHERE id = ? AND status != ?",
            (status, officer, suggestion_id, status),
        ).rowcount
        return self.get(suggestion_id) if changed else None

    def forget_user(self, user_id: int) -> list[Suggestion]:
        """Delete the resident's suggestions with their answers, and a pending prompt; return
        the deleted ones so their messages in the suggestions chat can go too. Today's count
        for the daily limit stays until the day is over."""
        with self.db.transaction() as db:
            removed = self._many("user_id = ?", (user_id,), db)
            db.execute(
                "DELETE FROM suggestion_answers WHERE suggestion_id IN"
                " (SELECT id FROM suggestions WHERE user_id = ?)",
                (user_id,),
            )
            db.execute("DELETE FROM suggestions WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM suggestion_waiting WHERE user_id = ?", (user_id,))
        return removed

    def purge(self, before: float, now: float) -> int:
        """Delete delivered (or refused) suggestions made before `before`, their answers,
        lapsed prompts and past days' counts. One still queued is never purged."""
        old = "created_at < ? AND delivery IN ('delivered', 'refused')"
        with self.db.transaction() as db:
            db.execute("DELETE FROM suggestion_quota WHERE day < ?", (china_day(now),))
            db.execute("DELETE FROM suggestion_waiting WHERE at < ?", (now - WAITING_LIFETIME,))
            db.execute(
                f"DELETE FROM suggestion_answers WHERE suggestion_id IN"  # noqa: S608
                f" (SELECT id FROM suggestions WHERE {old})",
                (before,),
            )
            return db.execute(f"DELETE FROM suggestions WHERE {old}", (before,)).rowcount  # noqa: S608

    # -- reading rows ------------------------------------------------------------------------

    def _existing(self, suggestion_id: int) -> Suggestion:
        suggestion = self.get(suggestion_id)
        if suggestion is None:  # pragma: no cover - the row was just written
            raise RuntimeError("suggestion was not stored")
        return suggestion

    def _one(self, condition: str, params: tuple) -> Suggestion | None:
        found = self._many(f"{condition} LIMIT 1", params)
        return found[0] if found else None

    def _many(
        self, condition: str, params: tuple, db: Connection | None = None
    ) -> list[Suggestion]:
        """Suggestions and their answers (two statements; in the caller's transaction `db`
        when given)."""
        db = db or self.db
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM suggestions WHERE {condition}",  # noqa: S608 - constants
            params,
        ).fetchall()
        answers: dict[int, list[SuggestionAnswer]] = {row[0]: [] for row in rows}
        if rows:
            marks = ", ".join("?" for _ in rows)
            for suggestion_id, at, text, officer in db.execute(
                "SELECT suggestion_id, at, text, officer FROM suggestion_answers"  # noqa: S608
                f" WHERE suggestion_id IN ({marks}) ORDER BY at, id",
                tuple(row[0] for row in rows),
            ):
                answers[suggestion_id].append(SuggestionAnswer(at, text, officer))
        return [
            Suggestion(
                id=row[0],
                reference=row[1],
                user_id=row[2],
                chat_id=row[3],
                lang=row[4],
                text=row[5],
                status=row[6],
                delivery=row[7],
                bureau_messages=tuple(json.loads(row[8])),
                created_at=row[9],
                answers=tuple(answers[row[0]]),
                decided_by=row[10],
            )
            for row in rows
        ]
