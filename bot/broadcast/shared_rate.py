"""One send rate for every replica: a token bucket kept in the database (table send_rate).

Each replica books its send slots from the same row: one statement moves the row's `next_at`
on by `batch` intervals and returns where the booked run of slots starts, on the database's
clock (the one clock every replica shares). Slots booked by two replicas never overlap, so
all of them together send at most `rate` messages a second, whatever their number; a slot a
replica booked and did not use (it stopped, or came to it late) is lost, so the total stays
at or under the rate.

Chosen over a leader elected by advisory lock: no election delay when a replica dies, and
every replica's HTTP connections share the sending (at 1,000 msg/s and 50 ms per call, one
process would need 50 sends in flight on its own).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.store.database import Database

BUCKET = "broadcast"
# How many intervals late a booked slot may still be used. Measured at 1,000 msg/s with four
# replicas on 2 cores (bench_postgres): 10 let the busiest second reach 1,013 messages, 2 gave
# 1,006 at the same throughput, and 0 still 1,003 (what is left is the Bot API's arrival
# jitter, not the bucket) with no gain.
LATE_SLOTS = 2


class SharedRateLimiter:
    """The `RateLimiter` interface (`wait`, `pause`) over the database's bucket row. Making
    one writes the row if it is missing: from the event loop, make it in a thread."""

    def __init__(
        self,
        database: Database,
        rate: float,
        batch: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str = BUCKET,
    ) -> None:
        self.db, self.name, self.sleep = database, name, sleep
        self.interval = 1.0 / rate
        # About 50 ms of slots per booking: 20 bookings a second per replica at most.
        self.batch = batch or max(1, math.ceil(rate * 0.05))
        self._slots: deque[float] = deque()  # booked send times, local wall clock
        self._booking = asyncio.Lock()
        greatest = "GREATEST" if database.dialect == "postgresql" else "MAX"
        self._now_sql = (
            "EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION"
            if database.dialect == "postgresql"
            else "?"
        )
        self._book_sql = (
            f"UPDATE send_rate SET next_at = {greatest}(next_at, {self._now_sql}) + ?"  # noqa: S608
            f" WHERE name = ? RETURNING next_at, {self._now_sql}"
        )
        database.execute(
            "INSERT INTO send_rate (name, next_at) VALUES (?, 0) ON CONFLICT DO NOTHING",
            (name,),
        )

    def _book(self, seconds: float) -> tuple[float, float]:
        """Move the bucket on by `seconds`; (where it is now, the database's time)."""
        if self.db.dialect == "postgresql":
            params: tuple[object, ...] = (seconds, self.name)
        else:
            now = time.time()
            params = (now, seconds, self.name, now)
        row = self.db.execute(self._book_sql, params).fetchone()
        return float(row[0]), float(row[1])

    async def wait(self) -> None:
        async with self._booking:
            # A slot this process came too late for (it was starved of CPU for a while) is
            # left unused: spent late, slots bunch up. Up to LATE_SLOTS intervals late they
            # are still used, so one second holds at most the rate + LATE_SLOTS per replica.
            now = time.time()
            while self._slots and self._slots[0] < now - LATE_SLOTS * self.interval:
                self._slots.popleft()
            if not self._slots:
                span = self.batch * self.interval
                end, db_now = await asyncio.to_thread(self._book, span)
                offset = time.time() - db_now  # local clock minus the database's
                start = end - span + offset
                self._slots.extend(start + i * self.interval for i in range(self.batch))
            slot = self._slots.popleft()
        delay = slot - time.time()
        if delay > 0:
            await self.sleep(delay)

    async def pause(self, seconds: float) -> None:
        """Telegram asked to wait (RetryAfter): every replica waits, from now on. Slots this
        replica booked already are dropped (they fall inside the pause)."""
        self._slots.clear()
        await asyncio.to_thread(self._pause_bucket, seconds)

    def _pause_bucket(self, seconds: float) -> None:
        now_params = (time.time(),) if self.db.dialect == "sqlite" else ()
        greatest = "GREATEST" if self.db.dialect == "postgresql" else "MAX"
        self.db.execute(
            f"UPDATE send_rate SET next_at = {greatest}(next_at, {self._now_sql} + ?)"  # noqa: S608
            " WHERE name = ?",
            (*now_params, seconds, self.name),
        )
