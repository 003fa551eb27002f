"""Matching and scam checks run off the event loop, in threads of their own.

With the sentence model a match takes 20-35 ms and a long message up to a quarter of a second:
on the event loop that would hold up every other chat. They do not share asyncio's default
executor either: the stores' queries run there (`asyncio.to_thread`), and a burst of long
messages would make every chat's language and conversation look-ups queue behind the model.
One thread per core, at most four: the work is CPU-bound (both models release the GIL).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

MODEL_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL = ThreadPoolExecutor(MODEL_THREADS, thread_name_prefix="match")
T = TypeVar("T")


async def off_loop(function: Callable[..., T], /, *args: object) -> T:
    """`function(*args)` in a matching thread, with the caller's context (as to_thread)."""
    call = functools.partial(contextvars.copy_context().run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(_POOL, call)
