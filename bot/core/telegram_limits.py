"""Telegram's limits on a message, and how its length is counted: one definition for the
review summary, the residents' replies and the fake Bot API that enforces them in tests.

The Bot API documents a message text as "1-4096 characters after entities parsing" and a
caption as "0-1024 characters after entities parsing" (https://core.telegram.org/bots/api,
sendMessage and sendPhoto), and counts entity offsets in UTF-16 code units. The bot counts
lengths the strictest way, in UTF-16 code units (an emoji takes two), so that what it sends
fits whichever count Telegram applies. The core knows no Telegram library: the numbers live
here, not in python-telegram-bot's constants.
"""

from __future__ import annotations

TEXT_LIMIT = 4096  # a longer message text is refused for good ("message is too long")
CAPTION_LIMIT = 1024  # a photo's, video's or file's caption


def telegram_length(text: str) -> int:
    """The length by the strictest count Telegram might apply: UTF-16 code units, in which
    an emoji takes two. Never less than the number of characters; a lone surrogate (which a
    Bot API update's JSON can carry) counts one and does not raise."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def telegram_prefix(text: str, length: int) -> str:
    """The longest start of `text` no longer than `length`, as `telegram_length` counts (an
    emoji is never cut in half)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > length:
            return text[:index]
    return text
