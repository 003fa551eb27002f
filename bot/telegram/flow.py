"""How updates flow: concurrently across chats, in order within a chat, and no flooding.

* PerChatUpdateProcessor: PTB runs updates of different chats at the same time, while the
  updates of one chat wait for each other (a resident's second question is answered second).
* FloodGuard: a resident sending more than N messages within a window gets one short "please
  slow down" and then silence until the window has passed; everyone else is unaffected.
* PreparedFilter: a filter whose answer is in the database (a resident writing a report),
  looked up in a thread before the handlers are checked: no query runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, BaseUpdateProcessor, ContextTypes, filters

from bot.privacy import LoggedId
from bot.telegram.handlers import responder_of, send_reply, user_language

log = logging.getLogger(__name__)
FLOOD_GUARD = "flood_guard"  # bot_data key
PREPARED = "prepared_filters"  # bot_data key: the PreparedFilters on_any_update looks up


class _ChatTurns:
    """One chat's lock, and how many of its updates hold it or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.updates = 0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, _ChatTurns] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = None
        if isinstance(update, Update):
            chat, user = update.effective_chat, update.effective_user
            key = chat.id if chat else user.id if user else None
        if key is None:
            await coroutine
            return
        turns = self._chats.setdefault(key, _ChatTurns())
        turns.updates += 1
        try:
            async with turns.lock:  # asyncio.Lock is first-come first-served: order is kept
                await coroutine
        finally:
            # Forgotten when no update of the chat is left, not when the lock reads unlocked:
            # a released lock does so until the next waiter has run, and a third update
            # arriving then would get a new lock and run beside the second.
            turns.updates -= 1
            if turns.updates == 0:
                del self._chats[key]  # memory stays bounded by the chats in flight

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class FloodGuard:
    """Counts each resident's messages in a sliding window.

    Memory stays bounded: at most limit + 1 timestamps per resident (one over the limit is
    all the verdict needs), and residents idle for a whole window are forgotten."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._swept_at = clock()

    def tracked(self) -> int:
        """How many residents the guard remembers."""
        return len(self._seen)

    def admit(self, user_id: int) -> str:
        """'ok', 'warn' (the first message over the limit) or 'drop' (the rest)."""
        now = self.clock()
        if now - self._swept_at >= self.window:
            self._forget_idle(now)
        times = self._seen.setdefault(user_id, deque(maxlen=self.limit + 1))
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) <= self.limit:
            self._warned.pop(user_id, None)
            return "ok"
        warned_at = self._warned.get(user_id)
        if warned_at is not None and warned_at > now - self.window:
            return "drop"
        self._warned[user_id] = now
        return "warn"

    def _forget_idle(self, now: float) -> None:
        """Drop residents whose last message is a window old; at most once per window, so
        the sweep costs O(1) per message on average."""
        horizon = now - self.window
        for user_id in [u for u, times in self._seen.items() if times[-1] <= horizon]:
            del self._seen[user_id]
            self._warned.pop(user_id, None)
        self._swept_at = now


class PreparedFilter(filters.MessageFilter):
    """A filter whose answer is a database query. PTB checks filters synchronously, on the
    event loop, where no query may run; so on_any_update looks the answer up first, in a
    thread (`look_up`, kept by `keep`), and `filter` only reads it.

    Answers are kept by message, the latest KEPT of them: a message is checked within its own
    update, right after its lookup, and far fewer updates than that are handled at once."""

    KEPT = 1024

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self._answers: OrderedDict[tuple[int, int], bool] = OrderedDict()

    def applies(self, message: Message) -> bool:
        """Whether the question arises at all, without the database; if not, the answer is no."""
        return True

    def look_up(self, message: Message) -> bool:
        """The answer, from the database (in a thread)."""
        raise NotImplementedError

    def keep(self, message: Message, answer: bool) -> None:
        """Remember what look_up said about this message, for `filter`."""
        key = (message.chat.id, message.message_id)
        self._answers[key] = answer
        self._answers.move_to_end(key)
        if len(self._answers) > self.KEPT:
            self._answers.popitem(last=False)

    def filter(self, message: Message) -> bool:
        return self.applies(message) and self._answers.get(
            (message.chat.id, message.message_id), False
        )


async def on_any_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler (group -1): stops the flood's updates there, and looks
    up what the PreparedFilters of the next groups will ask about a new message."""
    await _control_flood(update, context)
    prepared: tuple[PreparedFilter, ...] = context.bot_data.get(PREPARED, ())
    message = update.message
    due = [f for f in prepared if message is not None and f.applies(message)]
    if message is None or not due:
        return
    # Every look-up in one thread: each is one quick query, and a thread hop costs about as much.
    answers = await asyncio.to_thread(lambda: [f.look_up(message) for f in due])
    for prepared_filter, answer in zip(due, answers, strict=True):
        prepared_filter.keep(message, answer)


async def _control_flood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Raises ApplicationHandlerStop for a resident over the limit (told so once)."""
    user = update.effective_user
    guard: FloodGuard | None = context.bot_data.get(FLOOD_GUARD)
    if user is None or guard is None or user.is_bot:
        return
    verdict = guard.admit(user.id)
    if verdict == "ok":
        return
    if verdict == "warn":
        log.warning("flood control: user %s is over the limit", LoggedId(user.id))
        message = update.effective_message
        if message is not None:
            lang = await user_language(update, context) or ""
            await send_reply(message, responder_of(context).notice("flood_notice", lang))
    if update.callback_query is not None:
        await update.callback_query.answer()  # stop the button's spinner, nothing more
    raise ApplicationHandlerStop
