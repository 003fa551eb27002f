"""What residents can report (content/reports.yaml) and whether a photo is required."""

from __future__ import annotations

from typing import Any

from bot.content.model import ReportKind
from bot.content.reader import SchemaReader


def read_report_kind(reader: SchemaReader, key: str, value: Any, line: int) -> ReportKind | None:
    what = f"report_kinds.{key}"
    mapping = reader.entry(value, line, what, ("label", "media"))
    if mapping is None:
        return None
    media = mapping.get("media")
    if media not in ("required", "optional"):
        reader.error(mapping.line_of("media"), f"{what}.media must be required or optional")
    return ReportKind(key, reader.localized(mapping, "label", what), media == "required")
