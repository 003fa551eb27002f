"""Masking of personal data and secrets before anything reaches a log."""

from __future__ import annotations

import logging
import re

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


class RedactingFilter(logging.Filter):
    """Removes the bot token (which the HTTP client puts in every URL) and personal data."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message
        for secret in self.secrets:
            clean = clean.replace(secret, "[TOKEN]")
        clean = mask_personal_data(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(level: str, secrets: list[str]) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    # httpx logs every request URL, and Bot API URLs contain the token; python-telegram-bot
    # logs whole updates and replies at DEBUG, and those hold what residents wrote.
    for noisy in ("httpx", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
