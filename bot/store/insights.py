"""What residents asked: per-intent hit counts, and the questions the bot could not answer
(with phone, card and ID numbers masked), kept for a limited number of days."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.normalize import without_surrogates
from bot.core.records import Insights
from bot.privacy import mask_personal_data
from bot.store.database import Database

MAX_QUESTION = 200  # characters kept of an unanswered question
PURGE_EVERY = 200  # records between two purges of expired rows
MAX_SUMMARY_DAYS = 3650  # ten years: the most `insights --days` and `/insights N` look back


class SqliteInsightsStore:
    def __init__(
        self, database: Database, retention_days: int = 90, clock: Callable[[], float] = time.time
    ) -> None:
        self.db, self.retention_days, self.clock = database, retention_days, clock
        self._records = 0

    def record(self, question: str, intent: str | None, kind: str) -> None:
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        label = intent or kind
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO insight_hits (day, intent, hits) VALUES (?, ?, 1)"
                " ON CONFLICT(day, intent) DO UPDATE SET hits = insight_hits.hits + 1",
                (day, label),
            )
            if intent is None:
                # SQLite stores UTF-8: lone surrogates (possible in JSON) cannot be stored.
                clean = without_surrogates(question)
                masked = " ".join(mask_personal_data(clean).split())[:MAX_QUESTION]
                if masked:
                    db.execute(
                        "INSERT INTO insight_questions (at, question, kind) VALUES (?, ?, ?)",
                        (now, masked, kind),
                    )
        self._records += 1
        if self._records % PURGE_EVERY == 1:
            self.purge()

    def purge(self) -> None:
        """Forget what is older than the retention period."""
        horizon = self.clock() - self.retention_days * 86400
        day = datetime.fromtimestamp(horizon, UTC).strftime("%Y-%m-%d")
        with self.db.transaction() as db:
            db.execute("DELETE FROM insight_questions WHERE at < ?", (horizon,))
            db.execute("DELETE FROM insight_hits WHERE day < ?", (day,))

    def summary(self, days: int, top: int = 10) -> Insights:
        since = self.clock() - days * 86400
        day = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d")
        unanswered = self.db.execute(
            "SELECT question, COUNT(*) AS n FROM insight_questions WHERE at >= ?"
            " GROUP BY question ORDER BY n DESC, question LIMIT ?",
            (since, top),
        ).fetchall()
        intents = self.db.execute(
            "SELECT intent, SUM(hits) AS n FROM insight_hits WHERE day >= ?"
            " GROUP BY intent ORDER BY n DESC, intent LIMIT ?",
            (day, top),
        ).fetchall()
        return Insights(
            days, [(q, int(n)) for q, n in unanswered], [(i, int(n)) for i, n in intents]
        )
