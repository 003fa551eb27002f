"""Load intents/ and content/, check every schema and cross-reference, report file:line.

All problems are collected, not just the first, so an author sees the whole list at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.model import (
    Content,
    Figure,
    Hotline,
    Intent,
    Localized,
    Location,
    Menu,
    RedFlag,
    ReplyText,
    ReportKind,
    Source,
)
from bot.content.yaml_lines import LineDict, LineList, YamlError, load_yaml
from bot.core.types import LANGUAGES

PLACEHOLDER = re.compile(r"\{(fig|hotline|contact):([A-Za-z0-9_.]+)\}")
INTENT_ID = re.compile(r"^[a-z]+\.[a-z_]+$")
CONTENT_SECTIONS = (
    "replies",
    "figures",
    "sources",
    "places",
    "hotlines",
    "contacts",
    "menus",
    "ui",
    "matching",
    "rewrites",
    "areas",
    "red_flags",
    "risk",
    "report_kinds",
)
# The lexical stage's thresholds (bot.core.matcher.MatchSettings), then the fitted decision
# that combines it with the semantic stage (bot.core.decision.BlendSettings).
MATCHING_SETTINGS = {"threshold", "margin", "suggest_floor", "clear_lead", "clear_ratio"} | {
    "semantic_weight",
    "semantic_floor",
    "answer_at",
    "suggest_at",
    "skip_model_score",
    "skip_model_length",
    "bias",
    "w_combined",
    "w_lead",
    "w_semantic",
    "w_semantic_lead",
    "w_agree",
}


@dataclass(frozen=True)
class ContentError:
    path: Path
    line: int
    message: str
    unparsed: bool = False  # the file could not be read as YAML at all
    warning: bool = False  # worth fixing, but the content still loads

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


class InvalidContent(Exception):
    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class _Reader:
    """Schema checks for one file, appending located errors instead of raising."""

    def __init__(self, path: Path, errors: list[ContentError]) -> None:
        self.path = path
        self.errors = errors

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.error(line, f"{what} must be a mapping")
        return None

    def keys(
        self, mapping: LineDict, allowed: Iterable[str], required: Iterable[str], what: str
    ) -> None:
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                self.error(
                    mapping.line_of(key),
                    f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                )
        for key in required:
            if key not in mapping:
                self.error(mapping.line, f"{what} is missing {key!r}")

    def text(self, mapping: LineDict, key: str, what: str) -> str:
        value = mapping.get(key)
        if (
            isinstance(value, (str, int, float))
            and not isinstance(value, bool)
            and str(value).strip()
        ):
            return str(value)
        if key in mapping:
            self.error(mapping.line_of(key), f"{what}.{key} must be non-empty text")
        return ""

    def localized(self, mapping: LineDict, key: str, what: str) -> Localized:
        """A {zh: ..., en: ...} value; both translations are required."""
        value = mapping.get(key)
        line = mapping.line_of(key)
        if value is None:
            self.error(mapping.line, f"{what} is missing {key!r}")
            return {}
        if isinstance(value, str):
            self.error(
                line, f"{what}.{key} needs a translation per language ({', '.join(LANGUAGES)})"
            )
            return {}
        inner = self.mapping(value, line, f"{what}.{key}")
        if inner is None:
            return {}
        self.keys(inner, LANGUAGES, (), f"{what}.{key}")
        result: Localized = {}
        for lang in LANGUAGES:
            if lang not in inner:
                self.error(inner.line, f"{what}.{key} is missing the {lang!r} translation")
            else:
                result[lang] = self.text(inner, lang, f"{what}.{key}")
        return result

    def string_list(
        self, value: Any, line: int, what: str
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        if not isinstance(value, LineList):
            self.error(line, f"{what} must be a list")
            return (), ()
        items, lines = [], []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item.strip())
                lines.append(value.line_of(index))
            else:
                self.error(value.line_of(index), f"{what} items must be non-empty text")
        return tuple(items), tuple(lines)


def _read_file(path: Path, errors: list[ContentError]) -> LineDict | None:
    try:
        data = load_yaml(path)
    except YamlError as exc:
        errors.append(ContentError(exc.path, exc.line, exc.message, unparsed=True))
        return None
    reader = _Reader(path, errors)
    if data is None:
        reader.error(1, "file is empty")
        return None
    root = reader.mapping(data, 1, "the file")
    if root is None:
        return None
    if "version" not in root:
        reader.error(root.line, "missing 'version:' (the content format version, 1)")
    elif root["version"] != 1:
        reader.error(root.line_of("version"), f"unsupported version {root['version']!r}; use 1")
    return root


def _yaml_files(folder: Path, errors: list[ContentError]) -> list[Path]:
    if not folder.is_dir():
        errors.append(ContentError(folder, 0, "folder not found"))
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def _read_intents(folder: Path, errors: list[ContentError]) -> dict[str, Intent]:
    intents: dict[str, Intent] = {}
    for path in _yaml_files(folder, errors):
        root = _read_file(path, errors)
        if root is None:
            continue
        reader = _Reader(path, errors)
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


def _read_intent(reader: _Reader, item: Any, line: int) -> Intent | None:
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
    reader: _Reader, mapping: LineDict, key: str, intent_id: str, required: bool
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


@dataclass
class _ContentParts:
    replies: dict[str, ReplyText]
    figures: dict[str, Figure]
    sources: dict[str, Source]
    places: dict[str, Localized]
    hotlines: dict[str, Hotline]
    contacts: dict[str, Localized]
    menus: dict[str, Menu]
    ui: dict[str, Localized]
    matching: dict[str, float]
    rewrites: dict[str, dict[str, str]]
    areas: dict[str, Localized]
    red_flags: dict[str, RedFlag]
    risk: dict[str, float]
    report_kinds: dict[str, ReportKind]
    # where each item was defined, for cross-reference errors
    where: dict[tuple[str, str], Location]


def _read_content(folder: Path, errors: list[ContentError]) -> _ContentParts:
    parts = _ContentParts({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    for path in _yaml_files(folder, errors):
        root = _read_file(path, errors)
        if root is None:
            continue
        reader = _Reader(path, errors)
        reader.keys(root, ("version", *CONTENT_SECTIONS), (), "the file")
        for section in CONTENT_SECTIONS:
            if section not in root:
                continue
            entries = reader.mapping(root[section], root.line_of(section), section)
            if entries is None:
                continue
            for key, value in entries.items():
                line = entries.line_of(key)
                where = Location(path, line)
                if (section, str(key)) in parts.where:
                    reader.error(
                        line,
                        f"{section} {key!r} is defined twice "
                        f"(also at {parts.where[(section, str(key))]})",
                    )
                    continue
                parts.where[(section, str(key))] = where
                _read_entry(reader, parts, section, str(key), value, line)
    return parts


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # YAML's yes is True


def _read_entry(
    reader: _Reader, parts: _ContentParts, section: str, key: str, value: Any, line: int
) -> None:
    what = f"{section}.{key}"
    if section == "risk":
        if key not in ("high", "medium"):
            reader.error(line, f"risk levels are 'high' and 'medium', not {key!r}")
        elif not _is_number(value):
            reader.error(line, f"risk.{key} must be a number of points")
        else:
            parts.risk[key] = float(value)
        return
    if section == "red_flags":
        _read_red_flag(reader, parts, key, value, line)
        return
    if section == "rewrites":
        if key not in LANGUAGES:
            reader.error(line, f"rewrites are per language ({', '.join(LANGUAGES)}), not {key!r}")
            return
        mapping = reader.mapping(value, line, f"rewrites.{key}")
        if mapping is not None:
            parts.rewrites[key] = {
                str(k): reader.text(mapping, k, f"rewrites.{key}") for k in mapping
            }
        return
    if section == "matching":
        if key not in MATCHING_SETTINGS:
            reader.error(line, f"unknown matching setting {key!r}")
        elif not _is_number(value):
            reader.error(line, f"{what} must be a number")
        else:
            parts.matching[key] = float(value)
        return
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return
    if section == "replies":
        reader.keys(mapping, ("title", "text"), ("title", "text"), what)
        parts.replies[key] = ReplyText(
            key,
            reader.localized(mapping, "title", what),
            reader.localized(mapping, "text", what),
            Location(reader.path, line),
        )
    elif section == "figures":
        reader.keys(
            mapping,
            ("value", "display", "counts", "place", "period", "source"),
            ("value", "display", "counts", "place", "period", "source"),
            what,
        )
        number = mapping.get("value")
        if not _is_number(number):
            reader.error(mapping.line_of("value"), f"{what}.value must be a number")
            number = 0
        parts.figures[key] = Figure(
            key,
            float(number),
            reader.localized(mapping, "display", what),
            reader.localized(mapping, "counts", what),
            reader.text(mapping, "place", what),
            reader.localized(mapping, "period", what),
            reader.text(mapping, "source", what),
        )
    elif section == "sources":
        reader.keys(mapping, ("title", "document"), ("title", "document"), what)
        parts.sources[key] = Source(
            key, reader.text(mapping, "title", what), reader.text(mapping, "document", what)
        )
    elif section == "places":
        parts.places[key] = _plain_localized(reader, mapping, what)
    elif section == "hotlines":
        reader.keys(mapping, ("number", "label"), ("number", "label"), what)
        parts.hotlines[key] = Hotline(
            key, reader.text(mapping, "number", what), reader.localized(mapping, "label", what)
        )
    elif section == "contacts":
        parts.contacts[key] = _plain_localized(reader, mapping, what)
    elif section == "menus":
        reader.keys(mapping, ("label", "prompt", "items"), ("label", "prompt", "items"), what)
        items, _ = reader.string_list(
            mapping.get("items"), mapping.line_of("items"), f"{what}.items"
        )
        parts.menus[key] = Menu(
            key,
            reader.localized(mapping, "label", what),
            reader.localized(mapping, "prompt", what),
            items,
        )
    elif section == "ui":
        parts.ui[key] = _plain_localized(reader, mapping, what)
    elif section == "areas":
        parts.areas[key] = _plain_localized(reader, mapping, what)
    elif section == "report_kinds":
        reader.keys(mapping, ("label", "media"), ("label", "media"), what)
        media = mapping.get("media")
        if media not in ("required", "optional"):
            reader.error(mapping.line_of("media"), f"{what}.media must be required or optional")
        parts.report_kinds[key] = ReportKind(
            key, reader.localized(mapping, "label", what), media == "required"
        )


FLAG_WEIGHTS = ("high", "medium", "low")


def _patterns(
    reader: _Reader, mapping: LineDict, key: str, what: str, required: bool
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


def _read_red_flag(reader: _Reader, parts: _ContentParts, key: str, value: Any, line: int) -> None:
    what = f"red_flags.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return
    reader.keys(
        mapping,
        ("weight", "suggests", "patterns", "unless", "explain"),
        ("weight", "patterns", "explain"),
        what,
    )
    weight = str(mapping.get("weight", ""))
    if weight not in FLAG_WEIGHTS:
        reader.error(mapping.line_of("weight"), f"{what}.weight must be one of {FLAG_WEIGHTS}")
    suggests = mapping.get("suggests")
    parts.red_flags[key] = RedFlag(
        key,
        weight,
        str(suggests) if suggests else None,
        _patterns(reader, mapping, "patterns", what, True),
        _patterns(reader, mapping, "unless", what, False),
        reader.localized(mapping, "explain", what),
    )


def _plain_localized(reader: _Reader, mapping: LineDict, what: str) -> Localized:
    """A mapping that is itself {zh: ..., en: ...}."""
    reader.keys(mapping, LANGUAGES, (), what)
    result: Localized = {}
    for lang in LANGUAGES:
        if lang not in mapping:
            reader.error(mapping.line, f"{what} is missing the {lang!r} translation")
        else:
            result[lang] = reader.text(mapping, lang, what)
    return result


def _check_references(
    intents: dict[str, Intent],
    parts: _ContentParts,
    errors: list[ContentError],
    known_contacts: Iterable[str],
) -> None:
    def error(where: Location, message: str) -> None:
        errors.append(ContentError(where.path, where.line, message))

    for intent in intents.values():
        if intent.id not in parts.replies:
            error(
                intent.where, f"intent {intent.id!r} has no reply in content/ (replies.{intent.id})"
            )
        for target in intent.follow_ups:
            if target not in intents:
                error(intent.where, f"{intent.id}.follow_ups names unknown intent {target!r}")
    for reply in parts.replies.values():
        if reply.id not in intents:
            error(reply.where, f"reply {reply.id!r} is never used: no intent has that id")
        for lang, text in reply.text.items():
            _check_placeholders(
                text, f"replies.{reply.id}.text.{lang}", reply.where, parts, known_contacts, error
            )
    for key, figure in parts.figures.items():
        where = parts.where[("figures", key)]
        if figure.source and figure.source not in parts.sources:
            error(where, f"figure {key!r} names unknown source {figure.source!r}")
        if figure.place and figure.place not in parts.places:
            error(where, f"figure {key!r} names unknown place {figure.place!r}")
    for menu in parts.menus.values():
        for item in menu.items:
            kind, _, target = item.partition(":")
            known = intents if kind == "intent" else parts.menus if kind == "menu" else None
            if known is None or target not in known:
                error(
                    parts.where[("menus", menu.id)],
                    f"menu {menu.id!r} item {item!r} "
                    "must be 'intent:<known id>' or 'menu:<known id>'",
                )
    for key, text in parts.ui.items():
        for lang, value in text.items():
            _check_placeholders(
                value, f"ui.{key}.{lang}", parts.where[("ui", key)], parts, known_contacts, error
            )
    for flag in parts.red_flags.values():
        if flag.suggests and flag.suggests not in intents:
            error(
                parts.where[("red_flags", flag.id)],
                f"red flag {flag.id!r} suggests unknown intent {flag.suggests!r}",
            )
    for key in parts.contacts:
        if key not in known_contacts:
            error(
                parts.where[("contacts", key)],
                f"contact {key!r} has no configuration setting; "
                f"known: {', '.join(sorted(known_contacts))}",
            )


def _check_placeholders(
    text: str,
    what: str,
    where: Location,
    parts: _ContentParts,
    known_contacts: Iterable[str],
    error: Any,
) -> None:
    known = {"fig": parts.figures, "hotline": parts.hotlines, "contact": set(known_contacts)}
    for match in PLACEHOLDER.finditer(text):
        kind, key = match.groups()
        if key not in known[kind]:
            error(where, f"{what} refers to unknown {kind} {key!r}")
    leftover = PLACEHOLDER.sub("", text)
    if re.search(r"\{[a-z]+:", leftover):
        error(
            where,
            f"{what} has a malformed placeholder; use {{fig:key}}, {{hotline:key}} "
            "or {contact:key}",
        )


# fmt: off
REQUIRED_UI = (
    "fallback", "did_you_mean", "non_text", "error", "lang_prompt", "lang_switched",
    "sources_heading", "menu_button", "group_hint", "telegram_only",
    "sub_done", "sub_status", "sub_removed", "sub_none", "topic_fraud", "topic_traffic",
    "topic_safety", "area_any", "area_button", "area_prompt", "unsubscribe_button", "settings",
    "settings_not_subscribed", "settings_lang_unset", "forget_done", "admin_refused",
    "bc_choose", "bc_none", "bc_preview", "bc_confirm_button", "bc_cancel_button", "bc_started",
    "bc_already", "bc_expired", "bc_cancelled", "bc_report",
    "check_high", "check_medium", "check_low", "check_flags", "check_type", "check_advice_high",
    "check_advice_medium", "check_usage", "guard_warning", "guard_on", "guard_off",
    "guard_admin_only", "reload_done", "reload_failed", "flood_notice",
    "insights_unanswered", "insights_intents", "insights_none",
)
# fmt: on


def load_content(
    intents_dir: Path, content_dir: Path, known_contacts: Iterable[str] = ()
) -> Content:
    """Load and validate everything; raise InvalidContent listing every problem."""
    errors: list[ContentError] = []
    known_contacts = tuple(known_contacts)
    intents = _read_intents(intents_dir, errors)
    parts = _read_content(content_dir, errors)
    if any(e.unparsed for e in errors):
        # A file that did not parse would make every reference into it look broken:
        # report the parse errors alone, which is what the author must fix first.
        raise InvalidContent(errors)
    _check_references(intents, parts, errors, known_contacts)
    for key in REQUIRED_UI:
        if key not in parts.ui:
            errors.append(ContentError(content_dir, 0, f"ui.{key} is required but not defined"))
    if not parts.report_kinds:
        errors.append(ContentError(content_dir, 0, "report_kinds needs at least one kind"))
    if "main" not in parts.menus:
        errors.append(ContentError(content_dir, 0, "menus.main (the topic menu) is required"))
    if errors:
        raise InvalidContent(errors)
    return Content(
        intents=intents,
        replies=parts.replies,
        figures=parts.figures,
        sources=parts.sources,
        places=parts.places,
        hotlines=parts.hotlines,
        contacts=parts.contacts,
        menus=parts.menus,
        ui=parts.ui,
        settings=parts.matching,
        rewrites=parts.rewrites,
        areas=parts.areas,
        red_flags=parts.red_flags,
        risk_levels=parts.risk,
        report_kinds=parts.report_kinds,
    )
