"""Checks across files: every reference (intent to reply, figure to source, menu item,
placeholder, red flag) points at something that exists; required texts are defined."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.content.model import Intent, Location
from bot.content.reach import check_campaigns
from bot.content.reader import ContentError
from bot.content.red_flags import check_red_flags, check_scam_weights
from bot.content.replies import PLACEHOLDER, REQUIRED_UI
from bot.content.sections import ContentParts

MAX_MENU_BUTTONS = 8  # a menu's buttons, the way back included
MENU_DOINGS = ("check",)  # "do:<name>" menu items (bot.core.responder.MENU_DOINGS)


def check_references(
    intents: dict[str, Intent],
    parts: ContentParts,
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
            check_placeholders(
                text, f"replies.{reply.id}.text.{lang}", reply.where, parts, known_contacts, error
            )
        for lang, text in reply.short.items():
            check_placeholders(
                text, f"replies.{reply.id}.short.{lang}", reply.where, parts, known_contacts, error
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
            if kind == "do":
                known = MENU_DOINGS
            if known is None or target not in known:
                error(
                    parts.where[("menus", menu.id)],
                    f"menu {menu.id!r} item {item!r} must be 'intent:<known id>', "
                    f"'menu:<known id>' or 'do:<{'|'.join(MENU_DOINGS)}>'",
                )
            elif kind == "do" and f"menu_{target}" not in parts.ui:
                error(parts.where[("menus", menu.id)], f"ui.menu_{target} (its label) is missing")
        if len(menu.items) + (menu.id != "main") > MAX_MENU_BUTTONS:
            error(
                parts.where[("menus", menu.id)],
                f"menu {menu.id!r} has {len(menu.items)} items: at most {MAX_MENU_BUTTONS} "
                "buttons fit a phone screen (with the way back); split it into a sub-menu",
            )
    for key, text in parts.ui.items():
        for lang, value in text.items():
            check_placeholders(
                value, f"ui.{key}.{lang}", parts.where[("ui", key)], parts, known_contacts, error
            )
    check_red_flags(parts.red_flags, intents, parts.where, error)
    check_campaigns(parts.campaigns, parts.places, parts.where, error)
    texts = [
        *(
            (f"campaigns.{c.code}.greeting", ("campaigns", c.code), c.greeting)
            for c in parts.campaigns.values()
        ),
        *((f"audiences.{a.id}.why", ("audiences", a.id), a.why) for a in parts.audiences.values()),
    ]
    for what, key, localized in texts:
        for lang, value in localized.items():
            check_placeholders(
                value, f"{what}.{lang}", parts.where[key], parts, known_contacts, error
            )
    check_scam_weights(parts.scam_weights, parts.red_flags, parts.where, error)
    for key in parts.contacts:
        if key not in known_contacts:
            error(
                parts.where[("contacts", key)],
                f"contact {key!r} has no configuration setting; "
                f"known: {', '.join(sorted(known_contacts))}",
            )


def check_placeholders(
    text: str,
    what: str,
    where: Location,
    parts: ContentParts,
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


def check_required(parts: ContentParts, content_dir: Path, errors: list[ContentError]) -> None:
    """What the bot cannot run without, wherever in content/ it is defined."""
    for key in REQUIRED_UI:
        if key not in parts.ui:
            errors.append(ContentError(content_dir, 0, f"ui.{key} is required but not defined"))
    if not parts.report_kinds:
        errors.append(ContentError(content_dir, 0, "report_kinds needs at least one kind"))
    if "main" not in parts.menus:
        errors.append(ContentError(content_dir, 0, "menus.main (the topic menu) is required"))
