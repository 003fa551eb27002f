"""Figures and where they come from (content/figures.yaml): each figure once, with its value,
unit, place, period and source document."""

from __future__ import annotations

from typing import Any

from bot.content.model import Figure, Localized, Source
from bot.content.reader import SchemaReader

FIGURE_KEYS = ("value", "display", "counts", "place", "period", "source")


def read_figure(reader: SchemaReader, key: str, value: Any, line: int) -> Figure | None:
    what = f"figures.{key}"
    mapping = reader.entry(value, line, what, FIGURE_KEYS)
    if mapping is None:
        return None
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
    mapping = reader.entry(value, line, what, ("title", "document"))
    if mapping is None:
        return None
    return Source(key, reader.text(mapping, "title", what), reader.text(mapping, "document", what))


def read_place(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    return reader.localized_entry(value, line, f"places.{key}")
