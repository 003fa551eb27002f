"""Who residents can reach (hotlines, contacts set by configuration) and the townships alerts
can be limited to (areas)."""

from __future__ import annotations

from typing import Any

from bot.content.model import Hotline, Localized
from bot.content.reader import SchemaReader


def read_hotline(reader: SchemaReader, key: str, value: Any, line: int) -> Hotline | None:
    what = f"hotlines.{key}"
    mapping = reader.entry(value, line, what, ("number", "label"))
    if mapping is None:
        return None
    return Hotline(
        key, reader.text(mapping, "number", what), reader.localized(mapping, "label", what)
    )


def read_contact(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    return reader.localized_entry(value, line, f"contacts.{key}")


def read_area(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    return reader.localized_entry(value, line, f"areas.{key}")
