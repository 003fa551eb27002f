"""Conversation scripts: the YAML format content authors write, loaded with file and line.

A script is what a content author writes to say "when a resident says this, the bot must
answer like that"; `bot.authoring.runner` plays it. The format is documented in
docs/conversation-tests.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content.yaml_lines import LineDict, LineList, LocatedError, load_mapping

ACTIONS = ("say", "command", "press", "forward", "send")
SENDABLE = ("sticker", "photo", "video", "location", "voice")
EXPECTATIONS = (
    "intent",
    "contains",
    "contains_any",
    "not_contains",
    "matches",
    "buttons",
    "no_buttons",
    "lang",
    "replies",
    "first_line",
    "to",
)
# What `to: {user: ...}` can check in another user's chat (a review chat, a resident).
OTHER_CHAT_EXPECTATIONS = ("contains", "not_contains", "matches", "buttons", "replies")
USER_KEYS = ("language_code", "first_name", "chat", "role")
SCRIPT_KEYS = ("version", "name", "users", "settings", "conversation", "turns")
# Bot settings a script may change (the rest are the defaults of a fresh deployment).
REVIEW_CHAT = -1_009_000_000_001  # the review chat of every script's bot
SCRIPT_SETTINGS = (
    "report_daily_limit",
    "report_max_media",
    "report_max_mb",
    "suggestion_daily_limit",
)


TURN_KEYS = (*ACTIONS, "user", "expect", "reply_to", "reply_to_bot", "caption")


class ScriptError(LocatedError):
    """The script itself is wrong (not the bot): reported with file and line."""


@dataclass(frozen=True)
class User:
    name: str
    user_id: int
    chat_id: int
    chat_type: str
    language_code: str | None
    first_name: str
    reviewer: bool = False
    admin: bool = False  # may /broadcast, /insights (ANTIFRAUD_ADMINS)


@dataclass(frozen=True)
class Turn:
    line: int
    user: str
    action: str  # one of ACTIONS
    value: str
    expect: dict[str, Any]
    reply_to: str | None = None  # the text of the message this one replies to
    # a text in one of the bot's earlier messages in this chat: the turn replies to the
    # latest such message (an officer answering a suggestion)
    reply_to_bot: str | None = None
    caption: str | None = None  # a photo's or video's caption (with `send`)


@dataclass(frozen=True)
class Script:
    path: Path
    name: str
    users: dict[str, User]
    turns: list[Turn]
    settings: dict[str, int] = field(default_factory=dict)
    # `conversation: true`: every turn is in scope, so no turn may get the generic fallback,
    # and the bot may never send the same text twice in a row in a chat.
    conversation: bool = False


def _strings(value: Any, path: Path, line: int, key: str) -> list[str]:
    items = [value] if isinstance(value, (str, int)) else value
    if not isinstance(items, list) or not all(isinstance(i, (str, int)) for i in items):
        raise ScriptError(path, line, f"'{key}' must be text or a list of texts")
    return [str(i) for i in items]


def _load_users(root: LineDict, path: Path) -> dict[str, User]:
    raw = root.get("users") or {"resident": {}}
    if not isinstance(raw, dict):
        raise ScriptError(path, root.line_of("users"), "'users' must be a mapping of names")
    users: dict[str, User] = {}
    group_id = -1_000_000_000_000
    for number, (name, settings) in enumerate(raw.items()):
        settings = settings or {}
        line = raw.line_of(name) if isinstance(raw, LineDict) else root.line
        if not isinstance(settings, dict):
            raise ScriptError(path, line, f"user {name!r} must be a mapping")
        for key in settings:
            if key not in USER_KEYS:
                raise ScriptError(
                    path,
                    line,
                    f"unknown key {key!r} for user {name!r} (allowed: {', '.join(USER_KEYS)})",
                )
        chat_type = str(settings.get("chat", "private"))
        if chat_type not in ("private", "group", "review"):
            raise ScriptError(
                path, line, f"chat must be 'private', 'group' or 'review', not {chat_type!r}"
            )
        role = settings.get("role")
        if role not in (None, "reviewer", "admin"):
            raise ScriptError(path, line, f"role can only be 'reviewer' or 'admin', not {role!r}")
        user_id = 5_000_001 + number
        chat_ids = {"private": user_id, "group": group_id, "review": REVIEW_CHAT}
        users[str(name)] = User(
            name=str(name),
            user_id=user_id,
            chat_id=chat_ids[chat_type],
            chat_type="private" if chat_type == "private" else "supergroup",
            language_code=settings.get("language_code", "zh-hans"),
            first_name=str(settings.get("first_name", name)),
            reviewer=role == "reviewer",
            admin=role == "admin",
        )
    return users


def _load_settings(root: LineDict, path: Path) -> dict[str, int]:
    raw = root.get("settings") or {}
    if not isinstance(raw, dict):
        raise ScriptError(path, root.line_of("settings"), "'settings' must be a mapping")
    for key, value in raw.items():
        line = raw.line_of(key) if isinstance(raw, LineDict) else root.line
        if key not in SCRIPT_SETTINGS:
            raise ScriptError(
                path, line, f"unknown setting {key!r} (allowed: {', '.join(SCRIPT_SETTINGS)})"
            )
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ScriptError(path, line, f"setting {key!r} must be a whole number >= 1")
    return {str(k): int(v) for k, v in raw.items()}


def _load_checks(expect: LineDict, path: Path, allowed: tuple[str, ...]) -> dict[str, Any]:
    for key in expect:
        if key not in allowed:
            raise ScriptError(
                path,
                expect.line_of(key),
                f"unknown expectation {key!r} (allowed: {', '.join(allowed)})",
            )
    checks: dict[str, Any] = {}
    for key, raw in expect.items():
        key_line = expect.line_of(key)
        if key in ("contains", "contains_any", "not_contains", "buttons", "first_line"):
            checks[key] = _strings(raw, path, key_line, key)
        elif key == "matches":
            try:
                checks[key] = re.compile(str(raw))
            except re.error as exc:
                raise ScriptError(path, key_line, f"bad regular expression: {exc}") from None
        elif key == "replies":
            if not isinstance(raw, int) or raw < 0:
                raise ScriptError(path, key_line, "'replies' must be a whole number")
            checks[key] = raw
        elif key == "no_buttons":
            if raw is not True:
                raise ScriptError(path, key_line, "'no_buttons' can only be true")
            checks[key] = True
        elif key == "to":
            if not isinstance(raw, LineDict) or not raw:
                raise ScriptError(path, key_line, "'to' maps user names to expectations")
            checks[key] = {}
            for name, inner in raw.items():
                if not isinstance(inner, LineDict) or not inner:
                    raise ScriptError(
                        path, raw.line_of(name), f"'to: {name}' needs at least one check"
                    )
                checks[key][str(name)] = _load_checks(inner, path, OTHER_CHAT_EXPECTATIONS)
        else:
            checks[key] = str(raw)
    return checks


def _load_turn(item: Any, line: int, path: Path, users: dict[str, User]) -> Turn:
    if not isinstance(item, LineDict):
        raise ScriptError(path, line, "a turn must be a mapping")
    for key in item:
        if key not in TURN_KEYS:
            raise ScriptError(
                path,
                item.line_of(key),
                f"unknown key {key!r} in a turn (allowed: {', '.join(TURN_KEYS)})",
            )
    actions = [a for a in ACTIONS if a in item]
    if len(actions) != 1:
        raise ScriptError(path, item.line, f"a turn needs exactly one of {', '.join(ACTIONS)}")
    action = actions[0]
    value = str(item[action])
    if action == "command" and not value.startswith("/"):
        raise ScriptError(path, item.line_of(action), "a command starts with '/'")
    if action == "send" and value not in SENDABLE:
        raise ScriptError(
            path, item.line_of(action), f"send must be one of {', '.join(SENDABLE)}, not {value!r}"
        )
    user = str(item.get("user", next(iter(users))))
    if user not in users:
        raise ScriptError(path, item.line_of("user"), f"unknown user {user!r}")
    expect = item.get("expect")
    if not isinstance(expect, LineDict) or not expect:
        # A turn that checks nothing would pass whatever the bot does.
        raise ScriptError(path, item.line, "a turn needs an 'expect:' with at least one check")
    checks = _load_checks(expect, path, EXPECTATIONS)
    for name in checks.get("to", {}):
        if name not in users:
            raise ScriptError(path, expect.line_of("to"), f"unknown user {name!r} in 'to'")
    replies = {key: item.get(key) for key in ("reply_to", "reply_to_bot")}
    for key, target in replies.items():
        if target is not None and action not in ("say", "command"):
            raise ScriptError(path, item.line_of(key), f"{key} goes with say or command")
    if all(replies.values()):
        raise ScriptError(
            path, item.line, "a turn replies to one message: reply_to or reply_to_bot"
        )
    reply_to, reply_to_bot = (str(v) if v else None for v in replies.values())
    caption = item.get("caption")
    if caption is not None and (action != "send" or value not in ("photo", "video")):
        raise ScriptError(path, item.line_of("caption"), "caption goes with send: photo or video")
    return Turn(
        line,
        user,
        action,
        value,
        checks,
        reply_to,
        reply_to_bot,
        str(caption) if caption is not None else None,
    )


def load_script(path: Path) -> Script:
    root = load_mapping(path, SCRIPT_KEYS, ScriptError, "a script")
    if not root.get("name"):
        raise ScriptError(path, root.line, "a script needs a 'name'")
    users = _load_users(root, path)
    turns = root.get("turns")
    if not isinstance(turns, LineList) or not turns:
        raise ScriptError(path, root.line_of("turns"), "a script needs a list of 'turns'")
    loaded = [_load_turn(t, turns.line_of(n), path, users) for n, t in enumerate(turns)]
    conversation = root.get("conversation", False)
    if not isinstance(conversation, bool):
        raise ScriptError(path, root.line_of("conversation"), "'conversation' is true or false")
    return Script(path, str(root["name"]), users, loaded, _load_settings(root, path), conversation)


def find_scripts(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


# -- running ---------------------------------------------------------------------------------
