"""intents/*.yaml: what residents say, per intent (id, examples and keywords per language,
follow-ups, an optional threshold), and the near misses the bot declines (`declines:`: id,
what the group is about, examples per language)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.content.model import LANGUAGES, Decline, Intent, Location
from bot.content.reader import ContentError, SchemaReader, read_file, yaml_files
from bot.content.yaml_lines import LineDict, LineList

INTENT_ID = re.compile(r"^[a-z]+\.[a-z_]+$")
DECLINE_ID = re.compile(r"^decline\.[a-z_]+$")


def read_intents(
    folder: Path, errors: list[ContentError]
) -> tuple[dict[str, Intent], dict[str, Decline]]:
    intents: dict[str, Intent] = {}
    declines: dict[str, Decline] = {}
    for path in yaml_files(folder, errors):
        root = read_file(path, errors)
        if root is None:
            continue
        reader = SchemaReader(path, errors)
        reader.keys(root, ("version", "intents", "declines"), (), "the file")
        if "intents" not in root and "declines" not in root:
            reader.error(root.line, "the file needs 'intents' or 'declines'")
        for item, line in _items(reader, root, "intents"):
            _keep(reader, _read_intent(reader, item, line), intents, "intent")
        for item, line in _items(reader, root, "declines"):
            _keep(reader, _read_decline(reader, item, line), declines, "decline")
    return intents, declines


def _items(reader: SchemaReader, root: LineDict, key: str) -> list[tuple[Any, int]]:
    items = root.get(key)
    if key in root and not isinstance(items, LineList):
        reader.error(root.line_of(key), f"'{key}' must be a list")
    if not isinstance(items, LineList):
        return []
    return [(item, items.line_of(n)) for n, item in enumerate(items)]


def _keep(reader: SchemaReader, entry: Intent | Decline | None, into: dict, kind: str) -> None:
    if entry is None:
        return
    if entry.id in into:
        reader.error(
            entry.where.line, f"duplicate {kind} id {entry.id!r} (also at {into[entry.id].where})"
        )
        return
    into[entry.id] = entry


def _read_decline(reader: SchemaReader, item: Any, line: int) -> Decline | None:
    mapping = reader.mapping(item, line, "a decline")
    if mapping is None:
        return None
    reader.keys(mapping, ("id", "about", "examples"), ("id", "about", "examples"), "a decline")
    decline_id = reader.text(mapping, "id", "decline")
    if not decline_id:
        return None
    if not DECLINE_ID.match(decline_id):
        reader.error(
            mapping.line_of("id"), f"decline id {decline_id!r} must look like 'decline.name'"
        )
    examples, example_lines = _read_per_language(reader, mapping, "examples", decline_id, True)
    about = reader.text(mapping, "about", decline_id) or ""
    return Decline(decline_id, about, examples, Location(reader.path, mapping.line), example_lines)


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
