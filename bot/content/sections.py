"""content/*.yaml: a file holds any of the sections below; each section's entries are read
by the module of that kind, with one line-tracking reader for all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content import (
    contacts,
    conversation,
    figures,
    matching,
    reach,
    red_flags,
    replies,
    report_kinds,
)
from bot.content.model import (
    Audience,
    Campaign,
    Figure,
    Hotline,
    Localized,
    Location,
    Menu,
    ReplyText,
    ReportKind,
    Source,
    TurnSignal,
)
from bot.content.reader import ContentError, SchemaReader, read_file, yaml_files

EntryReader = Callable[[SchemaReader, str, Any, int], Any]

# section name -> how one of its entries is read; the name is also the ContentParts field
SECTIONS: dict[str, EntryReader] = {
    "replies": replies.read_reply,
    "figures": figures.read_figure,
    "sources": figures.read_source,
    "places": figures.read_place,
    "hotlines": contacts.read_hotline,
    "contacts": contacts.read_contact,
    "menus": replies.read_menu,
    "ui": replies.read_ui,
    "matching": matching.read_setting,
    "rewrites": matching.read_rewrites,
    "areas": contacts.read_area,
    "red_flag_words": red_flags.read_red_flag_word,
    "red_flags": red_flags.read_red_flag,
    "risk": red_flags.read_risk,
    "scam_weights": red_flags.read_scam_weight,
    "link_brands": red_flags.read_link_brand,
    "anatomy_lists": red_flags.read_anatomy_list,
    "report_kinds": report_kinds.read_report_kind,
    "audiences": reach.read_audience,
    "campaigns": reach.read_campaign,
    "turn_signals": conversation.read_turn_signal,
}


@dataclass
class ContentParts:
    replies: dict[str, ReplyText] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    places: dict[str, Localized] = field(default_factory=dict)
    hotlines: dict[str, Hotline] = field(default_factory=dict)
    contacts: dict[str, Localized] = field(default_factory=dict)
    menus: dict[str, Menu] = field(default_factory=dict)
    ui: dict[str, Localized] = field(default_factory=dict)
    matching: dict[str, float] = field(default_factory=dict)
    rewrites: dict[str, dict[str, str]] = field(default_factory=dict)
    areas: dict[str, Localized] = field(default_factory=dict)
    red_flag_words: dict[str, str] = field(default_factory=dict)  # {name} -> regex fragment
    red_flags: dict[str, red_flags.RedFlagDraft] = field(default_factory=dict)
    risk: dict[str, float] = field(default_factory=dict)
    scam_weights: dict[str, float] = field(default_factory=dict)
    link_brands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    anatomy_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    report_kinds: dict[str, ReportKind] = field(default_factory=dict)
    audiences: dict[str, Audience] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    turn_signals: dict[str, TurnSignal] = field(default_factory=dict)
    # where each item was defined, for cross-reference errors
    where: dict[tuple[str, str], Location] = field(default_factory=dict)


def read_content(folder: Path, errors: list[ContentError]) -> ContentParts:
    parts = ContentParts()
    for path in yaml_files(folder, errors):
        root = read_file(path, errors)
        if root is None:
            continue
        reader = SchemaReader(path, errors, parts.where)
        reader.keys(root, ("version", *SECTIONS), (), "the file")
        for section, read_entry in SECTIONS.items():
            if section not in root:
                continue
            entries = reader.mapping(root[section], root.line_of(section), section)
            if entries is None:
                continue
            for key, value in entries.items():
                line = entries.line_of(key)
                if (section, str(key)) in parts.where:
                    reader.error(
                        line,
                        f"{section} {key!r} is defined twice "
                        f"(also at {parts.where[(section, str(key))]})",
                    )
                    continue
                parts.where[(section, str(key))] = Location(path, line)
                entry = read_entry(reader, str(key), value, line)
                if entry is not None:
                    getattr(parts, section)[str(key)] = entry
    return parts
