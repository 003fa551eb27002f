"""Deliver an alert from the outbox within Telegram's limits, losing none, sending none twice.

* a global rate (messages per second) and at most one message per chat per second;
* RetryAfter: everyone waits the time Telegram asks for, then the message is retried;
* Forbidden (blocked, deactivated, removed from a group): the subscriber is deactivated;
* ChatMigrated (a group became a supergroup): the subscription and the row follow the new id;
* BadRequest (e.g. chat not found): the row is marked failed;
* time-outs and network errors: retried with exponential back-off, up to a limit.

Each row is marked in the database right after Telegram accepts the message, so a process
killed at any instant re-sends at most the messages that were in flight when it died.

Several replicas can run one broadcast together: each claims a few rows at a time for a lease
(Outbox.claim), so every row goes to one sender; a killed replica's rows are claimed again
when their lease ends, and a stopped one gives its rows back at once. With a shared
`SharedRateLimiter` the rate holds for all replicas together. Every query runs in a thread:
the event loop never waits for the network (PostgreSQL) or for SQLite's lock, which a long
write elsewhere (enqueueing a large broadcast) may hold for seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.broadcast.outbox import Outbox, OutboxRow
from bot.broadcast.telegram_errors import retry_seconds
from bot.store.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)

T = TypeVar("T")
LEASE = 30.0  # seconds a claimed row stays with its sender before another may take it
RECENT_CHATS_LIMIT = 10_000


@dataclass(frozen=True)
class BroadcastReport:
    alert_id: str
    sent: int
    blocked: int
    failed: int
    pending: int
    seconds: float
    finished: bool = False  # this sender saw the last row go out and closed the broadcast

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class RateLimiter:
    """Spaces calls at most `rate` per second on average; `pause` holds everyone back."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._paused_until = 0.0

    async def wait(self) -> None:
        now = self.clock()
        start = max(now, self._next, self._paused_until)
        # Book the slot before sleeping, so concurrent workers queue up one interval apart.
        self._next = start + self.interval
        if start > now:
            await self.sleep(start - now)

    async def pause(self, seconds: float) -> None:
        until = self.clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, until)


class Limiter(Protocol):  # what the sender needs: RateLimiter, SharedRateLimiter
    async def wait(self) -> None: ...

    async def pause(self, seconds: float) -> None: ...


def sender_name() -> str:
    """Who holds a claimed row: host, process and a random part (a restarted process with the
    same pid must not take over its predecessor's claims)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class BroadcastSender:
    def __init__(
        self,
        bot: Bot,
        outbox: Outbox,
        subscriptions: SubscriptionStore,
        rate: float | None = 25.0,
        concurrency: int = 8,
        max_attempts: int = 5,
        backoff: float = 0.5,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limiter: Limiter | None = None,
        lease: float = LEASE,
        name: str | None = None,
    ) -> None:
        self.bot, self.outbox, self.subscriptions = bot, outbox, subscriptions
        self.limiter: Limiter = limiter or RateLimiter(rate, clock, sleep)
        self.lease, self.name = lease, name or sender_name()
        # Sends in flight at once: 8 keep 25 msg/s through a 300 ms round trip (about 160
        # msg/s at 50 ms), and no more are wanted: each one in flight when the process is
        # killed may be delivered twice on resume.
        self.concurrency = max(1, concurrency)
        self.max_attempts, self.backoff = max_attempts, backoff
        self.per_chat_interval = per_chat_interval
        self.clock, self.sleep = clock, sleep
        self._last_sent: dict[int, float] = {}
        self._done: Counter[str] = Counter()

    async def run(self, alert_id: str, stop: asyncio.Event | None = None) -> BroadcastReport:
        """Send everything still pending for `alert_id`; stops early (cleanly) when `stop` is set.

        Safe to call again after a crash or a stop: only pending rows are sent.
        """
        alert = await self._db(self.outbox.alert, alert_id)
        if alert is None:
            raise KeyError(f"no broadcast {alert_id!r}")
        texts = {lang: alert.render(lang) for lang in ("zh", "en")}
        started = time.perf_counter()
        queue: asyncio.Queue[tuple[OutboxRow, float] | None] = asyncio.Queue(
            maxsize=2 * self.concurrency
        )
        outbox, name, lease = self.outbox, self.name, self.lease
        self._done: Counter[str] = Counter()
        held: set[int] = set()  # rows queued or in flight here (a claim renewed is not new)

        async def produce() -> None:
            while not (stop and stop.is_set()):
                batch = self.concurrency
                rows = await self._db(outbox.claim, alert_id, name, batch, lease)
                if not rows:
                    if not await self._db(outbox.held_by_others, alert_id, name):
                        break
                    # Another sender holds the rest: wait for it to finish them, or for the
                    # leases of one that died to end, then claim what is left.
                    await self.sleep(min(1.0, lease / 4))
                    continue
                claimed = self.clock()
                for row in rows:
                    if row.id not in held:
                        held.add(row.id)
                        await queue.put((row, claimed))
            for _ in range(self.concurrency):
                await queue.put(None)

        async def work() -> None:
            while (item := await queue.get()) is not None:
                row, claimed = item
                try:
                    if stop and stop.is_set():
                        continue  # drain without sending: the rows are given back below
                    if self.clock() - claimed > lease / 2 and not await self._db(
                        outbox.renew, row.id, name, lease
                    ):
                        continue  # held too long (a long pause): another sender has it now
                    await self._deliver(row, texts.get(row.lang, texts["zh"]))
                finally:
                    held.discard(row.id)

        try:
            await asyncio.gather(produce(), *(work() for _ in range(self.concurrency)))
        finally:
            await self._db(outbox.release, name)
        status = await self._db(outbox.status, alert_id)
        if status is None:  # pragma: no cover - rows were just read
            raise KeyError(alert_id)
        finished = False
        if status.counts["pending"] == 0:
            finished = await self._db(outbox.finish, alert_id)
        counts, done = status.counts, self._done
        return BroadcastReport(
            alert_id,
            done["sent"],  # by this sender: other replicas report their own
            done["blocked"],
            done["failed"],
            counts["pending"],
            time.perf_counter() - started,
            finished,
        )

    async def _db(self, function: Callable[..., T], *args: object) -> T:
        """A query, off the event loop."""
        return await asyncio.to_thread(function, *args)

    async def _mark(self, row: OutboxRow, status: str, error: str | None = None) -> None:
        await self._db(self.outbox.mark, row.id, status, error)
        self._done[status] += 1

    async def _deliver(self, row: OutboxRow, text: str) -> None:
        chat_id, attempts = row.chat_id, 0
        while True:
            await self._respect_chat_limit(chat_id)
            await self.limiter.wait()
            try:
                await self.bot.send_message(chat_id, text)
            except RetryAfter as exc:
                # Telegram's flood control is per bot: every worker waits, not just this one.
                await self.limiter.pause(retry_seconds(exc))
                continue
            except Forbidden as exc:
                await self._mark(row, "blocked", str(exc))
                await self._db(self.subscriptions.deactivate, chat_id)
                return
            except ChatMigrated as exc:
                await self._db(self.subscriptions.move_chat, chat_id, exc.new_chat_id)
                await self._db(self.outbox.move_chat, row.id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except BadRequest as exc:
                await self._mark(row, "failed", str(exc))
                return
            except NetworkError as exc:  # includes TimedOut
                attempts += 1
                await self._db(self.outbox.count_attempt, row.id, str(exc))
                if attempts >= self.max_attempts:
                    await self._mark(row, "failed", str(exc))
                    return
                await self.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            except TelegramError as exc:
                await self._mark(row, "failed", str(exc))
                return
            await self._mark(row, "sent")
            self._last_sent[chat_id] = self.clock()
            return

    async def _respect_chat_limit(self, chat_id: int) -> None:
        last = self._last_sent.get(chat_id)
        if last is not None:
            wait = last + self.per_chat_interval - self.clock()
            if wait > 0:
                await self.sleep(wait)
        if len(self._last_sent) > RECENT_CHATS_LIMIT:
            horizon = self.clock() - self.per_chat_interval
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > horizon}
