"""Reading Telegram's errors the same way everywhere."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram's flood control asks us to wait.

    PTB 22 gives an int (and warns it will become a timedelta) unless PTB_TIMEDELTA is set,
    as bot/__init__.py does: accept both, quietly.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
