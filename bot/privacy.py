"""Masking of personal data and secrets before anything reaches a log."""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Mapping
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


class LoggedId(str):
    """A Telegram user or chat id that the bot itself puts in a log line (a refusal names who
    was refused). Log arguments of this type are exempt from the personal-number masks, which
    are for what residents type: a 10-digit user id is not a bank card. Token redaction still
    applies to them."""

    def __new__(cls, value: int) -> LoggedId:
        return super().__new__(cls, str(int(value)))


class Redactor:
    """Removes secrets (the bot token, which the HTTP client puts in every URL) and personal
    numbers from any text."""

    def __init__(self, secrets: list[str]) -> None:
        # Longest first, so a token is not half-replaced by a shorter secret inside it.
        self.secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def without_secrets(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[TOKEN]")
        return text

    def __call__(self, text: str) -> str:
        return mask_personal_data(self.without_secrets(text))


class RedactingFormatter(logging.Formatter):
    """Redacts the whole record — message, arguments and traceback. Personal numbers are
    masked in the message template, in every argument and in the traceback, but not in
    LoggedId arguments (ids the bot logs on purpose); the token is removed from the whole
    line, whatever it came in."""

    def __init__(
        self, redact: Redactor, fmt: str, quiet_exceptions: tuple[type[BaseException], ...] = ()
    ) -> None:
        super().__init__(fmt)
        self.redact = redact
        # exceptions whose traceback says nothing an operator needs (the line says it all)
        self.quiet_exceptions = quiet_exceptions

    def format(self, record: logging.LogRecord) -> str:
        record = copy.copy(record)  # other handlers see the record as it was logged
        record.msg, record.args = self._masked_message(record), None
        record.exc_text = None  # formatted again below, through formatException
        if record.exc_info and isinstance(record.exc_info[1], self.quiet_exceptions):
            record.exc_info = None
        return self.redact.without_secrets(super().format(record))

    def formatException(self, ei) -> str:
        return self.redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self.redact(super().formatStack(stack_info))

    def _masked_message(self, record: logging.LogRecord) -> str:
        template = self.redact(str(record.msg))
        args = record.args
        if not args:
            return template
        if isinstance(args, Mapping):
            masked: object = {key: self._masked_arg(value) for key, value in args.items()}
        else:
            masked = tuple(self._masked_arg(value) for value in args)
        try:
            return template % masked
        except (TypeError, ValueError, KeyError):  # e.g. %d given a masked number
            pass
        try:
            return self.redact(record.getMessage())
        except (TypeError, ValueError, KeyError):  # a malformed call: never let logging
            return f"{template} {masked!r}"  # print the raw arguments; show them masked

    def _masked_arg(self, value: object) -> object:
        if isinstance(value, LoggedId):
            return value
        if isinstance(value, str):
            return self.redact(value)
        shown = str(value)
        masked = self.redact(shown)
        return value if masked == shown else masked  # keeps numbers numbers for %d and %.1f


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: str,
    secrets: list[str],
    stream: TextIO | None = None,
    quiet_exceptions: tuple[type[BaseException], ...] = (),
) -> None:
    """The bot's logging: one handler on the root logger, every line redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(Redactor(secrets), LOG_FORMAT, quiet_exceptions))
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
