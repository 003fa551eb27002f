"""The script runner: conversation scripts played through the real Telegram Application.

The runner drives python-telegram-bot's Application and the bot's own handlers through the
in-process fake Bot API, so keyboards, button presses and per-user state behave exactly as on
Telegram, and nothing leaves the process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.authoring import fake_updates
from bot.authoring.fake_api import BOT_USER, ApiCall, FakeBotApi
from bot.authoring.script import REVIEW_CHAT, Script, ScriptError, Turn, find_scripts, load_script
from bot.config import Settings
from bot.core.responder import Responder
from bot.core.types import Reply, ReplyKind
from bot.store.database import Database
from bot.telegram.app import build_application
from bot.telegram.broadcasts import TASKS as BROADCAST_TASKS
from bot.telegram.handlers import RESPONDER

# Never a real token: the transport is the in-process fake, nothing reaches Telegram.
TOKEN = "100000:conversation-test-token"  # noqa: S105


@dataclass
class TurnFailure:
    turn: Turn
    problems: list[str]
    said: list[str]  # what the bot sent during the turn
    buttons: list[str]
    intent: str | None

    def describe(self, path: Path) -> str:
        said = "\n".join(f"      | {line}" for text in self.said for line in text.splitlines())
        lines = [
            f"  turn at {path}:{self.turn.line} ({self.turn.user} {self.turn.action}: "
            f"{self.turn.value!r})",
            *(f"    expected {p}" for p in self.problems),
            f"    bot said ({len(self.said)} message(s)), intent {self.intent or '-'}:",
            said or "      | (nothing)",
        ]
        if self.buttons:
            lines.append(f"    buttons: {', '.join(self.buttons)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class PlayedTurn:
    """What one turn got: the bot's decision and what the resident saw (for bench/)."""

    turn: Turn
    reply: Reply | None
    said: list[str]
    repeated: bool  # the first message was the same text as the bot's previous one


@dataclass
class ScriptResult:
    script: Script
    failures: list[TurnFailure] = field(default_factory=list)
    played: list[PlayedTurn] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.script.name} ({self.script.path})"
        return "\n".join([head, *(f.describe(self.script.path) for f in self.failures)])


# -- loading ---------------------------------------------------------------------------------


class _RecordingResponder:
    """Passes every call to the real Responder and keeps the Replies it made."""

    def __init__(self, responder: Responder) -> None:
        self._responder = responder
        self.replies: list[Reply] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._responder, name)
        if not callable(attribute):
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            reply = getattr(result, "reply", result)  # converse() gives an Exchange
            if isinstance(reply, Reply):
                self.replies.append(reply)
            return result

        return recorded


def _reply_intent(reply: Reply | None) -> str | None:
    if reply is None:
        return None
    if reply.kind is ReplyKind.FALLBACK:
        return "fallback"
    if reply.kind is ReplyKind.DID_YOU_MEAN:
        return "did_you_mean"
    return reply.intent or reply.kind.value


def _labels(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


@dataclass(frozen=True)
class _Offered:
    """The buttons under the last message with buttons in a user's chat."""

    buttons: list[tuple[str, str]]
    message_id: int | None


def _shown(call: ApiCall) -> str:
    """What a chat member sees of one message the bot sent or edited."""
    params = call.params
    text = str(params.get("text") or params.get("caption") or "")
    if call.method == "sendMediaGroup":  # the album's caption sits on its first item
        media = params.get("media") or []
        items = json.loads(media) if isinstance(media, str) else media
        text = str(items[0].get("caption") or "") if items else ""
    if call.method in ("sendMessage", "editMessageText"):
        return text
    return f"[{call.method.removeprefix('send').lower()}] {text}".rstrip()


class _Conversation:
    def __init__(
        self,
        script: Script,
        application: Application,
        api: FakeBotApi,
        recorder: _RecordingResponder,
    ) -> None:
        self.script, self.app, self.api, self.recorder = script, application, api, recorder
        self.offered: dict[int, _Offered] = {}  # chat id -> buttons on offer there
        self.shown: dict[int, list[tuple[int, str]]] = {}  # chat id -> (message id, text)
        self.last_said: dict[int, str] = {}  # chat id -> the bot's last text there
        self.played: list[PlayedTurn] = []
        self._ids = itertools.count(1)

    def _update(self, turn: Turn) -> Update:
        user = self.script.users[turn.user]
        bot = self.app.bot
        if turn.action == "press":
            offered = self.offered.get(user.chat_id, _Offered([], None))
            data = next((d for label, d in offered.buttons if label == turn.value), None)
            if data is None:
                labels = ", ".join(label for label, _ in offered.buttons) or "none"
                raise ScriptError(
                    self.script.path,
                    turn.line,
                    f"button {turn.value!r} is not offered (offered: {labels})",
                )
            return fake_updates.callback_update(
                bot,
                data,
                user_id=user.user_id,
                language_code=user.language_code,
                chat_id=None if user.chat_type == "private" else user.chat_id,
                message_id=offered.message_id,
                first_name=user.first_name,
            )
        sender = fake_updates.user_dict(user.user_id, user.first_name, user.language_code)
        chat = fake_updates.chat_dict(user.chat_id, user.chat_type)
        if turn.action == "send":
            content = fake_updates.media_content(turn.value)
            if turn.caption:
                content["caption"] = turn.caption
            return fake_updates.update_from(
                {"message": fake_updates.message_dict(sender, chat, **content)}, bot
            )
        extra: dict[str, Any] = {}
        if turn.reply_to:
            someone = fake_updates.user_dict(9_999_999, "Someone", None)
            extra["reply_to_message"] = fake_updates.message_dict(someone, chat, text=turn.reply_to)
        if turn.reply_to_bot:
            extra["reply_to_message"] = self._bot_message(turn, chat)
        if turn.action == "forward":
            extra["forward_origin"] = {
                "type": "hidden_user",
                "date": 0,
                "sender_user_name": "someone",
            }
        message = fake_updates.text_message(turn.value, sender, chat, **extra)
        return fake_updates.update_from({"message": message}, bot)

    def _bot_message(self, turn: Turn, chat: dict[str, Any]) -> dict[str, Any]:
        """The latest message the bot showed in the user's chat with that text in it."""
        user = self.script.users[turn.user]
        found = [
            (mid, text)
            for mid, text in self.shown.get(user.chat_id, [])
            if turn.reply_to_bot and turn.reply_to_bot in text
        ]
        if not found:
            raise ScriptError(
                self.script.path,
                turn.line,
                f"no message of the bot in {turn.user}'s chat contains {turn.reply_to_bot!r}",
            )
        message_id, text = found[-1]
        message = fake_updates.message_dict(BOT_USER, chat, text=text)
        message["message_id"] = message_id
        return message

    def _remember_buttons(self) -> None:
        for call in self.api.calls:
            if call.shows_message and call.method != "editMessageText" and call.result:
                results = call.result if isinstance(call.result, list) else [call.result]
                for result in results:
                    if isinstance(result, dict) and "message_id" in result:
                        self.shown.setdefault(call.chat_id, []).append(
                            (int(result["message_id"]), _shown(call))
                        )
            labels = _labels(call.params) if call.shows_message else []
            if labels:
                message_id = call.result.get("message_id") if call.result else None
                self.offered[call.chat_id] = _Offered(labels, message_id)

    async def play(self, turn: Turn) -> TurnFailure | None:
        update = self._update(turn)
        self.api.clear()
        self.recorder.replies.clear()
        await self.app.process_update(update)
        # What the turn set going in the background (a broadcast) is part of the turn.
        await asyncio.gather(*self.app.bot_data.get(BROADCAST_TASKS, []))
        self._remember_buttons()
        user = self.script.users[turn.user]
        # The first Reply of the turn is the bot's decision (answer, menu, fallback); later
        # ones are what an action built on it (a subscription status, a notice).
        reply = self.recorder.replies[0] if self.recorder.replies else None
        said, buttons = self._seen(user.chat_id)
        repeated = bool(said) and said[0] == self.last_said.get(user.chat_id)
        if said:
            self.last_said[user.chat_id] = said[-1]
        self.played.append(PlayedTurn(turn, reply, said, repeated))
        problems = _check(turn.expect, said, buttons, reply)
        if self.script.conversation:
            if reply is not None and reply.kind is ReplyKind.FALLBACK:
                problems.append("no generic fallback (this conversation is in scope)")
            if repeated:
                problems.append("not the same text as the bot's previous message")
        for name, checks in turn.expect.get("to", {}).items():
            other_said, other_buttons = self._seen(self.script.users[name].chat_id)
            problems += [
                f"{p} (in {name}'s chat)" for p in _check(checks, other_said, other_buttons, None)
            ]
        if problems:
            return TurnFailure(turn, problems, said, buttons, _reply_intent(reply))
        return None

    def _seen(self, chat_id: int) -> tuple[list[str], list[str]]:
        """What the bot showed in one chat during the turn, and the buttons under the last."""
        calls = self.api.shown_in(chat_id)
        buttons = [label for label, _ in _labels(calls[-1].params)] if calls else []
        return [_shown(c) for c in calls], buttons


def _check(
    expect: dict[str, Any], said: list[str], buttons: list[str], reply: Reply | None
) -> list[str]:
    text = "\n".join(said)
    problems: list[str] = []
    if "replies" in expect and len(said) != expect["replies"]:
        problems.append(f"{expect['replies']} reply/replies, got {len(said)}")
    if "intent" in expect and _reply_intent(reply) != expect["intent"]:
        problems.append(f"intent {expect['intent']}, got {_reply_intent(reply) or 'none'}")
    missing = [s for s in expect.get("contains", []) if s not in text]
    if missing:
        problems.append(f"the reply to contain {missing}")
    if expect.get("contains_any") and not any(s in text for s in expect["contains_any"]):
        problems.append(f"the reply to contain one of {expect['contains_any']}")
    present = [s for s in expect.get("not_contains", []) if s in text]
    if present:
        problems.append(f"the reply not to contain {present}")
    if "matches" in expect and not expect["matches"].search(text):
        problems.append(f"the reply to match /{expect['matches'].pattern}/")
    absent = [b for b in expect.get("buttons", []) if b not in buttons]
    if absent:
        problems.append(f"buttons {absent} to be offered")
    if expect.get("no_buttons") and buttons:
        problems.append("no buttons")
    first = said[0].strip().splitlines()[0] if said and said[0].strip() else ""
    if expect.get("first_line") and not any(s in first for s in expect["first_line"]):
        problems.append(f"the first line to contain one of {expect['first_line']}")
    if "lang" in expect and (reply is None or reply.lang != expect["lang"]):
        problems.append(f"language {expect['lang']}, got {reply.lang if reply else 'none'}")
    return problems


async def run_script(script: Script, responder: Responder) -> ScriptResult:
    api = FakeBotApi()
    reviewers = frozenset(u.user_id for u in script.users.values() if u.reviewer)
    admins = frozenset(u.user_id for u in script.users.values() if u.admin)
    settings = Settings(
        token=TOKEN,
        flood_messages=100_000,  # a script plays a whole conversation in a blink
        review_chat=REVIEW_CHAT,
        suggestions_chat=REVIEW_CHAT,  # the bureau reads suggestions where it reviews reports
        reviewers=reviewers,
        admins=admins,
        broadcast_rate=1000.0,
        **script.settings,  # type: ignore[arg-type]
    )
    application = build_application(settings, responder, Database(":memory:"), request=api)
    recorder = _RecordingResponder(responder)
    result = ScriptResult(script)
    async with application:
        await application.start()
        try:
            application.bot_data[RESPONDER] = recorder
            conversation = _Conversation(script, application, api, recorder)
            for turn in script.turns:
                failure = await conversation.play(turn)
                if failure is not None:
                    result.failures.append(failure)
            result.played = conversation.played
        finally:
            await application.stop()
    return result


def run_scripts(paths: Iterable[Path], responder: Responder) -> list[ScriptResult | ScriptError]:
    """Load and play every script; a broken script is returned as its ScriptError."""

    async def play_all() -> list[ScriptResult | ScriptError]:
        results: list[ScriptResult | ScriptError] = []
        for path in find_scripts(paths):
            try:
                results.append(await run_script(load_script(path), responder))
            except ScriptError as exc:
                results.append(exc)
        return results

    return asyncio.run(play_all())
