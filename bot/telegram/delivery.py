"""Delivery to a bureau chat that never loses what residents sent: the machinery citizen
reports (bot.telegram.review) and suggestions (bot.telegram.suggestions) share.

Each item is stored as queued before the resident hears back, tried at once, then by a
background worker that backs off while the chat is unreachable (30 s doubling to 10 min), and
again after a restart; items go out in the order they were made. Telegram refusing one
item's message for good, or a bug building it (3 times), sets that item aside, kept and
logged, so it cannot hold up the ones behind it. Subclasses say what the queue holds, how an
item is sent, and what "set aside" and "purge" mean for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application

from bot.broadcast.telegram_errors import retry_seconds

log = logging.getLogger(__name__)

# Deliveries of one item that may fail by the bot's own fault (a bug building its message)
# before it is set aside; Telegram's answers are never counted against an item.
GIVE_UP_AFTER = 3
OTHER_REPLICA_WAIT = 2.0  # seconds before looking again while another replica delivers

# Telegram's 400s about the message itself, which no retry changes (Telegram's descriptions,
# lower-cased; python-telegram-bot drops their "Bad Request: " prefix). Any other 400 ("chat
# not found", "have no rights to send a message", "TOPIC_CLOSED", "message thread not found")
# is about the chat, which an admin can fix: the item waits, queued, until then.
REFUSED_FOR_GOOD = (
    "message is too long",
    "message caption is too long",
    "can't parse entities",
    "message text is empty",
    "text must be non-empty",
    "wrong file identifier",  # also "wrong file identifier/http url specified"
    "wrong remote file id",  # "wrong remote file identifier specified", "... id specified"
    "failed to get http url content",
    "wrong type of the web page content",
    "type of file mismatch",
    "can't use file of type",
    "photo_invalid_dimensions",
    "image_process_failed",
)


def refused_for_good(exc: TelegramError) -> bool:
    """A 400 that no retry can change: this message's text, entities or files. Every other
    error (another 400, a 403, a 5xx answer, the network) is retried until the chat is back."""
    reason = exc.message.lower()
    return isinstance(exc, BadRequest) and any(known in reason for known in REFUSED_FOR_GOOD)


def telegram_reason(exc: TelegramError) -> str:
    """'BadRequest: Chat not found': the kind of error and Telegram's own words, so the log
    says whether the network, the chat or its permissions are at fault."""
    kind = type(exc).__name__
    return exc.message if exc.message.startswith(kind) else f"{kind}: {exc.message}"


async def delete_messages(bot: Bot, chat_id: int, message_ids: Iterable[int]) -> bool:
    """Delete the bot's messages in a bureau chat (after a resident's /forget); False when
    any could not be deleted (Telegram lets bots delete their messages for 48 hours only)."""
    deleted = True
    for message_id in message_ids:
        try:
            await bot.delete_message(chat_id, message_id)
        except TelegramError:
            deleted = False
    return deleted


async def _enter_in_thread(turn: AbstractContextManager[bool]) -> bool:
    """Enter `turn` in a thread. Cancelled meanwhile (the bot stopping), the thread still
    finishes entering: leave the turn again then, or a replica would keep it until it exits."""
    entering = asyncio.ensure_future(asyncio.to_thread(turn.__enter__))
    try:
        return await asyncio.shield(entering)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await entering
            await asyncio.to_thread(turn.__exit__, None, None, None)
        raise


class QueuedDelivery:
    """Delivers one kind of queued item to one chat, in order, with the worker's back-off."""

    noun: ClassVar[str] = "item"  # for the log: "report 12 delivered to the review chat"
    chat_name: ClassVar[str] = "chat"

    def __init__(
        self,
        application: Application,
        chat_id: int,
        retry_after: float = 30.0,  # first wait after a failure; doubles up to longest_wait
        longest_wait: float = 600.0,
    ) -> None:
        self.application, self.chat_id = application, chat_id
        self.retry_after, self.longest_wait = retry_after, longest_wait
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._others_turn = False  # the last pass found another replica delivering

    # -- what a subclass provides ------------------------------------------------------------
    # All but `deliver` query the database: they are only ever called in a thread.

    def queued(self) -> list[Any]:
        """Items waiting for the chat, oldest first; each has an `id`."""
        raise NotImplementedError

    async def deliver(self, item: Any) -> None:
        """Send one item; raise what Telegram raised."""
        raise NotImplementedError

    def count_failure(self, item: Any) -> int:
        """Count (in storage) a delivery that failed by the bot's fault; the count so far."""
        raise NotImplementedError

    def set_aside(self, item: Any, reason: str) -> None:
        """Keep an item that will never go out, stored, out of the queue."""
        raise NotImplementedError

    def purge(self) -> None:
        """Delete what is past its retention period (run by the worker between passes)."""

    def turn(self) -> AbstractContextManager[bool]:
        """Whether this process may deliver now: with several replicas on one database, one
        at a time (a database lock), so items still reach the chat once and in order."""
        return nullcontext(True)

    # -- the queue ---------------------------------------------------------------------------

    async def deliver_pending(self) -> float | None:
        """Send every queued item; None when all went out, else how long to wait."""
        # Two residents confirming at once must not send one twice: one task here, and one
        # replica of several (a database lock), delivers at a time.
        # The storage calls run in a thread: with PostgreSQL each is a round trip that must not
        # hold the event loop (and the residents' answers behind it).
        async with self._lock:
            self._others_turn = False
            turn = await asyncio.to_thread(self.turn)
            ours = await _enter_in_thread(turn)
            try:
                self._others_turn = not ours
                if not ours:
                    return OTHER_REPLICA_WAIT  # another replica is delivering: look again soon
                return await self._deliver_queue()
            finally:
                await asyncio.to_thread(turn.__exit__, None, None, None)

    async def _deliver_queue(self) -> float | None:
        # Read again after each pass: items another replica queued meanwhile go out too.
        while queued := await asyncio.to_thread(self.queued):
            for item in queued:
                try:
                    await self.deliver(item)
                except RetryAfter as exc:
                    log.warning("%s flood control; %s %s waits", self.chat_name, self.noun, item.id)
                    return retry_seconds(exc)
                except TelegramError as exc:
                    if not refused_for_good(exc):
                        log.warning(
                            "%s unreachable (%s); %s %s stays queued",
                            self.chat_name,
                            telegram_reason(exc),
                            self.noun,
                            item.id,
                        )
                        return self.retry_after
                    await asyncio.to_thread(
                        self.set_aside, item, f"refused by Telegram: {exc.message}"
                    )
                except Exception as exc:  # a bug with this one item (its message, say)
                    if not await asyncio.to_thread(self._failed_too_often, item, exc):
                        return self.retry_after  # in order: it may go out next time
                    reason = f"failed {GIVE_UP_AFTER} times: {type(exc).__name__}"
                    await asyncio.to_thread(self.set_aside, item, reason)
        return None

    def _failed_too_often(self, item: Any, exc: Exception) -> bool:
        """Count a failure that is the bot's, not Telegram's; True once it is the last one.
        The traceback goes to the (redacting) log for whoever fixes the bug."""
        attempts = self.count_failure(item)
        log.error(
            "%s %s could not be delivered (%s, attempt %d of %d)",
            self.noun,
            item.id,
            type(exc).__name__,
            attempts,
            GIVE_UP_AFTER,
            exc_info=exc,
        )
        return attempts >= GIVE_UP_AFTER

    # -- the background worker ---------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self.noun}-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def deliver_now(self) -> None:
        """Right after an item is queued: try at once; the worker retries if this fails."""
        if await self.deliver_pending() is not None:
            self.wake()

    async def _run(self) -> None:
        wait = self.retry_after
        while True:
            try:
                delay = await self.deliver_pending()
                await asyncio.to_thread(self.purge)
            except Exception:  # a bug here must not stop deliveries for good
                log.exception("%s delivery failed", self.noun)
                delay = self.retry_after
            if self._others_turn:  # not a failure: look again soon, the back-off unchanged
                pause = OTHER_REPLICA_WAIT
            else:
                wait = (
                    self.retry_after
                    if delay is None
                    else min(max(delay, wait * 2), self.longest_wait)
                )
                pause = wait
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)


async def start_delivery(application: Application, key: str) -> None:
    """Start the delivery kept in bot_data under `key`, if this bot has one."""
    delivery: QueuedDelivery | None = application.bot_data.get(key)
    if delivery is not None:
        delivery.start()


async def stop_delivery(application: Application, key: str) -> None:
    delivery: QueuedDelivery | None = application.bot_data.get(key)
    if delivery is not None:
        await delivery.stop()
