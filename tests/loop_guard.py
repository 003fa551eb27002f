"""A query or a sentence-model call run on the event loop fails the test that caused it.

The bot promises that no database query runs on the event loop: a PostgreSQL query is a
network round trip, an SQLite one may wait for the connection's lock behind a long write, and
every resident's answer waits behind either. Nor does matching or the scam check: with the
sentence model they take tens of milliseconds a message, a third of a second for a long one.
Stores and the core are synchronous, so the bot calls them in a thread (`asyncio.to_thread`);
one call forgotten would block the loop and pass every test.

`install()` (tests/conftest.py, for the whole run) wraps every way the stores reach the
database (`execute`, `transaction`, ...) and the core's two entry points that may ask the
model (`Matcher.match`, `ScamChecker.check`). While the bot handles an update (inside
`Application.process_update`, and whatever tasks it starts) or inside `watching()`, such a call
made on a thread that is running an event loop raises BlockingCallOnEventLoop and is recorded,
so the test fails even when PTB's error handler swallowed the exception. Tests that set up or
inspect a store from their own coroutine are not watched: that is not the bot's code.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from telegram.ext import Application

from bot.core.decision import Matcher
from bot.core.scam_check import ScamChecker
from bot.store.database import PostgresDatabase, SqliteDatabase

_WATCHING = contextvars.ContextVar("queries_watched", default=False)
# Where each query on the event loop came from, since the test began (tests/conftest.py).
violations: list[str] = []


class BlockingCallOnEventLoop(AssertionError):
    """A database query or a model call ran on a thread running an event loop."""


@contextmanager
def watching() -> Iterator[None]:
    """Refuse queries on the event loop in this block, and in the tasks and threads it starts
    (they copy the context). The bot's startup and stop hooks are run inside one by tests."""
    token = _WATCHING.set(True)
    try:
        yield
    finally:
        _WATCHING.reset(token)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # a worker thread (asyncio.to_thread): where queries belong
    return True


def _refusing(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _WATCHING.get() and _on_event_loop():
            caller = "".join(traceback.format_stack(limit=6)[:-1])
            violations.append(f"{name} on the event loop, from:\n{caller}")
            raise BlockingCallOnEventLoop(f"{name} ran on the event loop (call it in a thread)")
        return method(*args, **kwargs)

    return guarded


def _watched_process_update(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def process_update(self: Application, update: object) -> None:
        with watching():
            await method(self, update)

    return process_update


_BLOCKING = {
    SqliteDatabase: ("execute", "transaction"),
    PostgresDatabase: ("execute", "transaction", "session", "exclusive"),
    Matcher: ("match",),
    ScamChecker: ("check",),
}


def install() -> None:
    """Once per test run: every query and model call checked, every update watched."""
    if getattr(Application.process_update, "watched", False):
        return
    for cls, names in _BLOCKING.items():
        for name in names:
            setattr(cls, name, _refusing(f"{cls.__name__}.{name}", getattr(cls, name)))
    Application.process_update = _watched_process_update(Application.process_update)
    Application.process_update.watched = True  # type: ignore[attr-defined]
