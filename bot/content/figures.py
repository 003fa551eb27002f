"""Figures and where they come from (content/figures.yaml): each figure once, with its value,
unit, place, period and source document."""

from __future__ import annotations

from typing import Any

from bot.content.model import Figure, Localized, Source
from bot.content.reader import SchemaReader

FIGURE_KEYS = ("value", "display", "counts", "place", "period", "source")


def read_figure(reader: SchemaReader, key: str, value: Any, line: int) -> Figure | None:
    what = f"figures.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, FIGURE_KEYS, FIGURE_KEYS, what)
    number = mapping.get("value")
    if not reader.number(number):
        reader.error(mapping.line_of("value"), f"{what}.value must be a number")
        number = 0
    return Figure(
        key,
        float(number),
        reader.localized(mapping, "display", what),
        reader.localized(mapping, "counts", what),
        reader.text(mapping, "place", what),
        reader.localized(mapping, "period", what),
        reader.text(mapping, "source", what),
    )


def read_source(reader: SchemaReader, key: str, value: Any, line: int) -> Source | None:
    what = f"sources.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, ("title", "document"), ("title", "document"), what)
    return Source(key, reader.text(mapping, "title", what), reader.text(mapping, "document", what))


def read_place(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    mapping = reader.mapping(value, line, f"places.{key}")
    return None if mapping is None else reader.plain_localized(mapping, f"places.{key}")
