"""Issue 12, findings 5, 7, 13, 14, 15 and captions (16): what the real Application answers
to personal commands in groups, refusals, unknown commands, /lang, edited group messages and
photo captions, and what the audit log says."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import (
    callback_update,
    chat_dict,
    media_content,
    message_dict,
    text_message,
    text_update,
    update_from,
    user_dict,
)
from bot.privacy import configure_logging
from bot.telegram import admin, flow, handlers
from tests.conftest import ROOT, TEST_TOKEN

pytestmark = pytest.mark.asyncio

GROUP = {"chat_id": -100500, "chat_type": "supergroup"}
SCAM = "兼职刷单日结，动动手指日赚300，先垫付本金做任务返佣金，加微信"
ADMIN = 42


def _buttons(params: dict) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
def admin_app(app: Application) -> Application:
    settings = app.bot_data[admin.SETTINGS]
    app.bot_data[admin.SETTINGS] = replace(settings, admins=frozenset({ADMIN}))
    return app


# -- finding 5: personal commands in a group -------------------------------------------------


@pytest.mark.parametrize("command", ["/myreports", "/mysettings"])
async def test_personal_commands_in_a_group_point_to_the_private_chat(
    app: Application, api: FakeBotApi, command: str
) -> None:
    await app.process_update(text_update(app.bot, command, **GROUP))
    (sent,) = api.sent()
    assert sent["chat_id"] == GROUP["chat_id"]
    assert "私聊" in sent["text"]
    # Nothing of the resident's own data: no report list, no stored settings.
    assert "举报：" not in sent["text"] and "没有提交过举报" not in sent["text"]
    assert "我们保存的关于你的信息" not in sent["text"]
    api.clear()
    await app.process_update(text_update(app.bot, command))  # in private: answered in full
    assert "私聊" not in api.sent()[0]["text"]


# -- finding 13: refusals say what was refused, unknown commands get a hint ------------------


@pytest.mark.parametrize(
    ("command", "zh", "en"),
    [
        ("/reload", "重新加载", "reload"),
        ("/insights", "提问的统计", "residents' questions"),
        ("/broadcast 假警察来电", "发布预警", "send alerts"),
    ],
)
async def test_admin_refusals_name_what_was_refused(
    admin_app: Application, api: FakeBotApi, command: str, zh: str, en: str
) -> None:
    await admin_app.process_update(text_update(admin_app.bot, command, user_id=9))
    await admin_app.process_update(
        text_update(admin_app.bot, command, user_id=10, language_code="en")
    )
    chinese, english = (m["text"] for m in api.sent())
    assert "只有管理员" in chinese and zh in chinese
    assert "administrators" in english and en in english
    if command != "/broadcast 假警察来电":
        assert "发布预警" not in chinese and "alerts" not in english


async def test_non_admin_subscribe_in_a_group_is_refused_with_a_reason(
    app: Application, api: FakeBotApi
) -> None:
    api.chat_member_status = "member"
    await app.process_update(text_update(app.bot, "/subscribe", **GROUP))
    await app.process_update(text_update(app.bot, "/unsubscribe", **GROUP))
    texts = [m["text"] for m in api.sent()]
    assert len(texts) == 2 and all("只有群管理员" in t and "/subscribe" in t for t in texts)


async def test_guard_in_a_private_chat_says_it_is_for_groups(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/guard on"))
    await app.process_update(text_update(app.bot, "/guard on", language_code="en"))
    chinese, english = (m["text"] for m in api.sent())
    assert "群" in chinese and "/guard on" in chinese
    assert "groups" in english and "/guard on" in english


async def test_unknown_command_gets_a_hint_and_the_menu(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "/foobar"))
    (sent,) = api.sent()
    assert "/foobar" in sent["text"] and "/help" in sent["text"]
    assert "menu:fraud" in _buttons(sent)
    api.clear()
    await app.process_update(text_update(app.bot, "/foobar", language_code="en"))
    assert "I don't know the command /foobar" in api.sent()[0]["text"]


async def test_unknown_commands_in_groups_are_answered_only_when_addressed_to_the_bot(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/foobar@otherbot", **GROUP))
    await app.process_update(text_update(app.bot, "/start@otherbot", **GROUP))
    await app.process_update(text_update(app.bot, "/foobar", **GROUP))  # maybe another bot's
    assert api.sent() == []
    await app.process_update(text_update(app.bot, "/foobar@antifraud_test_bot", **GROUP))
    (sent,) = api.sent()
    assert "/foobar" in sent["text"] and "menu:fraud" in _buttons(sent)


# -- finding 14: /lang with an argument, and what the switch means ---------------------------


@pytest.mark.parametrize("argument", ["en", "EN", "En"])
async def test_lang_with_a_code_switches_at_once(
    app: Application, api: FakeBotApi, argument: str
) -> None:
    await app.process_update(text_update(app.bot, f"/lang {argument}"))
    (sent,) = api.sent()
    assert "OK" in sent["text"] and "lang:en" not in _buttons(sent)
    assert app.bot_data[handlers.STORE].get_language(1001) == "en"
    api.clear()
    await app.process_update(text_update(app.bot, "/tips"))
    assert "scam" in api.sent()[0]["text"]


async def test_lang_with_an_unknown_code_names_it_and_offers_the_choice(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/lang xx"))
    (sent,) = api.sent()
    assert "xx" in sent["text"] and "不是我认识的语言" in sent["text"]
    assert {"lang:zh", "lang:en"} <= set(_buttons(sent))
    assert app.bot_data[handlers.STORE].get_language(1001) is None


async def test_the_language_confirmation_says_what_the_bot_then_does(
    app: Application, api: FakeBotApi
) -> None:
    # The rule: the choice is for menus, buttons and commands; a question is answered in the
    # language it is written in. The confirmation must say so, and the bot must do it.
    await app.process_update(callback_update(app.bot, "lang:en"))
    confirmation = api.sent()[0]["text"]
    assert "menus and buttons" in confirmation and "language you write" in confirmation
    api.clear()
    await app.process_update(text_update(app.bot, "被骗了怎么办"))
    assert "110" in api.sent()[0]["text"] and "报警" in api.sent()[0]["text"]
    api.clear()
    await app.process_update(text_update(app.bot, "/start"))
    assert "Hello" in api.sent()[0]["text"]


def _chat(script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return result.stdout


async def test_offline_chat_lang_codes_follow_the_same_rule() -> None:
    out = _chat("/lang xx\n/lang EN\n被骗了怎么办\n/tips\n/quit\n")
    unknown = out.index("“xx”不是我认识的语言")
    switched = out.index("OK, menus and buttons are in English", unknown)
    assert "[2] English" in out[unknown:switched]  # the choice, offered with the named code
    assert "language you write" in out[switched:]
    victim = out.index("报警", switched)  # written in Chinese: answered in Chinese
    assert "scam" in out[victim:]  # /tips has no words to go by: the chosen language


# -- finding 15: the group guard reads edits, and warns once per message ---------------------


def _group_message(text: str, message_id: int, edited: bool) -> Any:
    chat = chat_dict(GROUP["chat_id"], GROUP["chat_type"])
    message = text_message(text, user_dict(7), chat)
    message["message_id"] = message_id
    if edited:
        message["edit_date"] = message["date"] + 1
    return {"edited_message" if edited else "message": message}


async def test_a_message_edited_into_a_scam_is_warned_about_once(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(update_from(_group_message("明天几点集合？", 9001, False), app.bot))
    assert api.sent() == []
    await app.process_update(update_from(_group_message(SCAM, 9001, True), app.bot))
    (warning,) = api.sent()
    assert "提醒大家" in warning["text"]
    assert warning["reply_parameters"]["message_id"] == 9001
    # A typo fixed in the same message: already warned, not warned again.
    await app.process_update(update_from(_group_message(SCAM + "。", 9001, True), app.bot))
    assert len(api.sent()) == 1


async def test_an_edit_of_a_message_warned_when_sent_is_not_warned_again(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(update_from(_group_message(SCAM, 9002, False), app.bot))
    await app.process_update(update_from(_group_message(SCAM + "！", 9002, True), app.bot))
    assert len(api.sent()) == 1


# -- finding 16 (captions): a photo's caption is read as text --------------------------------


def _photo(caption: str | None) -> Any:
    content: dict[str, Any] = dict(media_content("photo"))
    if caption is not None:
        content["caption"] = caption
    return {"message": message_dict(user_dict(1001), chat_dict(1001), **content)}


async def test_a_photo_with_a_scam_caption_gets_the_scam_check(
    app: Application, api: FakeBotApi
) -> None:
    police = (
        "【XX公安局】您涉嫌一起洗钱案，请立即将资金转入安全账户配合调查，否则将冻结您名下所有账户"
    )
    await app.process_update(update_from(_photo(police), app.bot))
    (sent,) = api.sent()
    assert "高风险" in sent["text"] and "只能看懂文字" not in sent["text"]


async def test_a_photo_with_a_question_caption_is_answered_and_without_one_gets_the_hint(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(update_from(_photo("要戴头盔吗"), app.bot))
    assert "头盔" in api.sent()[0]["text"]
    api.clear()
    await app.process_update(update_from(_photo(None), app.bot))
    (hint,) = api.sent()  # image checking is off here: report it, or send the text
    assert "读不了" in hint["text"] and "110" in hint["text"]
    assert "intent:helmet.report" in str(hint["reply_markup"])


# -- finding 7: the audit log names ids, and still masks what residents type -----------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The logging `antifraud-bot run` sets up, written to a buffer; undone afterwards."""
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("INFO", [TEST_TOKEN], stream=stream)
    yield stream
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_refusals_name_the_user_id_while_resident_numbers_stay_masked(
    admin_app: Application,
    api: FakeBotApi,
    log_stream: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long_id = 5123456789  # ten digits, as many Telegram ids now are
    await admin_app.process_update(text_update(admin_app.bot, "/broadcast 测试", user_id=long_id))

    def echoing_failure(state: Any, turn: Any, now: float) -> None:  # an error quoting them
        raise RuntimeError(f"could not answer {turn.text!r}")

    monkeypatch.setattr(admin_app.bot_data[handlers.RESPONDER], "converse", echoing_failure)
    typed = "我的卡号6222021234567890123，手机13812345678"
    await admin_app.process_update(text_update(admin_app.bot, typed, user_id=long_id))
    logged = log_stream.getvalue()
    assert f"refused /broadcast from non-admin user {long_id}" in logged
    assert "RuntimeError" in logged and "could not answer" in logged
    assert "6222021234567890123" not in logged and "13812345678" not in logged
    assert "[CARD]" in logged and "[PHONE]" in logged
    assert TEST_TOKEN not in logged


async def test_flood_control_log_names_the_user_id(
    app: Application, api: FakeBotApi, log_stream: io.StringIO
) -> None:
    long_id = 6123456789  # an id the card-number rule would otherwise swallow
    app.bot_data[flow.FLOOD_GUARD] = flow.FloodGuard(limit=1, window=60, clock=lambda: 1000.0)
    for _ in range(3):
        await app.process_update(text_update(app.bot, "被骗了怎么办", user_id=long_id))
    assert f"flood control: user {long_id} is over the limit" in log_stream.getvalue()
