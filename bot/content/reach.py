"""Reaching residents (content/audiences.yaml, content/campaigns.yaml): the audience groups
residents may join for targeted alerts, and the campaigns whose printed links bring them in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.content.model import Audience, Campaign, Localized, Location
from bot.content.reader import SchemaReader

# Telegram's deep-link payload allows A-Z, a-z, 0-9, _ and - (64 at most); lower case only,
# so a code read out or typed from a poster cannot differ by case alone.
CAMPAIGN_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
AUDIENCE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # fits a button's 64-byte callback data


def read_audience(reader: SchemaReader, key: str, value: Any, line: int) -> Audience | None:
    what = f"audiences.{key}"
    if not AUDIENCE_ID.match(key):
        reader.error(line, f"{what}: an id is 1-32 lower-case letters, digits or '_'")
    mapping = reader.entry(value, line, what, ("name", "why"))
    if mapping is None:
        return None
    return Audience(
        key, reader.localized(mapping, "name", what), reader.localized(mapping, "why", what)
    )


def read_campaign(reader: SchemaReader, key: str, value: Any, line: int) -> Campaign | None:
    what = f"campaigns.{key}"
    if not CAMPAIGN_CODE.match(key):
        reader.error(
            line, f"{what}: a code is 1-64 lower-case letters, digits, '-' or '_' (a deep link)"
        )
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(
        mapping, ("county", "name", "greeting", "start"), ("county", "name", "greeting"), what
    )
    start = mapping.get("start")
    if start is not None:
        if isinstance(start, date):
            start = start.isoformat()
        else:
            try:
                start = date.fromisoformat(str(start)).isoformat()
            except ValueError:
                reader.error(
                    mapping.line_of("start"), f"{what}.start must be a date like 2027-03-01"
                )
                start = None
    return Campaign(
        code=key,
        county=reader.text(mapping, "county", what),
        name=reader.localized(mapping, "name", what),
        greeting=reader.localized(mapping, "greeting", what),
        start=start,
    )


def check_campaigns(
    campaigns: dict[str, Campaign],
    places: dict[str, Localized],
    where: dict[tuple[str, str], Location],
    error: Callable[[Location, str], None],
) -> None:
    """A campaign's county is one of the places figures name (baoting, qiongzhong)."""
    for code, campaign in campaigns.items():
        if campaign.county and campaign.county not in places:
            error(
                where[("campaigns", code)],
                f"campaign {code!r} names unknown county {campaign.county!r}; "
                f"known: {', '.join(sorted(places))}",
            )
