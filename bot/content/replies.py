"""What the bot says: replies per intent, fixed interface texts (ui) and menus; the
placeholders their texts may hold."""

from __future__ import annotations

import re
from typing import Any

from bot.content.model import Localized, Location, Menu, ReplyText
from bot.content.reader import SchemaReader

PLACEHOLDER = re.compile(r"\{(fig|hotline|contact):([A-Za-z0-9_.]+)\}")

# fmt: off
REQUIRED_UI = (
    "fallback", "did_you_mean", "non_text", "error", "lang_prompt", "lang_switched",
    "sources_heading", "menu_button", "group_hint", "telegram_only",
    "sub_done", "sub_status", "sub_removed", "sub_none", "topic_fraud", "topic_traffic",
    "topic_safety", "area_any", "area_button", "area_prompt", "unsubscribe_button", "settings",
    "settings_not_subscribed", "settings_lang_unset", "forget_done", "admin_refused",
    "bc_choose", "bc_none", "bc_preview", "bc_confirm_button", "bc_cancel_button", "bc_started",
    "bc_already", "bc_expired", "bc_cancelled", "bc_report",
    "check_high", "check_medium", "check_low", "check_low_signs", "check_flags", "check_type",
    "check_advice_high", "check_advice_medium", "check_usage", "guard_warning", "guard_on",
    "guard_off",
    "guard_admin_only", "reload_done", "reload_failed", "flood_notice",
    "insights_unanswered", "insights_intents", "insights_none",
    "admin_refused_reload", "admin_refused_insights", "sub_admin_only", "personal_private_only",
    "guard_groups_only", "lang_unknown", "unknown_command",
    "ocr_reading", "ocr_read", "ocr_no_text", "ocr_report_button", "ocr_busy", "ocr_timeout",
    "ocr_too_big", "ocr_unreadable",
    # conversations (content/conversation.yaml)
    "more_button", "share_button", "share_text", "feedback_thanks", "insights_feedback",
    "menu_check", "back_button", "voice_note", "photo_unread", "sub_which_township",
    "unsub_confirm", "unsub_keep_button", "unsub_kept", "report_no_review_chat",
    "area_more", "area_back",
    *(f"conv_{name}" for name in (
        "about_this_scam", "urgent_in_progress", "urgent_asked_to_pay", "urgent_asked_to_act",
        "urgent_clicked", "urgent_again", "ask_paid", "not_paid", "should_pay_no",
        "should_pay_why", "safe_action", "recovery_offer", "blocked", "tell_family", "share",
        "go_police", "line_busy", "ack_fraud", "ack", "more_done", "again",
    )),
    *(f"command_{name}" for name in (
        "start", "help", "tips", "stats", "lang", "check", "subscribe", "unsubscribe",
        "mysettings", "forget", "report", "myreports", "cancel",
    )),
)
# fmt: on


def read_reply(reader: SchemaReader, key: str, value: Any, line: int) -> ReplyText | None:
    what = f"replies.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, ("title", "text", "short"), ("title", "text"), what)
    return ReplyText(
        key,
        reader.localized(mapping, "title", what),
        reader.localized(mapping, "text", what),
        Location(reader.path, line),
        reader.localized(mapping, "short", what) if "short" in mapping else {},
    )


def read_ui(reader: SchemaReader, key: str, value: Any, line: int) -> Localized | None:
    return reader.localized_entry(value, line, f"ui.{key}")


def read_menu(reader: SchemaReader, key: str, value: Any, line: int) -> Menu | None:
    what = f"menus.{key}"
    mapping = reader.entry(value, line, what, ("label", "prompt", "items"))
    if mapping is None:
        return None
    items, _ = reader.string_list(mapping.get("items"), mapping.line_of("items"), f"{what}.items")
    return Menu(
        key,
        reader.localized(mapping, "label", what),
        reader.localized(mapping, "prompt", what),
        items,
    )
