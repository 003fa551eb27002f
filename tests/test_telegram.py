"""The real python-telegram-bot Application, driven offline through the fake Bot API."""

from __future__ import annotations

import logging

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, sticker_update, text_update
from bot.telegram import handlers

pytestmark = pytest.mark.asyncio


def _buttons(params: dict) -> list[tuple[str, str]]:
    markup = params.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


async def test_start_greets_and_offers_the_topic_menu(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "/start"))
    (sent,) = api.sent()
    assert "反诈" in sent["text"] and "110" in sent["text"]
    actions = [a for _, a in _buttons(sent)]
    assert actions[:3] == ["menu:fraud", "menu:traffic", "menu:safety"]


async def test_english_app_gets_english_start(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "/start", language_code="en"))
    assert "Hello" in api.sent()[0]["text"]


async def test_chinese_free_text(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "有人让我把钱转到安全账户，说我涉嫌洗钱"))
    (sent,) = api.sent()
    assert "安全账户" in sent["text"] and "96110" in sent["text"]
    assert ("☰ 菜单", "menu:main") in _buttons(sent)


async def test_english_free_text_is_answered_in_english(app: Application, api: FakeBotApi) -> None:
    # The resident's app is in Chinese, but they wrote English: answer in English.
    await app.process_update(text_update(app.bot, "do I need a helmet on the back of an e-bike"))
    (sent,) = api.sent()
    assert "helmet" in sent["text"] and "头盔" not in sent["text"]


async def test_figures_carry_their_sources(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "头盔佩戴率现在是多少"))
    text = api.sent()[0]["text"]
    assert "51803 起[1]" in text
    assert "数据来源：" in text and "[1] 保亭县公安局" in text


async def test_button_press_answers_the_query_and_the_topic(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(callback_update(app.bot, "intent:fraud.victim"))
    assert [c.method for c in api.calls] == ["answerCallbackQuery", "sendMessage"]
    assert "110" in api.sent()[0]["text"]


async def test_menu_button_opens_a_sub_menu(app: Application, api: FakeBotApi) -> None:
    await app.process_update(callback_update(app.bot, "menu:traffic"))
    actions = [a for _, a in _buttons(api.sent()[0])]
    assert "intent:helmet.rules" in actions and "menu:main" in actions


async def test_did_you_mean_then_choosing(app: Application, api: FakeBotApi) -> None:
    # Below the answer threshold but plausible: the bot asks instead of guessing.
    # "安全" alone could be about fake police and "safe accounts", road safety or the crime
    # figures.
    await app.process_update(text_update(app.bot, "安全"))
    sent = api.sent()[0]
    choices = [a for _, a in _buttons(sent) if a.startswith("intent:")]
    assert "是下面这些吗" in sent["text"]
    assert {"intent:fraud.police_impersonation", "intent:helmet.rules"} <= set(choices)
    api.clear()
    await app.process_update(callback_update(app.bot, "intent:fraud.police_impersonation"))
    assert "安全账户" in api.sent()[0]["text"]


async def test_out_of_scope_falls_back_with_hotlines_and_menu(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "今天天气怎么样"))
    sent = api.sent()[0]
    assert "110" in sent["text"] and "96110" in sent["text"]
    assert ("🛡 防诈骗", "menu:fraud") in _buttons(sent)


async def test_sticker_gets_a_polite_hint(app: Application, api: FakeBotApi) -> None:
    await app.process_update(sticker_update(app.bot))
    (sent,) = api.sent()
    assert "文字" in sent["text"]


async def test_lang_switch_is_remembered(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "/lang"))
    assert ("English", "lang:en") in _buttons(api.sent()[0])
    await app.process_update(callback_update(app.bot, "lang:en"))
    api.clear()
    await app.process_update(text_update(app.bot, "/tips"))  # a command has no text to detect
    assert "scam" in api.sent()[0]["text"]


async def test_forged_callback_data_gets_the_menu_not_a_crash(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(callback_update(app.bot, "intent:../../etc/passwd"))
    assert api.calls[0].method == "answerCallbackQuery"
    assert "menu:fraud" in [a for _, a in _buttons(api.sent()[0])]


async def test_group_chatter_is_ignored_but_mentions_are_answered(
    app: Application, api: FakeBotApi
) -> None:
    group = {"chat_id": -100123, "chat_type": "supergroup"}
    await app.process_update(text_update(app.bot, "今晚谁去吃饭", **group))
    await app.process_update(text_update(app.bot, "刷单返利靠谱吗", **group))
    assert api.sent() == []
    await app.process_update(text_update(app.bot, "@antifraud_test_bot 刷单返利靠谱吗", **group))
    await app.process_update(text_update(app.bot, "要戴头盔吗", reply_to_bot=True, **group))
    sent = api.sent()
    assert len(sent) == 2
    assert "刷单" in sent[0]["text"] and "头盔" in sent[1]["text"]
    await app.process_update(sticker_update(app.bot, chat_type="group"))
    assert len(api.sent()) == 2  # no hint for stickers in groups


async def test_commands_are_registered_in_both_languages(app: Application, api: FakeBotApi) -> None:
    assert app.post_init is not None
    await app.post_init(app)
    calls = api.sent("setMyCommands")
    languages = {c.get("language_code") for c in calls}
    assert {"zh", "en", None} <= languages
    english = next(c for c in calls if c.get("language_code") == "en")
    names = {c["command"] for c in english["commands"]}
    assert {"start", "help", "tips", "stats", "lang", "subscribe", "forget"} <= names
    assert "broadcast" not in names
    chinese = next(c for c in calls if c.get("language_code") == "zh")
    report = next(c["description"] for c in chinese["commands"] if c["command"] == "report")
    assert "随手拍" not in report  # Baoting's own scheme, not the bot's channel (content/ui.yaml)


async def test_error_path_logs_and_still_replies(
    app: Application,
    api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    responder = app.bot_data[handlers.RESPONDER]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("matcher exploded")

    monkeypatch.setattr(responder, "converse", broken)
    with caplog.at_level(logging.ERROR):
        await app.process_update(text_update(app.bot, "有人让我转账"))
    assert "抱歉" in api.sent()[0]["text"]
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)


async def test_error_reply_failing_too_does_not_crash(
    app: Application, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    responder = app.bot_data[handlers.RESPONDER]
    monkeypatch.setattr(responder, "converse", lambda *a, **k: 1 / 0)
    for _ in range(3):  # every retry of the error reply fails too
        api.fail_next("sendMessage", kind="network")
    await app.process_update(text_update(app.bot, "你好"))  # must not raise
    assert api.sent() == []


async def test_edited_messages_are_not_answered_twice(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "你好", edited=True))
    assert api.sent() == []
