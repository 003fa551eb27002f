"""Who residents can reach (hotlines, contacts set by configuration) and the townships alerts
can be limited to (areas)."""

from __future__ import annotations

from typing import Any

from bot.content.model import Hotline, Localized
from bot.content.reader import SchemaReader


def read_hotline(reader: SchemaReader, key: str, value: Any, line: int) -> Hotline | None:
    what = f"hotlines.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, ("number", "label"), ("number", "label"), what)
    return Hotline(
        key, reader.text(mapping, "number", what), reader.localized(mapping, "label", what)
    )


def read_contact(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    mapping = reader.mapping(value, line, f"contacts.{key}")
    return None if mapping is None else reader.plain_localized(mapping, f"contacts.{key}")


def read_area(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    mapping = reader.mapping(value, line, f"areas.{key}")
    return None if mapping is None else reader.plain_localized(mapping, f"areas.{key}")
