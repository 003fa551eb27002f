"""Residents' suggestions through the real Application and the fake Bot API: queued while the
suggestions chat is unreachable and delivered after (also after a restart), the officer's
reply reaching the resident, /forget, the daily limit kept through /forget, forged buttons,
retention. tests/conversations/suggestion_*.yaml cover what residents and officers see."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import BOT_USER, FakeBotApi
from bot.authoring.fake_updates import (
    callback_update,
    chat_dict,
    media_content,
    message_dict,
    text_message,
    update_from,
    user_dict,
)
from bot.authoring.fake_updates import text_update as _text_update
from bot.config import ConfigError, Settings
from bot.core.responder import Responder
from bot.store.database import Database
from bot.store.suggestions import SqliteSuggestionStore
from bot.telegram import suggestions
from bot.telegram.app import build_application
from bot.telegram.delivery import stop_delivery
from tests.conftest import TEST_TOKEN

BUREAU = -1_002_222_333_444
OFFICER = 77
RESIDENT = 5150


def _settings(**changes: object) -> Settings:
    return Settings(
        token=TEST_TOKEN,
        suggestions_chat=BUREAU,
        reviewers=frozenset({OFFICER}),
        ocr=False,
        **changes,  # type: ignore[arg-type]
    )


async def _started(
    responder: Responder, api: FakeBotApi, database: Database, **changes: object
) -> Application:
    application = build_application(_settings(**changes), responder, database, request=api)
    await application.initialize()
    await application.start()
    return application


async def _stopped(application: Application) -> None:
    await stop_delivery(application, suggestions.DELIVERY)
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def bureau(responder: Responder, api: FakeBotApi) -> AsyncIterator[Application]:
    application = await _started(responder, api, Database(":memory:"))
    yield application
    await _stopped(application)


async def _say(app: Application, text: str, user_id: int = RESIDENT) -> None:
    await app.process_update(_text_update(app.bot, text, user_id=user_id))


def _texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [str(c.params.get("text") or "") for c in api.shown_in(chat_id)]


def _bureau_message(api: FakeBotApi) -> tuple[int, dict[str, str]]:
    call = next(c for c in reversed(api.shown_in(BUREAU)) if "reply_markup" in c.params)
    markup = call.params["reply_markup"]
    buttons = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    return call.result["message_id"], buttons


async def _officer_replies(
    app: Application, message_id: int, text: str, user_id: int = OFFICER
) -> None:
    chat = chat_dict(BUREAU, "supergroup")
    replied = message_dict(BOT_USER, chat, text="💬 …")
    replied["message_id"] = message_id
    message = text_message(text, user_dict(user_id, "王警官"), chat, reply_to_message=replied)
    await app.process_update(update_from({"message": message}, app.bot))


async def _suggest(app: Application, text: str, user_id: int = RESIDENT) -> None:
    await _say(app, f"/suggest {text}", user_id)


async def test_queued_while_the_bureau_chat_is_down_then_delivered_in_order(
    bureau: Application, api: FakeBotApi
) -> None:
    api.fail_chat(BUREAU, 400, "Bad Request: chat not found", times=2)
    await _suggest(bureau, "第一条：村口路灯坏了")
    await _suggest(bureau, "第二条：希望周末办户口", user_id=RESIDENT + 1)
    assert "建议已收到" in _texts(api, RESIDENT)[-1]  # the resident has a reference at once
    store = bureau.bot_data[suggestions.SUGGESTIONS]
    assert [s.delivery for s in store.undelivered()] == ["queued", "queued"]
    assert not any("第一条" in t for t in _texts(api, BUREAU))
    delivery = bureau.bot_data[suggestions.DELIVERY]
    delivery.retry_after = 0.01  # the worker backs off from here
    delivery.start()
    for _ in range(500):
        if not store.undelivered():
            break
        await asyncio.sleep(0.01)
    assert store.undelivered() == []
    shown = [t for t in _texts(api, BUREAU) if "居民建议" in t]
    assert len(shown) == 2 and "第一条" in shown[0] and "第二条" in shown[1]


async def test_queued_suggestions_go_out_after_a_restart(
    responder: Responder, tmp_path: Path
) -> None:
    path = str(tmp_path / "bot.db")
    down = FakeBotApi()
    down.fail_chat(BUREAU, 502, "Bad Gateway", times=1)
    first = await _started(responder, down, Database(path))
    await _suggest(first, "菜市场门口经常堵车")
    await _stopped(first)
    api = FakeBotApi()
    second = await _started(responder, api, Database(path))
    try:
        assert second.post_init is not None
        await second.post_init(second)  # start-up work, as `antifraud-bot run` does it
        for _ in range(200):
            if any("菜市场门口" in t for t in _texts(api, BUREAU)):
                break
            await asyncio.sleep(0.01)
        assert any("菜市场门口" in t for t in _texts(api, BUREAU))
    finally:
        await _stopped(second)


async def test_the_officers_reply_reaches_the_resident_and_is_kept(
    bureau: Application, api: FakeBotApi
) -> None:
    await _suggest(bureau, "学校门口要有人指挥交通，我手机13812345678")
    message_id, buttons = _bureau_message(api)
    assert "[PHONE]" in _texts(api, BUREAU)[-1] and "13812345678" not in _texts(api, BUREAU)[-1]
    await _officer_replies(bureau, message_id, "已安排辅警早晚在校门口值守。")
    assert "已安排辅警" in _texts(api, RESIDENT)[-1]
    assert "已把答复转告居民" in _texts(api, BUREAU)[-1]
    [kept] = bureau.bot_data[suggestions.SUGGESTIONS].for_user(RESIDENT)
    assert kept.status == "answered" and kept.answers[0].officer == "王警官"
    assert "13812345678" not in kept.text
    # Blocked the bot since: the answer is kept, and the officers are told it did not arrive.
    api.fail_chat(RESIDENT, 403, "Forbidden: bot was blocked by the user", times=1)
    await _officer_replies(bureau, message_id, "补充：下周起还有交警。")
    assert "暂时发不到居民那里" in _texts(api, BUREAU)[-1]
    [kept] = bureau.bot_data[suggestions.SUGGESTIONS].for_user(RESIDENT)
    assert len(kept.answers) == 2
    # A forged press from outside the chat, or by someone else, changes nothing.
    await bureau.process_update(callback_update(bureau.bot, buttons["✅ 已解决"], user_id=RESIDENT))
    await bureau.process_update(
        callback_update(bureau.bot, buttons["✅ 已解决"], user_id=123, chat_id=BUREAU)
    )
    await bureau.process_update(
        callback_update(bureau.bot, "sugg:resolved:٣", user_id=OFFICER, chat_id=BUREAU)
    )
    assert bureau.bot_data[suggestions.SUGGESTIONS].for_user(RESIDENT)[0].status == "answered"
    await bureau.process_update(
        callback_update(bureau.bot, buttons["✅ 已解决"], user_id=OFFICER, chat_id=BUREAU)
    )
    assert bureau.bot_data[suggestions.SUGGESTIONS].for_user(RESIDENT)[0].status == "resolved"
    assert "已解决" in _texts(api, RESIDENT)[-1]


async def test_a_sticker_in_reply_is_not_passed_on(bureau: Application, api: FakeBotApi) -> None:
    await _suggest(bureau, "多装路灯")
    message_id, _ = _bureau_message(api)
    api.clear()
    chat = chat_dict(BUREAU, "supergroup")
    replied = message_dict(BOT_USER, chat, text="💬 …")
    replied["message_id"] = message_id
    sticker = message_dict(
        user_dict(OFFICER, "王警官"), chat, reply_to_message=replied, **media_content("sticker")
    )
    await bureau.process_update(update_from({"message": sticker}, bureau.bot))
    assert _texts(api, RESIDENT) == [] and "请用文字回复" in _texts(api, BUREAU)[-1]


async def test_a_reply_from_someone_not_listed_goes_nowhere(
    bureau: Application, api: FakeBotApi
) -> None:
    await _suggest(bureau, "多办反诈讲座")
    message_id, _ = _bureau_message(api)
    api.clear()
    await _officer_replies(bureau, message_id, "好的", user_id=999)
    assert _texts(api, RESIDENT) == [] and "只有名单里的民警" in _texts(api, BUREAU)[-1]


async def test_forget_deletes_suggestions_and_their_messages_but_not_todays_count(
    bureau: Application, api: FakeBotApi
) -> None:
    await _suggest(bureau, "第一条建议")
    message_id, _ = _bureau_message(api)
    await _say(bureau, "/suggest")  # waiting for a second one, too
    await _say(bureau, "/forget")
    assert "建议" in _texts(api, RESIDENT)[-1]
    store: SqliteSuggestionStore = bureau.bot_data[suggestions.SUGGESTIONS]
    assert store.for_user(RESIDENT) == [] and not store.is_waiting(RESIDENT, time.time())
    deleted = [c.params for c in api.calls if c.method == "deleteMessage"]
    assert {"chat_id": BUREAU, "message_id": message_id} in [
        {"chat_id": int(p["chat_id"]), "message_id": int(p["message_id"])} for p in deleted
    ]
    # The officer's later reply to the deleted suggestion reaches no one.
    api.clear()
    await _officer_replies(bureau, message_id, "收到")
    assert _texts(api, RESIDENT) == []
    # Forgetting does not reset today's limit.
    for n in range(2):
        await _suggest(bureau, f"又一条 {n}")
    await _suggest(bureau, "超出")
    assert "每人每天最多提 3 条建议" in _texts(api, RESIDENT)[-1]


async def test_forget_after_48_hours_asks_the_officers_to_delete_by_hand(
    bureau: Application, api: FakeBotApi
) -> None:
    await _suggest(bureau, "路口加个减速带")
    api.fail_next("deleteMessage", "http", 400, "Bad Request: message can't be deleted")
    await _say(bureau, "/forget")
    assert any("请手动删除" in t for t in _texts(api, BUREAU))


async def test_without_a_suggestions_chat_the_bot_says_so(
    responder: Responder, api: FakeBotApi
) -> None:
    app = build_application(
        Settings(token=TEST_TOKEN, ocr=False), responder, Database(":memory:"), request=api
    )
    async with app:
        await _say(app, "/suggest 多装路灯")
        assert "目前还不能通过我提建议" in _texts(api, RESIDENT)[-1]
        await _say(app, "我有个建议")
        last = api.sent()[-1]
        assert "亲加奔" in last["text"] and "写下我的建议" not in str(last.get("reply_markup"))


async def test_a_message_telegram_refuses_for_good_is_set_aside_not_blocking(
    bureau: Application, api: FakeBotApi
) -> None:
    api.fail_chat(BUREAU, 400, "Bad Request: message is too long", times=1)
    await _suggest(bureau, "第一条")
    await _suggest(bureau, "第二条")
    store = bureau.bot_data[suggestions.SUGGESTIONS]
    assert store.undelivered() == []
    states = {s.text: s.delivery for s in (*store.for_user(RESIDENT),)}
    assert states == {"第一条": "refused", "第二条": "delivered"}


def test_retention_never_purges_a_queued_suggestion() -> None:
    store = SqliteSuggestionStore(Database(":memory:"))
    queued = store.submit(1, 1, "zh", "还在排队", now=1000.0)
    sent = store.submit(2, 2, "zh", "已送达", now=1000.0)
    store.delivered(sent.id, 55)
    store.answer(sent.id, "答复", "王警官", 1001.0)
    assert store.purge(before=2000.0, now=3000.0) == 1
    assert store.get(queued.id) is not None and store.get(sent.id) is None


def test_settings_for_suggestions_are_checked() -> None:
    with pytest.raises(ConfigError, match="ANTIFRAUD_SUGGESTIONS_CHAT"):
        Settings.from_env({"ANTIFRAUD_SUGGESTIONS_CHAT": "the bureau"})
    with pytest.raises(ConfigError, match="ANTIFRAUD_SUGGESTION_DAILY_LIMIT"):
        Settings.from_env({"ANTIFRAUD_SUGGESTION_DAILY_LIMIT": "0"})
    settings = Settings.from_env({"ANTIFRAUD_SUGGESTIONS_CHAT": "-100123"})
    assert settings.suggestions_chat == -100123
    assert any("ANTIFRAUD_SUGGESTIONS_CHAT" in w for w in settings.warnings())


async def test_wrong_kinds_of_message_while_waiting(bureau: Application, api: FakeBotApi) -> None:
    await _say(bureau, "/suggest")
    for kind in ("sticker", "voice", "location"):
        message = message_dict(user_dict(RESIDENT), chat_dict(RESIDENT), **media_content(kind))
        await bureau.process_update(update_from({"message": message}, bureau.bot))
        assert "请用文字写下你的建议" in _texts(api, RESIDENT)[-1]
    await _say(bureau, "   \u200b  ")
    assert "请用文字写下你的建议" in _texts(api, RESIDENT)[-1]
    await _say(bureau, "终于写好了")
    assert "建议已收到" in _texts(api, RESIDENT)[-1]
