"""Turning a core Reply into what the Bot API takes: text chunks and an inline keyboard."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.telegram_limits import TEXT_LIMIT, telegram_length, telegram_prefix
from bot.core.types import Reply

BUTTONS_PER_ROW = 2


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    buttons = [InlineKeyboardButton(b.label, callback_data=b.action) for b in reply.buttons]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line breaks where possible so that no message exceeds Telegram's limit, as
    `telegram_length` counts it (the review summary's count: an emoji takes two)."""
    chunks: list[str] = []
    current, current_length = "", 0
    for line in text.splitlines(keepends=True):
        while telegram_length(line) > limit:  # a single over-long line: cut it hard
            if current:
                chunks.append(current)
                current, current_length = "", 0
            head = telegram_prefix(line, limit) or line[:1]
            chunks.append(head)
            line = line[len(head) :]
        if current_length + telegram_length(line) > limit:
            chunks.append(current)
            current, current_length = "", 0
        current += line
        current_length += telegram_length(line)
    if current or not chunks:
        chunks.append(current)
    return [c.rstrip("\n") or " " for c in chunks]
