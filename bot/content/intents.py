"""intents/*.yaml: what residents say, per intent (id, examples and keywords per language,
follow-ups, an optional threshold)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.content.model import LANGUAGES, Intent, Location
from bot.content.reader import ContentError, SchemaReader, read_file, yaml_files
from bot.content.yaml_lines import LineDict, LineList

INTENT_ID = re.compile(r"^[a-z]+\.[a-z_]+$")


def read_intents(folder: Path, errors: list[ContentError]) -> dict[str, Intent]:
    intents: dict[str, Intent] = {}
    for path in yaml_files(folder, errors):
        root = read_file(path, errors)
        if root is None:
            continue
        reader = SchemaReader(path, errors)
        reader.keys(root, ("version", "intents"), ("intents",), "the file")
        items = root.get("intents")
        if not isinstance(items, LineList):
            if "intents" in root:
                reader.error(root.line_of("intents"), "'intents' must be a list")
            continue
        for index, item in enumerate(items):
            intent = _read_intent(reader, item, items.line_of(index))
            if intent is None:
                continue
            if intent.id in intents:
                reader.error(
                    intent.where.line,
                    f"duplicate intent id {intent.id!r} (also at {intents[intent.id].where})",
                )
                continue
            intents[intent.id] = intent
    return intents


def _read_intent(reader: SchemaReader, item: Any, line: int) -> Intent | None:
    mapping = reader.mapping(item, line, "an intent")
    if mapping is None:
        return None
    reader.keys(
        mapping,
        ("id", "examples", "keywords", "follow_ups", "threshold"),
        ("id", "examples"),
        "an intent",
    )
    intent_id = reader.text(mapping, "id", "intent")
    if not intent_id:
        return None
    if not INTENT_ID.match(intent_id):
        reader.error(mapping.line_of("id"), f"intent id {intent_id!r} must look like 'topic.name'")
    examples, example_lines = _read_per_language(reader, mapping, "examples", intent_id, True)
    keywords, _ = _read_per_language(reader, mapping, "keywords", intent_id, False)
    follow_ups: tuple[str, ...] = ()
    if "follow_ups" in mapping:
        follow_ups, _ = reader.string_list(
            mapping["follow_ups"], mapping.line_of("follow_ups"), f"{intent_id}.follow_ups"
        )
    threshold = mapping.get("threshold")
    if threshold is not None and (
        not isinstance(threshold, (int, float)) or not 0 < threshold <= 100
    ):
        reader.error(
            mapping.line_of("threshold"), f"{intent_id}.threshold must be a number in (0, 100]"
        )
        threshold = None
    return Intent(
        intent_id,
        examples,
        keywords,
        follow_ups,
        threshold,
        Location(reader.path, mapping.line),
        example_lines,
    )


def _read_per_language(
    reader: SchemaReader, mapping: LineDict, key: str, intent_id: str, required: bool
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    texts: dict[str, tuple[str, ...]] = {}
    lines: dict[str, tuple[int, ...]] = {}
    if key not in mapping:
        return texts, lines
    per_lang = reader.mapping(mapping[key], mapping.line_of(key), f"{intent_id}.{key}")
    if per_lang is None:
        return texts, lines
    reader.keys(per_lang, LANGUAGES, LANGUAGES if required else (), f"{intent_id}.{key}")
    for lang in LANGUAGES:
        if lang in per_lang:
            texts[lang], lines[lang] = reader.string_list(
                per_lang[lang], per_lang.line_of(lang), f"{intent_id}.{key}.{lang}"
            )
    return texts, lines
