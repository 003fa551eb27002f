"""All configuration, read from environment variables in this one place."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.numbers import ascii_whole_number

_REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.telegram.org/bot"

# Configurable contact details that content may mention as {contact:<name>}.
CONTACT_VARIABLES = {
    "helmet_report_email": "ANTIFRAUD_HELMET_REPORT_EMAIL",
    "helmet_report_wechat": "ANTIFRAUD_HELMET_REPORT_WECHAT",
}


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _whole_number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    text = value or str(default)
    number = ascii_whole_number(text)
    if number is None or not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return number


_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def _positive_decimal(value: str | None, name: str, default: str, high: float) -> float:
    """A decimal in (0, high] written in ASCII digits: nan, inf, 1e9 and ٣ are all refused."""
    text = value or default
    if not _DECIMAL.fullmatch(text) or not 0 < float(text) <= high:
        raise ConfigError(f"{name} must be a number above 0 and at most {high:g}, not {text!r}")
    return float(text)


def _switch(value: str | None, name: str, default: bool) -> bool:
    """on/off (also true/false, 1/0, yes/no)."""
    if value is None:
        return default
    text = value.lower()
    if text not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name} must be 'on' or 'off', not {value!r}")
    return text in ("on", "true", "1", "yes")


def _user_ids(value: str | None, name: str) -> frozenset[int]:
    """Comma-separated Telegram user ids (positive, ASCII digits). Set but naming nobody
    (`,,,`) is an error: the operator meant someone, and would otherwise get no word of it."""
    if value is None:
        return frozenset()
    parts = [part.strip() for part in value.split(",") if part.strip()]
    ids = [ascii_whole_number(part) for part in parts]
    if not parts or None in ids or 0 in ids:
        raise ConfigError(
            f"{name} must be Telegram user ids (whole numbers above 0) separated by commas, "
            f"not {value!r}"
        )
    return frozenset(i for i in ids if i is not None)


SEMANTIC_MODES = ("e5+use", "e5", "use", "off")


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "antifraud-bot"


def _default_dir(name: str) -> Path:
    # A source checkout keeps intents/ and content/ beside the package; elsewhere (an
    # installed wheel) the working directory is the next best guess.
    beside_package = _REPO_ROOT / name
    return beside_package if beside_package.is_dir() else Path.cwd() / name


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    intents_dir: Path = field(default_factory=lambda: _default_dir("intents"))
    content_dir: Path = field(default_factory=lambda: _default_dir("content"))
    db_path: str = "antifraud.db"
    default_lang: str = "zh"
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    contacts: dict[str, str] = field(default_factory=dict)
    admins: frozenset[int] = frozenset()
    broadcast_rate: float = 25.0
    broadcast_lease: float = 30.0  # seconds a replica holds claimed outbox rows
    alerts_dir: Path = field(default_factory=lambda: _default_dir("alerts"))
    flood_messages: int = 20  # more than this many messages ...
    flood_window: float = 60.0  # ... in this many seconds, and a resident is slowed down
    insights_days: int = 90  # how long unanswered questions and hit counts are kept
    review_chat: int | None = None  # where citizen reports go; None turns /report off
    reviewers: frozenset[int] = frozenset()  # who may accept or reject reports
    report_daily_limit: int = 3  # reports per resident per day (China time)
    report_max_media: int = 5  # photos or videos per report
    report_max_mb: int = 20  # per photo or video; Telegram lets bots fetch 20 MB at most
    report_days: int = 90  # how long the bot keeps a report
    review_keep: str = "none"  # after /forget the review chat keeps: none | accepted
    semantic: str = "e5+use"  # the semantic stage's model: e5+use | e5 | use | off (lexical only)
    # example vectors; None: computed at every start
    cache_dir: Path | None = field(default_factory=lambda: _default_cache_dir(os.environ))
    ocr: bool = True  # read the text of screenshots residents send
    ocr_timeout: float = 20.0  # seconds one picture may take before it is abandoned
    ocr_queue: int = 3  # pictures that may wait behind the one being read
    ocr_max_mb: int = 10  # larger picture files are refused before they are fetched
    ocr_max_megapixels: int = 20  # ... and larger pictures before they are read
    guard_photos: bool = False  # the group guard reads photos too (each costs CPU)
    # Residents' suggestions (README, "Suggestions"): where they go, the limits
    suggestions_chat: int | None = None  # None turns /suggest off (it says so)
    suggestion_daily_limit: int = 3  # suggestions per resident per day (China time)
    suggestion_days: int = 180  # how long the bot keeps a suggestion and its answers
    bot_username: str | None = None  # for campaign links (t.me/<bot>?start=<code>)

    def __repr__(self) -> str:  # never print the token, even by accident
        return f"Settings(token={'***' if self.token else None}, base_url={self.base_url!r}, ...)"

    def warnings(self) -> list[str]:
        """Settings that are valid but probably not what the operator meant."""
        found = []
        if self.review_chat is not None and not self.reviewers:
            found.append(
                "ANTIFRAUD_REVIEW_CHAT is set but neither ANTIFRAUD_REVIEWERS nor "
                "ANTIFRAUD_ADMINS names anyone: nobody can accept or reject reports"
            )
        if self.suggestions_chat is not None and not self.reviewers:
            found.append(
                "ANTIFRAUD_SUGGESTIONS_CHAT is set but neither ANTIFRAUD_REVIEWERS nor "
                "ANTIFRAUD_ADMINS names anyone: nobody can answer residents' suggestions"
            )
        return found

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        default_lang = get("ANTIFRAUD_DEFAULT_LANG") or "zh"
        if default_lang not in ("zh", "en"):
            raise ConfigError(f"ANTIFRAUD_DEFAULT_LANG must be 'zh' or 'en', not {default_lang!r}")
        port = _whole_number(
            get("ANTIFRAUD_WEBHOOK_PORT"), "ANTIFRAUD_WEBHOOK_PORT", 8443, 1, 65535
        )
        admins = _user_ids(get("ANTIFRAUD_ADMINS"), "ANTIFRAUD_ADMINS")
        reviewers = _user_ids(get("ANTIFRAUD_REVIEWERS"), "ANTIFRAUD_REVIEWERS") or admins
        review_chat_text = get("ANTIFRAUD_REVIEW_CHAT")
        review_chat = None
        if review_chat_text is not None:
            review_chat = ascii_whole_number(review_chat_text, signed=True)
            if review_chat is None or review_chat == 0:
                raise ConfigError(
                    "ANTIFRAUD_REVIEW_CHAT must be a chat id (a group's id starts with -), "
                    f"not {review_chat_text!r}"
                )
        log_level = (get("ANTIFRAUD_LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                f"ANTIFRAUD_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                f"not {get('ANTIFRAUD_LOG_LEVEL')!r}"
            )
        review_keep = get("ANTIFRAUD_REVIEW_KEEP") or "none"
        if review_keep not in ("none", "accepted"):
            raise ConfigError(
                f"ANTIFRAUD_REVIEW_KEEP must be 'none' or 'accepted', not {review_keep!r}"
            )
        semantic = (get("ANTIFRAUD_SEMANTIC") or "e5+use").lower()
        if semantic not in SEMANTIC_MODES:
            raise ConfigError(
                f"ANTIFRAUD_SEMANTIC must be one of {', '.join(SEMANTIC_MODES)}, not {semantic!r}"
            )
        rate = _positive_decimal(
            get("ANTIFRAUD_BROADCAST_RATE"), "ANTIFRAUD_BROADCAST_RATE", "25", 1000
        )
        flood_messages = _whole_number(
            get("ANTIFRAUD_FLOOD_MESSAGES"), "ANTIFRAUD_FLOOD_MESSAGES", 20, 1, 10_000
        )
        flood_window = _positive_decimal(
            get("ANTIFRAUD_FLOOD_WINDOW"), "ANTIFRAUD_FLOOD_WINDOW", "60", 86_400
        )
        return cls(
            **_ocr_settings(get),
            **_reach_settings(get),
            insights_days=_whole_number(
                get("ANTIFRAUD_INSIGHTS_DAYS"), "ANTIFRAUD_INSIGHTS_DAYS", 90, 1, 36500
            ),
            review_chat=review_chat,
            reviewers=reviewers,
            review_keep=review_keep,
            semantic=semantic,
            cache_dir=Path(get("ANTIFRAUD_CACHE_DIR") or _default_cache_dir(env)).expanduser(),
            report_daily_limit=_whole_number(
                get("ANTIFRAUD_REPORT_DAILY_LIMIT"), "ANTIFRAUD_REPORT_DAILY_LIMIT", 3, 1, 100
            ),
            report_max_media=_whole_number(
                get("ANTIFRAUD_REPORT_MAX_MEDIA"), "ANTIFRAUD_REPORT_MAX_MEDIA", 5, 1, 10
            ),
            report_max_mb=_whole_number(
                get("ANTIFRAUD_REPORT_MAX_MB"), "ANTIFRAUD_REPORT_MAX_MB", 20, 1, 20
            ),
            report_days=_whole_number(
                get("ANTIFRAUD_REPORT_DAYS"), "ANTIFRAUD_REPORT_DAYS", 90, 1, 36500
            ),
            flood_messages=flood_messages,
            flood_window=flood_window,
            admins=admins,
            broadcast_rate=rate,
            broadcast_lease=_positive_decimal(
                get("ANTIFRAUD_BROADCAST_LEASE"), "ANTIFRAUD_BROADCAST_LEASE", "30", 3600
            ),
            alerts_dir=Path(get("ANTIFRAUD_ALERTS_DIR") or _default_dir("alerts")),
            token=get("TELEGRAM_BOT_TOKEN"),
            base_url=get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
            intents_dir=Path(get("ANTIFRAUD_INTENTS_DIR") or _default_dir("intents")),
            content_dir=Path(get("ANTIFRAUD_CONTENT_DIR") or _default_dir("content")),
            db_path=get("ANTIFRAUD_DB") or "antifraud.db",
            default_lang=default_lang,
            log_level=log_level,
            **_webhook_settings(get),
            webhook_listen=get("ANTIFRAUD_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=port,
            contacts={
                name: value for name, var in CONTACT_VARIABLES.items() if (value := get(var))
            },
        )


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a secret token


def _webhook_settings(get: Callable[[str], str | None]) -> dict[str, str | None]:
    """Webhook mode: an https URL (Telegram calls nothing else) and, with it, a secret token,
    the only proof a call comes from Telegram (README, "Several machines")."""
    url, secret = get("ANTIFRAUD_WEBHOOK_URL"), get("ANTIFRAUD_WEBHOOK_SECRET")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(
                "ANTIFRAUD_WEBHOOK_URL must be an https:// URL with a host (and no ?query or"
                f" #fragment), not {url!r}"
            )
        if secret is None:
            raise ConfigError(
                "ANTIFRAUD_WEBHOOK_SECRET must be set with ANTIFRAUD_WEBHOOK_URL: without it,"
                " anyone who finds the URL can send the bot updates"
            )
    if secret is not None and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(
            "ANTIFRAUD_WEBHOOK_SECRET must be 1 to 256 letters, digits, '_' or '-'"
            " (Telegram's rule for secret tokens)"
        )
    return {"webhook_url": url, "webhook_secret": secret}


def _chat_id(value: str | None, name: str) -> int | None:
    """A Telegram chat id (a group's starts with -), or None when unset."""
    if value is None:
        return None
    chat = ascii_whole_number(value, signed=True)
    if chat is None or chat == 0:
        raise ConfigError(f"{name} must be a chat id (a group's id starts with -), not {value!r}")
    return chat


BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # Telegram's rule for usernames


def _reach_settings(get: Callable[[str], str | None]) -> dict[str, object]:
    """Suggestions and campaign links (README, "Suggestions" and "Campaign links")."""
    username = get("ANTIFRAUD_BOT_USERNAME")
    if username is not None:
        username = username.removeprefix("@")
        if not BOT_USERNAME.fullmatch(username) or not username.lower().endswith("bot"):
            raise ConfigError(
                "ANTIFRAUD_BOT_USERNAME must be the bot's Telegram username (5-32 letters, "
                f"digits or _, ending in 'bot'), not {get('ANTIFRAUD_BOT_USERNAME')!r}"
            )
    return {
        "suggestions_chat": _chat_id(
            get("ANTIFRAUD_SUGGESTIONS_CHAT"), "ANTIFRAUD_SUGGESTIONS_CHAT"
        ),
        "suggestion_daily_limit": _whole_number(
            get("ANTIFRAUD_SUGGESTION_DAILY_LIMIT"), "ANTIFRAUD_SUGGESTION_DAILY_LIMIT", 3, 1, 100
        ),
        "suggestion_days": _whole_number(
            get("ANTIFRAUD_SUGGESTION_DAYS"), "ANTIFRAUD_SUGGESTION_DAYS", 180, 1, 36500
        ),
        "bot_username": username,
    }


def _ocr_settings(get: Callable[[str], str | None]) -> dict[str, object]:
    """Screenshot checking (README, "Checking screenshots")."""
    return {
        "ocr": _switch(get("ANTIFRAUD_OCR"), "ANTIFRAUD_OCR", True),
        "ocr_timeout": _positive_decimal(
            get("ANTIFRAUD_OCR_TIMEOUT"), "ANTIFRAUD_OCR_TIMEOUT", "20", 300
        ),
        "ocr_queue": _whole_number(get("ANTIFRAUD_OCR_QUEUE"), "ANTIFRAUD_OCR_QUEUE", 3, 0, 100),
        "ocr_max_mb": _whole_number(get("ANTIFRAUD_OCR_MAX_MB"), "ANTIFRAUD_OCR_MAX_MB", 10, 1, 20),
        "ocr_max_megapixels": _whole_number(
            get("ANTIFRAUD_OCR_MAX_MEGAPIXELS"), "ANTIFRAUD_OCR_MAX_MEGAPIXELS", 20, 1, 100
        ),
        "guard_photos": _switch(get("ANTIFRAUD_GUARD_PHOTOS"), "ANTIFRAUD_GUARD_PHOTOS", False),
    }
