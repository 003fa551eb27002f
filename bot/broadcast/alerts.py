"""Alerts the bureau pushes to subscribers, from YAML files or typed by an admin."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.content.model import LANGUAGES
from bot.content.yaml_lines import LineDict, LocatedError, load_mapping
from bot.core.records import TOPICS

ALERT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ALERT_KEYS = ("version", "id", "title", "body", "topics", "areas", "audiences", "expires")


class AlertError(LocatedError):
    """An alert file is wrong: reported with file and line."""


@dataclass(frozen=True)
class Alert:
    id: str
    title: dict[str, str]
    body: dict[str, str]
    topics: tuple[str, ...]
    areas: tuple[str, ...] = ()  # empty: every area
    expires: str | None = None  # ISO date or datetime (UTC)
    # Audience groups (content/audiences.yaml): subscribers in any of them; empty: everyone.
    audiences: tuple[str, ...] = ()

    def render(self, lang: str) -> str:
        lang = lang if lang in LANGUAGES else "zh"
        return f"⚠️ {self.title[lang]}\n\n{self.body[lang]}"

    def expired(self, now: datetime | None = None) -> bool:
        if not self.expires:
            return False
        moment = datetime.fromisoformat(self.expires)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (now or datetime.now(UTC)) >= moment

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data = json.loads(text)
        return cls(
            data["id"],
            data["title"],
            data["body"],
            tuple(data["topics"]),
            tuple(data["areas"]),
            data["expires"],
            tuple(data.get("audiences", ())),  # alerts queued before audiences existed
        )


def _localized(root: LineDict, key: str, path: Path) -> dict[str, str]:
    value = root.get(key)
    if not isinstance(value, dict) or any(
        not str(value.get(lang, "")).strip() for lang in LANGUAGES
    ):
        raise AlertError(
            path,
            root.line_of(key),
            f"'{key}' needs text for each language ({', '.join(LANGUAGES)})",
        )
    return {lang: str(value[lang]).strip() for lang in LANGUAGES}


def _names(
    root: LineDict,
    key: str,
    path: Path,
    allowed: tuple[str, ...] | set[str],
    default: tuple[str, ...],
) -> tuple[str, ...]:
    value = root.get(key)
    if value is None:
        return default
    items = value if isinstance(value, list) else [value]
    unknown = [str(i) for i in items if str(i) not in allowed]
    if unknown:
        raise AlertError(
            path, root.line_of(key), f"unknown {key} {unknown}; known: {', '.join(sorted(allowed))}"
        )
    return tuple(str(i) for i in items)


def load_alert(path: Path, areas: set[str], audiences: set[str] | None = None) -> Alert:
    """Read and check one alert file; AlertError says what is wrong, with file and line.
    `audiences` are the known audience group ids (content/audiences.yaml)."""
    root = load_mapping(path, ALERT_KEYS, AlertError, "an alert")
    alert_id = str(root.get("id", ""))
    if not ALERT_ID.match(alert_id):
        raise AlertError(
            path, root.line_of("id"), "'id' must be 1-64 letters, digits, '.', '_' or '-'"
        )
    expires = root.get("expires")
    if expires is not None:
        if isinstance(expires, (date, datetime)):
            expires = expires.isoformat()
        try:
            datetime.fromisoformat(str(expires))
        except ValueError:
            raise AlertError(
                path, root.line_of("expires"), "'expires' must be a date like 2026-12-31"
            ) from None
    return Alert(
        id=alert_id,
        title=_localized(root, "title", path),
        body=_localized(root, "body", path),
        topics=_names(root, "topics", path, TOPICS, TOPICS),
        areas=_names(root, "areas", path, areas, ()),
        expires=str(expires) if expires is not None else None,
        audiences=_names(root, "audiences", path, audiences or set(), ()),
    )


AUDIENCES_LINE = re.compile(r"^\s*(?:audiences|人群)\s*[:：]\s*(.*)$", re.IGNORECASE)


def typed_audiences(text: str) -> tuple[tuple[str, ...], str]:
    """A typed alert may start with a line `audiences: merchants, students` (or 人群：…):
    the ids named there, and the rest of the text. No such line: no ids, the text as it is."""
    first, _, rest = text.strip().partition("\n")
    match = AUDIENCES_LINE.match(first)
    if match is None:
        return (), text
    ids = tuple(dict.fromkeys(p for p in re.split(r"[\s,，、]+", match[1]) if p))
    return ids, rest


def quick_alert(text: str, now: datetime | None = None, audiences: tuple[str, ...] = ()) -> Alert:
    """An alert typed by an admin after /broadcast: the same text in both languages."""
    moment = now or datetime.now(UTC)
    first, _, rest = text.strip().partition("\n")
    body = rest.strip() or first
    title = first if rest.strip() else first[:40]
    localized_title: dict[str, Any] = dict.fromkeys(LANGUAGES, title)
    return Alert(
        # Random letters too: two alerts typed within one second must not share an id (the
        # second would be taken for the first, "already sent").
        f"quick-{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}",
        localized_title,
        dict.fromkeys(LANGUAGES, body),
        TOPICS,
        audiences=audiences,
    )
