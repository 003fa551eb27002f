"""The scam checker's red flags and risk levels (content/red_flags.yaml)."""

from __future__ import annotations

import re
from typing import Any

from bot.content.model import Location, RedFlag
from bot.content.reader import SchemaReader
from bot.content.yaml_lines import LineDict

RISK_LEVELS = ("high", "medium")


def read_risk(reader: SchemaReader, key: str, value: Any, line: int) -> float | None:
    if key not in RISK_LEVELS:
        reader.error(line, f"risk levels are 'high' and 'medium', not {key!r}")
    elif not reader.number(value):
        reader.error(line, f"risk.{key} must be a number of points")
    else:
        return float(value)
    return None


FLAG_WEIGHTS = ("high", "medium", "low")


def _patterns(
    reader: SchemaReader, mapping: LineDict, key: str, what: str, required: bool
) -> tuple[re.Pattern[str], ...]:
    if key not in mapping:
        if required:
            reader.error(mapping.line, f"{what} is missing {key!r}")
        return ()
    texts, lines = reader.string_list(mapping[key], mapping.line_of(key), f"{what}.{key}")
    compiled = []
    for text, line in zip(texts, lines, strict=True):
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            reader.error(line, f"{what}.{key}: bad regular expression: {exc}")
    return tuple(compiled)


def read_red_flag(reader: SchemaReader, key: str, value: Any, line: int) -> RedFlag | None:
    what = f"red_flags.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(
        mapping,
        ("weight", "suggests", "patterns", "unless", "unless_not_with", "explain"),
        ("weight", "patterns", "explain"),
        what,
    )
    weight = str(mapping.get("weight", ""))
    if weight not in FLAG_WEIGHTS:
        reader.error(mapping.line_of("weight"), f"{what}.weight must be one of {FLAG_WEIGHTS}")
    suggests = mapping.get("suggests")
    voided_by: tuple[str, ...] = ()
    if "unless_not_with" in mapping:
        voided_by, _ = reader.string_list(
            mapping["unless_not_with"],
            mapping.line_of("unless_not_with"),
            f"{what}.unless_not_with",
        )
        reader.where[("red_flags.unless_not_with", key)] = Location(
            reader.path, mapping.line_of("unless_not_with")
        )
    return RedFlag(
        key,
        weight,
        str(suggests) if suggests else None,
        _patterns(reader, mapping, "patterns", what, True),
        _patterns(reader, mapping, "unless", what, False),
        reader.localized(mapping, "explain", what),
        voided_by,
    )
