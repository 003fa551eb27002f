"""The persistent outbox: one row per subscriber per alert, written before anything is sent.

Rows are selected from the subscribers table inside the database, so enqueueing 100,000
residents never holds them in Python. A sender claims a few rows at a time for a lease
(`claim`: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so any number of replicas send one
broadcast together, each row to one of them); a row claimed by a replica that died is
claimed again once its lease is over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.broadcast.alerts import Alert
from bot.store.database import Database

DRAFT_LIFETIME = 86400.0  # seconds a typed alert waits for its confirmation


@dataclass(frozen=True, order=True)
class OutboxRow:
    id: int
    chat_id: int
    lang: str


@dataclass(frozen=True)
class BroadcastStatus:
    alert_id: str
    status: str  # sending | done
    counts: dict[str, int]  # pending / sent / blocked / failed
    started_by: int | None
    created_at: float
    finished_at: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _audience_filter(
    alert: Alert, audiences: tuple[str, ...] | None = None
) -> tuple[str, list[object]]:
    """SQL condition and parameters: active, a matching topic, the area (if any) and, for an
    alert naming audience groups, membership of any of them (`audiences` overrides the
    alert's, to count one group)."""
    topic_sql = " OR ".join("topics LIKE ?" for _ in alert.topics)
    params: list[object] = [f"%,{t},%" for t in alert.topics]
    sql = f"active = 1 AND ({topic_sql})"
    if alert.areas:
        # A resident who chose no township hears about every township.
        sql += f" AND (area IS NULL OR area IN ({', '.join('?' for _ in alert.areas)}))"
        params += list(alert.areas)
    groups = alert.audiences if audiences is None else audiences
    if groups:
        # Only those who joined a group hear its alerts: a resident who chose none is not
        # "every group" (unlike a township), or shop owners' warnings would reach everyone.
        sql += f" AND ({' OR '.join('audiences LIKE ?' for _ in groups)})"
        params += [f"%,{g},%" for g in groups]
    return sql, params


class Outbox:
    def __init__(self, database: Database) -> None:
        self.db = database

    def claim(self, alert_id: str, owner: str, limit: int, lease: float) -> list[OutboxRow]:
        """Up to `limit` pending rows nobody holds, lowest ids first, held by `owner` for
        `lease` seconds (their claim ends with `mark`, `release`, or the lease)."""
        now = time.time()
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        with self.db.transaction() as db:
            rows = db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN"  # noqa: S608
                " (SELECT id FROM outbox WHERE alert_id = ? AND status = 'pending'"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                f" ORDER BY id LIMIT ?{skip_locked}) RETURNING id, chat_id, lang",
                (owner, now + lease, alert_id, now, limit),
            ).fetchall()
        return sorted(OutboxRow(*r) for r in rows)

    def renew(self, row_id: int, owner: str, lease: float) -> bool:
        """Extend the owner's claim on a still pending row; False if it is no longer theirs
        (the lease ran out and another sender took it)."""
        now = time.time()
        return (
            self.db.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id = ? AND status = 'pending'"
                " AND claimed_by = ? AND claimed_until >= ?",
                (now + lease, row_id, owner, now),
            ).rowcount
            > 0
        )

    def release(self, owner: str) -> int:
        """Give back every pending row the owner holds (a graceful stop): others take them
        at once instead of after the lease."""
        return self.db.execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by = ? AND status = 'pending'",
            (owner,),
        ).rowcount

    def held_by_others(self, alert_id: str, owner: str) -> bool:
        """Whether pending rows of the alert are left that `owner` does not hold."""
        row = self.db.execute(
            "SELECT 1 FROM outbox WHERE alert_id = ? AND status = 'pending'"
            " AND (claimed_by IS NULL OR claimed_by <> ? OR claimed_until IS NULL) LIMIT 1",
            (alert_id, owner),
        ).fetchone()
        return row is not None

    def audience_size(self, alert: Alert) -> int:
        where, params = _audience_filter(alert)
        row = self.db.execute(
            f"SELECT COUNT(*) FROM subscribers WHERE {where}",  # noqa: S608
            tuple(params),
        ).fetchone()
        return int(row[0])

    def audience_sizes(self, alert: Alert) -> dict[str, int]:
        """For an alert naming audience groups: how many of its subscribers are in each (the
        topic and township rules applied); {} for an alert to everyone."""
        sizes = {}
        for group in alert.audiences:
            where, params = _audience_filter(alert, (group,))
            row = self.db.execute(
                f"SELECT COUNT(*) FROM subscribers WHERE {where}",  # noqa: S608
                tuple(params),
            ).fetchone()
            sizes[group] = int(row[0])
        return sizes

    def enqueue(self, alert: Alert, started_by: int | None = None) -> int | None:
        """Queue the alert for its audience; None if this alert id was queued before.

        An alert id is idempotent: a second broadcast of the same id queues nothing new (and
        the sender only finishes what is still pending from the first).
        """
        where, params = _audience_filter(alert)
        with self.db.transaction() as db:
            created = db.execute(
                "INSERT INTO broadcasts (alert_id, alert_json, started_by, status,"
                " created_at) VALUES (?, ?, ?, 'sending', ?) ON CONFLICT DO NOTHING",
                (alert.id, alert.to_json(), started_by, time.time()),
            ).rowcount
            if not created:
                return None
            count = db.execute(
                "INSERT INTO outbox (alert_id, chat_id, lang)"  # noqa: S608
                f" SELECT ?, chat_id, lang FROM subscribers WHERE {where} ORDER BY chat_id"
                " ON CONFLICT DO NOTHING",
                (alert.id, *params),
            ).rowcount
            db.execute("UPDATE broadcasts SET enqueued = ? WHERE alert_id = ?", (count, alert.id))
        return count

    def keep_draft(self, alert: Alert) -> None:
        """An alert typed after /broadcast, kept until it is confirmed or cancelled; in the
        database, so the confirmation may reach another replica. Drafts left a day are
        dropped meanwhile."""
        now = time.time()
        with self.db.transaction() as db:
            db.execute("DELETE FROM alert_drafts WHERE created_at < ?", (now - DRAFT_LIFETIME,))
            db.execute(
                "INSERT INTO alert_drafts (alert_id, alert_json, created_at) VALUES (?, ?, ?)",
                (alert.id, alert.to_json(), now),
            )

    def draft(self, alert_id: str) -> Alert | None:
        row = self.db.execute(
            "SELECT alert_json FROM alert_drafts WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        return Alert.from_json(row[0]) if row else None

    def drop_draft(self, alert_id: str) -> None:
        self.db.execute("DELETE FROM alert_drafts WHERE alert_id = ?", (alert_id,))

    def alert(self, alert_id: str) -> Alert | None:
        row = self.db.execute(
            "SELECT alert_json FROM broadcasts WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        return Alert.from_json(row[0]) if row else None

    def pending(self, alert_id: str, after_id: int, limit: int) -> list[OutboxRow]:
        rows = self.db.execute(
            "SELECT id, chat_id, lang FROM outbox WHERE alert_id = ? AND status = 'pending'"
            " AND id > ? ORDER BY id LIMIT ?",
            (alert_id, after_id, limit),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def mark(self, row_id: int, status: str, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE outbox SET status = ?, error = ?, sent_at = ?, claimed_until = NULL"
            " WHERE id = ?",
            (status, error, time.time() if status == "sent" else None, row_id),
        )

    def count_attempt(self, row_id: int, error: str) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ?", (error, row_id)
        )

    def move_chat(self, row_id: int, new_chat_id: int) -> None:
        """The row follows a migrated chat, unless the new chat has its own row already."""
        self.db.execute(
            "UPDATE outbox SET chat_id = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM outbox"
            " AS other WHERE other.alert_id = outbox.alert_id AND other.chat_id = ?)",
            (new_chat_id, row_id, new_chat_id),
        )

    def finish(self, alert_id: str) -> bool:
        """Close the broadcast; True for the one caller that closed it (of several replicas)."""
        return (
            self.db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ?"
                " WHERE alert_id = ? AND status = 'sending'",
                (time.time(), alert_id),
            ).rowcount
            > 0
        )

    def unfinished(self) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT alert_id FROM broadcasts WHERE status = 'sending' ORDER BY created_at"
            )
        ]

    def status(self, alert_id: str) -> BroadcastStatus | None:
        head = self.db.execute(
            "SELECT status, started_by, created_at, finished_at FROM broadcasts WHERE alert_id = ?",
            (alert_id,),
        ).fetchone()
        if head is None:
            return None
        counts = dict.fromkeys(("pending", "sent", "blocked", "failed"), 0)
        for status, count in self.db.execute(
            "SELECT status, COUNT(*) FROM outbox WHERE alert_id = ? GROUP BY status", (alert_id,)
        ):
            counts[status] = count
        return BroadcastStatus(alert_id, head[0], counts, head[1], head[2], head[3])
