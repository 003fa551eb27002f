"""All configuration, read from environment variables in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.telegram.org/bot"

# Configurable contact details that content may mention as {contact:<name>}.
CONTACT_VARIABLES = {
    "helmet_report_email": "ANTIFRAUD_HELMET_REPORT_EMAIL",
    "helmet_report_wechat": "ANTIFRAUD_HELMET_REPORT_WECHAT",
}


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


def _whole_number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    text = value or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def _user_ids(value: str | None, name: str) -> frozenset[int]:
    text = value or ""
    try:
        return frozenset(int(a) for a in text.replace(" ", "").split(",") if a)
    except ValueError:
        raise ConfigError(
            f"{name} must be Telegram user ids separated by commas, not {text!r}"
        ) from None


SEMANTIC_MODES = ("e5", "use", "off")


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
    semantic: str = "e5"  # the semantic stage's model: e5 | use | off (lexical only)
    # example vectors; None: computed at every start
    cache_dir: Path | None = field(default_factory=lambda: _default_cache_dir(os.environ))

    def __repr__(self) -> str:  # never print the token, even by accident
        return f"Settings(token={'***' if self.token else None}, base_url={self.base_url!r}, ...)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        default_lang = get("ANTIFRAUD_DEFAULT_LANG") or "zh"
        if default_lang not in ("zh", "en"):
            raise ConfigError(f"ANTIFRAUD_DEFAULT_LANG must be 'zh' or 'en', not {default_lang!r}")
        port_text = get("ANTIFRAUD_WEBHOOK_PORT") or "8443"
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(
                f"ANTIFRAUD_WEBHOOK_PORT must be a number, not {port_text!r}"
            ) from None
        admins = _user_ids(get("ANTIFRAUD_ADMINS"), "ANTIFRAUD_ADMINS")
        reviewers = _user_ids(get("ANTIFRAUD_REVIEWERS"), "ANTIFRAUD_REVIEWERS") or admins
        review_chat_text = get("ANTIFRAUD_REVIEW_CHAT")
        if review_chat_text is not None and not review_chat_text.lstrip("-").isdigit():
            raise ConfigError(
                "ANTIFRAUD_REVIEW_CHAT must be a chat id (a group's id starts with -), "
                f"not {review_chat_text!r}"
            )
        review_keep = get("ANTIFRAUD_REVIEW_KEEP") or "none"
        if review_keep not in ("none", "accepted"):
            raise ConfigError(
                f"ANTIFRAUD_REVIEW_KEEP must be 'none' or 'accepted', not {review_keep!r}"
            )
        semantic = (get("ANTIFRAUD_SEMANTIC") or "e5").lower()
        if semantic not in SEMANTIC_MODES:
            raise ConfigError(
                f"ANTIFRAUD_SEMANTIC must be one of {', '.join(SEMANTIC_MODES)}, not {semantic!r}"
            )
        rate_text = get("ANTIFRAUD_BROADCAST_RATE") or "25"
        try:
            rate = float(rate_text)
            if not 0 < rate <= 1000:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"ANTIFRAUD_BROADCAST_RATE must be messages per second (0-1000], not {rate_text!r}"
            ) from None
        flood_text = get("ANTIFRAUD_FLOOD_MESSAGES") or "20"
        window_text = get("ANTIFRAUD_FLOOD_WINDOW") or "60"
        try:
            flood_messages, flood_window = int(flood_text), float(window_text)
            if flood_messages < 1 or flood_window <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(
                "ANTIFRAUD_FLOOD_MESSAGES must be a whole number >= 1 and "
                f"ANTIFRAUD_FLOOD_WINDOW seconds > 0, not {flood_text!r} / {window_text!r}"
            ) from None
        return cls(
            insights_days=_whole_number(
                get("ANTIFRAUD_INSIGHTS_DAYS"), "ANTIFRAUD_INSIGHTS_DAYS", 90, 1, 36500
            ),
            review_chat=int(review_chat_text) if review_chat_text else None,
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
            alerts_dir=Path(get("ANTIFRAUD_ALERTS_DIR") or _default_dir("alerts")),
            token=get("TELEGRAM_BOT_TOKEN"),
            base_url=get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
            intents_dir=Path(get("ANTIFRAUD_INTENTS_DIR") or _default_dir("intents")),
            content_dir=Path(get("ANTIFRAUD_CONTENT_DIR") or _default_dir("content")),
            db_path=get("ANTIFRAUD_DB") or "antifraud.db",
            default_lang=default_lang,
            log_level=(get("ANTIFRAUD_LOG_LEVEL") or "INFO").upper(),
            webhook_url=get("ANTIFRAUD_WEBHOOK_URL"),
            webhook_listen=get("ANTIFRAUD_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=port,
            webhook_secret=get("ANTIFRAUD_WEBHOOK_SECRET"),
            contacts={
                name: value for name, var in CONTACT_VARIABLES.items() if (value := get(var))
            },
        )
