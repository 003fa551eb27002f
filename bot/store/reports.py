"""Citizen reports: drafts being written, consents, and submitted reports with their review
state. A submitted report is its own delivery queue entry: it stays `queued` until the
review chat has it, whatever happens to the process or to Telegram in between.
"""

from __future__ import annotations

import json
import secrets
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from bot.core.records import STATUSES, Report
from bot.core.report_flow import CHINA_TIME, Draft, china_day
from bot.store.database import Database

# No 0/O or 1/I/L: a resident reads the reference out over the phone.
_REFERENCE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class ReportStore(Protocol):
    def draft(self, user_id: int) -> Draft | None: ...
    def delivery_turn(self) -> AbstractContextManager[bool]: ...
    def save_draft(self, user_id: int, draft: Draft) -> None: ...
    def drop_draft(self, user_id: int) -> bool: ...
    def has_consented(self, user_id: int) -> bool: ...
    def consent(self, user_id: int) -> None: ...
    def count(self, user_id: int) -> int: ...
    def submitted_on(self, user_id: int, day: str) -> int: ...
    def submit(self, user_id: int, chat_id: int, draft: Draft, now: float) -> Report: ...
    def get(self, report_id: int) -> Report | None: ...
    def for_user(self, user_id: int, limit: int = 10) -> list[Report]: ...
    def undelivered(self) -> list[Report]: ...
    def refused(self) -> list[Report]: ...
    def recent(self, limit: int) -> list[Report]: ...
    def awaiting_decision(self, limit: int) -> list[Report]: ...
    def set_delivery(self, report_id: int, delivery: str, messages: tuple[int, ...]) -> None: ...
    def failed_attempt(self, report_id: int) -> int: ...
    def decide(self, report_id: int, status: str, reviewer: str, now: float) -> Report | None: ...
    def forget_user(self, user_id: int) -> list[Report]: ...
    def purge(self, before: float, now: float) -> int: ...


def new_reference(now: float, prefix: str = "R") -> str:
    """R + the China date + 4 random letters: R261129-K7Q2 (S… for a suggestion). Random, so
    it says nothing about how many there are and cannot be guessed from a neighbour's."""
    day = datetime.fromtimestamp(now, CHINA_TIME).strftime("%y%m%d")
    return f"{prefix}{day}-" + "".join(secrets.choice(_REFERENCE_LETTERS) for _ in range(4))


_COLUMNS = (
    "id, reference, user_id, chat_id, lang, details, status, delivery, review_messages,"
    " created_at, decided_at, decided_by"
)


def _report(row: tuple) -> Report:
    details = Draft.from_json(row[5])
    return Report(
        id=row[0],
        reference=row[1],
        user_id=row[2],
        chat_id=row[3],
        lang=row[4],
        kind=details.kind or "",
        media=details.media,
        place=details.place,
        latitude=details.latitude,
        longitude=details.longitude,
        occurred=details.occurred,
        description=details.description,
        status=row[6],
        delivery=row[7],
        review_messages=tuple(json.loads(row[8])),
        created_at=row[9],
        decided_at=row[10],
        decided_by=row[11],
    )


# The advisory lock key of the review chat's delivery: one replica delivers at a time.
DELIVERY_LOCK = 1_800_002


class SqliteReportStore:
    """Reports on either backend (the name is older than PostgreSQL support)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def delivery_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may deliver to the review chat now: with several replicas,
        one delivers at a time, so reports still reach the officers in the order made."""
        return self.db.exclusive(DELIVERY_LOCK)

    # -- drafts and consent ------------------------------------------------------------------

    def draft(self, user_id: int) -> Draft | None:
        row = self.db.execute(
            "SELECT draft FROM report_drafts WHERE user_id = ?", (user_id,)
        ).fetchone()
        return Draft.from_json(row[0]) if row else None

    def save_draft(self, user_id: int, draft: Draft) -> None:
        self.db.execute(
            "INSERT INTO report_drafts (user_id, draft, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET draft = excluded.draft,"
            " updated_at = excluded.updated_at",
            (user_id, draft.to_json(), draft.updated_at),
        )

    def drop_draft(self, user_id: int) -> bool:
        return (
            self.db.execute("DELETE FROM report_drafts WHERE user_id = ?", (user_id,)).rowcount > 0
        )

    def has_consented(self, user_id: int) -> bool:
        query = "SELECT 1 FROM report_consent WHERE user_id = ?"
        return self.db.execute(query, (user_id,)).fetchone() is not None

    def consent(self, user_id: int) -> None:
        self.db.execute(
            "INSERT INTO report_consent (user_id, at) VALUES (?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET at = excluded.at",
            (user_id, time.time()),
        )

    # -- reports -----------------------------------------------------------------------------

    def count(self, user_id: int) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM reports WHERE user_id = ?", (user_id,))
        return int(row.fetchone()[0])

    def submitted_on(self, user_id: int, day: str) -> int:
        """Reports the resident submitted on `day` (China time), even ones since forgotten."""
        row = self.db.execute(
            "SELECT submitted FROM report_quota WHERE user_id = ? AND day = ?", (user_id, day)
        ).fetchone()
        return int(row[0]) if row else 0

    def submit(self, user_id: int, chat_id: int, draft: Draft, now: float) -> Report:
        """Store the confirmed draft as a queued report and drop the draft, in one step."""
        details = replace(draft, updated_at=now).to_json()
        with self.db.transaction() as db:
            for _ in range(20):  # a clash of random references is rare; try again on one
                reference = new_reference(now)
                taken = db.execute("SELECT 1 FROM reports WHERE reference = ?", (reference,))
                if taken.fetchone() is None:
                    break
            else:  # pragma: no cover - 31^4 references a day
                raise RuntimeError("no free report reference")
            report_id = db.execute(
                "INSERT INTO reports (reference, user_id, chat_id, lang, details, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (reference, user_id, chat_id, draft.lang, details, now),
            ).fetchone()[0]
            db.execute("DELETE FROM report_drafts WHERE user_id = ?", (user_id,))
            db.execute(
                "INSERT INTO report_quota (user_id, day, submitted) VALUES (?, ?, 1)"
                " ON CONFLICT(user_id, day) DO UPDATE SET submitted = report_quota.submitted + 1",
                (user_id, china_day(now)),
            )
        report = self.get(int(report_id))
        if report is None:  # pragma: no cover - the row was just written
            raise RuntimeError("report was not stored")
        return report

    def get(self, report_id: int) -> Report | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE id = ?",  # noqa: S608 - constant columns
            (report_id,),
        ).fetchone()
        return _report(row) if row else None

    def for_user(self, user_id: int, limit: int = 10) -> list[Report]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE user_id = ?"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        return [_report(r) for r in rows]

    def undelivered(self) -> list[Report]:
        """Reports waiting for the review chat, oldest first."""
        return self._in_delivery("delivery NOT IN ('delivered', 'refused')")

    def refused(self) -> list[Report]:
        """Reports Telegram refused for good (the log says why), oldest first: kept for the
        operator, and out of the queue so the reports behind them go out."""
        return self._in_delivery("delivery = 'refused'")

    def _in_delivery(self, condition: str) -> list[Report]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE {condition} ORDER BY id"  # noqa: S608 - constants
        ).fetchall()
        return [_report(r) for r in rows]

    def recent(self, limit: int) -> list[Report]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports ORDER BY id DESC LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_report(r) for r in rows]

    def awaiting_decision(self, limit: int) -> list[Report]:
        """Reports in the review chat that no officer has decided yet, oldest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports"  # noqa: S608
            " WHERE status = 'pending' AND delivery = 'delivered' ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        return [_report(r) for r in rows]

    def set_delivery(self, report_id: int, delivery: str, messages: tuple[int, ...]) -> None:
        self.db.execute(
            "UPDATE reports SET delivery = ?, review_messages = ? WHERE id = ?",
            (delivery, json.dumps(list(messages)), report_id),
        )

    def failed_attempt(self, report_id: int) -> int:
        """Count one delivery of the report that failed by the bot's own fault (not Telegram's);
        the count so far. Stored, so a restart does not give a broken report a fresh start."""
        with self.db.transaction() as db:
            db.execute(
                "UPDATE reports SET delivery_attempts = delivery_attempts + 1 WHERE id = ?",
                (report_id,),
            )
            row = db.execute(
                "SELECT delivery_attempts FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def decide(self, report_id: int, status: str, reviewer: str, now: float) -> Report | None:
        """Accept or reject a pending report; None if it was already decided (or is gone)."""
        if status not in STATUSES[1:]:
            raise ValueError(status)
        changed = self.db.execute(
            "UPDATE reports SET status = ?, decided_at = ?, decided_by = ?"
            " WHERE id = ? AND status = 'pending'",
            (status, now, reviewer, report_id),
        ).rowcount
        return self.get(report_id) if changed else None

    def forget_user(self, user_id: int) -> list[Report]:
        """Delete the resident's reports, draft and consent; return the deleted reports so the
        caller can remove their review copies as the configuration says. Today's count for
        the daily limit stays until the day is over."""
        with self.db.transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE user_id = ?",  # noqa: S608
                (user_id,),
            ).fetchall()
            db.execute("DELETE FROM reports WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM report_drafts WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM report_consent WHERE user_id = ?", (user_id,))
        return [_report(r) for r in rows]

    def purge(self, before: float, now: float) -> int:
        """Delete delivered (or refused) reports created before `before` (the retention
        period the resident was promised), and daily counts of past days. A report still
        waiting for the review chat is never purged: that would lose it."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM report_quota WHERE day < ?", (china_day(now),))
            return db.execute(
                "DELETE FROM reports WHERE created_at < ? AND delivery IN ('delivered', 'refused')",
                (before,),
            ).rowcount
