"""Masking of personal data and secrets before anything reaches a log."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

# Mainland ID numbers (18 characters, last may be X), bank cards (13-19 digits, possibly
# grouped), and mobile numbers (11 digits starting with 1, optional +86).
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_CARD_NUMBER = re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{3,4}){2,4}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")


def mask_personal_data(text: str) -> str:
    """Replace ID, card and phone numbers with placeholders; keep everything else."""
    text = _ID_NUMBER.sub("[ID]", text)
    text = _MOBILE.sub("[PHONE]", text)
    return _CARD_NUMBER.sub("[CARD]", text)


class Redactor:
    """Removes secrets (the bot token, which the HTTP client puts in every URL) and personal
    numbers from any text."""

    def __init__(self, secrets: list[str]) -> None:
        # Longest first, so a token is not half-replaced by a shorter secret inside it.
        self.secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[TOKEN]")
        return mask_personal_data(text)


class RedactingFormatter(logging.Formatter):
    """Formats the whole record — message, arguments and traceback — then redacts it, so
    nothing escapes through an exception's text either."""

    def __init__(self, redact: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, secrets: list[str], stream: TextIO | None = None) -> None:
    """The bot's logging: one handler on the root logger, every line redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(Redactor(secrets), LOG_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "antifraud", False)]:
        root.removeHandler(old)
    handler.antifraud = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token; python-telegram-bot
    # logs whole updates and replies at DEBUG, and those hold what residents wrote.
    for noisy in ("httpx", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
