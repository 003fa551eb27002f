"""Load intents/ and content/, check every schema and cross-reference, report file:line.

Each file kind has its own small module (intents, replies, figures, contacts, matching,
red_flags, report_kinds), all reading through one line-tracking reader (bot.content.reader);
this module puts them together. All problems are collected, not just the first, so an author
sees the whole list at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.content.intents import read_intents
from bot.content.model import Content
from bot.content.reader import ContentError, InvalidContent
from bot.content.red_flags import compile_red_flags
from bot.content.references import check_references, check_required
from bot.content.sections import read_content


def load_content(
    intents_dir: Path, content_dir: Path, known_contacts: Iterable[str] = ()
) -> Content:
    """Load and validate everything; raise InvalidContent listing every problem."""
    errors: list[ContentError] = []
    known_contacts = tuple(known_contacts)
    intents, declines = read_intents(intents_dir, errors)
    parts = read_content(content_dir, errors)
    if any(e.unparsed for e in errors):
        # A file that did not parse would make every reference into it look broken:
        # report the parse errors alone, which is what the author must fix first.
        raise InvalidContent(errors)
    check_references(intents, parts, errors, known_contacts)
    check_required(parts, content_dir, errors)
    flags = compile_red_flags(parts.red_flags, parts.red_flag_words, errors)
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
        red_flags=flags,
        risk_levels=parts.risk,
        link_brands=parts.link_brands,
        anatomy_lists=parts.anatomy_lists,
        scam_weights=parts.scam_weights,
        report_kinds=parts.report_kinds,
        audiences=parts.audiences,
        campaigns=parts.campaigns,
        turn_signals=parts.turn_signals,
        declines=declines,
    )
