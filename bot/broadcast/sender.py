"""Deliver an alert from the outbox within Telegram's limits, losing none, sending none twice.

* a global rate (messages per second) and at most one message per chat per second;
* RetryAfter: everyone waits the time Telegram asks for, then the message is retried;
* Forbidden (blocked, deactivated, removed from a group): the subscriber is deactivated;
* ChatMigrated (a group became a supergroup): the subscription and the row follow the new id;
* BadRequest (e.g. chat not found): the row is marked failed;
* time-outs and network errors: retried with exponential back-off, up to a limit.

Each row is marked in SQLite right after Telegram accepts the message, so a process killed at
any instant re-sends at most the one message that was in flight when it died.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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

PAGE = 500  # outbox rows read at a time: memory stays flat however many subscribers
RECENT_CHATS_LIMIT = 10_000


@dataclass(frozen=True)
class BroadcastReport:
    alert_id: str
    sent: int
    blocked: int
    failed: int
    pending: int
    seconds: float

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

    def pause(self, seconds: float) -> None:
        until = self.clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, until)


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
    ) -> None:
        self.bot, self.outbox, self.subscriptions = bot, outbox, subscriptions
        self.limiter = RateLimiter(rate, clock, sleep)
        # Enough sends in flight to keep the rate through a 200 ms round trip, and no more:
        # each one in flight when the process is killed may be delivered twice on resume.
        self.concurrency = concurrency or max(1, min(32, math.ceil((rate or 100.0) * 0.2)))
        self.max_attempts, self.backoff = max_attempts, backoff
        self.per_chat_interval = per_chat_interval
        self.clock, self.sleep = clock, sleep
        self._last_sent: dict[int, float] = {}

    async def run(self, alert_id: str, stop: asyncio.Event | None = None) -> BroadcastReport:
        """Send everything still pending for `alert_id`; stops early (cleanly) when `stop` is set.

        Safe to call again after a crash or a stop: only pending rows are sent.
        """
        alert = self.outbox.alert(alert_id)
        if alert is None:
            raise KeyError(f"no broadcast {alert_id!r}")
        texts = {lang: alert.render(lang) for lang in ("zh", "en")}
        started = time.perf_counter()
        before = self.outbox.status(alert_id)
        queue: asyncio.Queue[OutboxRow | None] = asyncio.Queue(maxsize=2 * self.concurrency)

        async def produce() -> None:
            after = 0
            while not (stop and stop.is_set()):
                rows = self.outbox.pending(alert_id, after, PAGE)
                if not rows:
                    break
                for row in rows:
                    await queue.put(row)
                after = rows[-1].id
            for _ in range(self.concurrency):
                await queue.put(None)

        async def work() -> None:
            while (row := await queue.get()) is not None:
                if stop and stop.is_set():
                    continue  # drain without sending: the rows stay pending for the resume
                await self._deliver(row, texts.get(row.lang, texts["zh"]))

        await asyncio.gather(produce(), *(work() for _ in range(self.concurrency)))
        status = self.outbox.status(alert_id)
        if status is None or before is None:  # pragma: no cover - rows were just read
            raise KeyError(alert_id)
        if status.counts["pending"] == 0:
            self.outbox.finish(alert_id)
        counts, old = status.counts, before.counts
        return BroadcastReport(
            alert_id,
            counts["sent"] - old["sent"],
            counts["blocked"] - old["blocked"],
            counts["failed"] - old["failed"],
            counts["pending"],
            time.perf_counter() - started,
        )

    async def _deliver(self, row: OutboxRow, text: str) -> None:
        chat_id, attempts = row.chat_id, 0
        while True:
            await self._respect_chat_limit(chat_id)
            await self.limiter.wait()
            try:
                await self.bot.send_message(chat_id, text)
            except RetryAfter as exc:
                # Telegram's flood control is per bot: every worker waits, not just this one.
                self.limiter.pause(retry_seconds(exc))
                continue
            except Forbidden as exc:
                self.outbox.mark(row.id, "blocked", str(exc))
                self.subscriptions.deactivate(chat_id)
                return
            except ChatMigrated as exc:
                self.subscriptions.move_chat(chat_id, exc.new_chat_id)
                self.outbox.move_chat(row.id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except BadRequest as exc:
                self.outbox.mark(row.id, "failed", str(exc))
                return
            except NetworkError as exc:  # includes TimedOut
                attempts += 1
                self.outbox.count_attempt(row.id, str(exc))
                if attempts >= self.max_attempts:
                    self.outbox.mark(row.id, "failed", str(exc))
                    return
                await self.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            except TelegramError as exc:
                self.outbox.mark(row.id, "failed", str(exc))
                return
            self.outbox.mark(row.id, "sent")
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
