"""Campaign landing points: how often each campaign's link was opened, per day.

Only the day, the campaign code and a count are stored: never who opened it, so the counts
say which printed material works without tracking anyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.store.database import Database

# The table campaign_visits (day, code, visits) is migration 4 (bot/store/migrations.py).


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


class SqliteCampaignStore:
    def __init__(
        self, database: Database, retention_days: int = 90, clock: Callable[[], float] = time.time
    ) -> None:
        self.db, self.retention_days, self.clock = database, retention_days, clock

    def record(self, code: str) -> None:
        """Count one opening of the campaign's link today; days past retention are dropped."""
        now = self.clock()
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO campaign_visits (day, code, visits) VALUES (?, ?, 1)"
                " ON CONFLICT(day, code) DO UPDATE SET visits = campaign_visits.visits + 1",
                (_day(now), code),
            )
            db.execute(
                "DELETE FROM campaign_visits WHERE day < ?",
                (_day(now - self.retention_days * 86400),),
            )

    def summary(self, days: int) -> list[tuple[str, int]]:
        """Visits per campaign over the last `days` days, most first."""
        rows = self.db.execute(
            "SELECT code, SUM(visits) AS n FROM campaign_visits WHERE day >= ?"
            " GROUP BY code ORDER BY n DESC, code",
            (_day(self.clock() - days * 86400),),
        ).fetchall()
        return [(code, int(n)) for code, n in rows]

    def per_day(self, code: str, days: int) -> list[tuple[str, int]]:
        """One campaign's visits per day, oldest first."""
        rows = self.db.execute(
            "SELECT day, visits FROM campaign_visits WHERE code = ? AND day >= ? ORDER BY day",
            (code, _day(self.clock() - days * 86400)),
        ).fetchall()
        return [(day, int(n)) for day, n in rows]
