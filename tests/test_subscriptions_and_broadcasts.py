"""Subscriptions and admin broadcasts through the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.broadcast.alerts import Alert
from bot.telegram import admin, broadcasts, subscriptions

ADMIN = 42


@pytest.fixture
def admin_app(app: Application, tmp_path: Path) -> Application:
    settings = app.bot_data[admin.SETTINGS]
    app.bot_data[admin.SETTINGS] = replace(
        settings, admins=frozenset({ADMIN}), alerts_dir=tmp_path, broadcast_rate=1000.0
    )
    return app


def _buttons(params: dict) -> dict[str, str]:
    markup = params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _finish_broadcasts(app: Application) -> None:
    await asyncio.gather(*app.bot_data.get(broadcasts.TASKS, []))


async def test_subscribe_choose_topics_and_area_then_forget(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/subscribe", user_id=7))
    status = api.sent()[-1]
    assert "已为你订阅" in status["text"] and "诈骗预警、交通安全、治安提醒" in status["text"]
    buttons = _buttons(status)
    await app.process_update(callback_update(app.bot, buttons["✅ 交通安全"], user_id=7))
    assert "交通安全" not in api.sent()[-1]["text"].split("\n")[0]
    await app.process_update(callback_update(app.bot, "sub:areas", user_id=7))
    counties = _buttons(api.sent()[-1])  # a county first: 20 townships do not fit a phone
    assert set(counties) == {"全部乡镇", "保亭的乡镇 ›", "琼中的乡镇 ›"}
    await app.process_update(callback_update(app.bot, counties["琼中的乡镇 ›"], user_id=7))
    first = _buttons(api.sent()[-1])
    assert len(first) <= 8 and "更多乡镇 ›" in first and "‹ 返回" in first
    await app.process_update(callback_update(app.bot, first["更多乡镇 ›"], user_id=7))
    assert "琼中·黎母山镇" in {**first, **_buttons(api.sent()[-1])}
    await app.process_update(callback_update(app.bot, "sub:area:qz.limushan", user_id=7))
    assert "琼中·黎母山镇" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "/mysettings", user_id=7))
    assert "诈骗预警、治安提醒; 琼中·黎母山镇" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "/forget", user_id=7))
    assert "已删除" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "/mysettings", user_id=7))
    assert "未订阅" in api.sent()[-1]["text"]


async def test_unsubscribe_and_the_intent(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "我想订阅反诈预警", user_id=8))
    assert "已为你订阅" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "/unsubscribe", user_id=8))
    assert "已退订" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "/unsubscribe", user_id=8))
    assert "还没有订阅" in api.sent()[-1]["text"]


async def test_in_a_group_only_its_admins_manage_the_subscription(
    app: Application, api: FakeBotApi
) -> None:
    api.chat_member_status = "member"
    await app.process_update(text_update(app.bot, "/subscribe", chat_id=-500, chat_type="group"))
    (refusal,) = api.sent()  # refused, and told why, not left in silence
    assert "只有群管理员可以为本群订阅" in refusal["text"]
    assert app.bot_data[subscriptions.SUBSCRIPTIONS].get(-500) is None
    api.chat_member_status = "administrator"
    await app.process_update(text_update(app.bot, "/subscribe", chat_id=-500, chat_type="group"))
    assert "已为你订阅" in api.sent()[-1]["text"]


async def test_non_admin_is_refused_and_logged(
    admin_app: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await admin_app.process_update(
            text_update(admin_app.bot, "/broadcast 假警察来电", user_id=9)
        )
        # Forged callback data: a client can send any button payload it likes.
        await admin_app.process_update(callback_update(admin_app.bot, "bc:send:quick-1", user_id=9))
    assert [m["text"] for m in api.sent()] == ["抱歉，只有管理员可以发布预警。"] * 2
    assert sum("non-admin user 9" in r.getMessage() for r in caplog.records) == 2
    assert admin_app.bot_data[broadcasts.OUTBOX].unfinished() == []


async def test_admin_previews_confirms_and_gets_a_report(
    admin_app: Application, api: FakeBotApi
) -> None:
    for user_id, lang in ((101, "zh-hans"), (102, "en"), (103, "zh-hans")):
        await admin_app.process_update(
            text_update(admin_app.bot, "/subscribe", user_id=user_id, language_code=lang)
        )
    api.clear()
    await admin_app.process_update(
        text_update(admin_app.bot, "/broadcast 冒充客服退款骗局高发\n请勿共享屏幕", user_id=ADMIN)
    )
    preview = api.sent()[-1]
    assert "3 位订阅者" in preview["text"] and "⚠️ 冒充客服退款骗局高发" in preview["text"]
    confirm = _buttons(preview)["✅ 确认发送"]
    await admin_app.process_update(callback_update(admin_app.bot, confirm, user_id=ADMIN))
    assert "开始发送" in api.sent()[-1]["text"]
    await _finish_broadcasts(admin_app)
    delivered = {int(m["chat_id"]) for m in api.sent() if m["text"].startswith("⚠️")}
    assert delivered == {101, 102, 103}
    report = api.sent()[-1]
    assert int(report["chat_id"]) == ADMIN and "成功 3" in report["text"]
    # Pressing confirm again (or a replayed button) sends nothing twice.
    api.clear()
    await admin_app.process_update(callback_update(admin_app.bot, confirm, user_id=ADMIN))
    await _finish_broadcasts(admin_app)
    assert not [m for m in api.sent() if m["text"].startswith("⚠️")]


async def test_alert_file_targets_topic_area_and_language(
    admin_app: Application, api: FakeBotApi, tmp_path: Path
) -> None:
    (tmp_path / "limushan.yaml").write_text(
        "version: 1\nid: limushan-2026-11\ntopics: [fraud]\nareas: [qz.limushan]\n"
        "title: {zh: 黎母山镇诈骗预警, en: Limushan scam warning}\n"
        "body: {zh: 近期有人冒充军人采购。, en: Fake army buyers are calling shops.}\n",
        encoding="utf-8",
    )
    subscribers = {
        201: ("zh-hans", "qz.limushan"),
        202: ("en", "qz.limushan"),
        203: ("zh-hans", "bt.jiamao"),
        204: ("zh-hans", None),
    }
    for user_id, (lang, area) in subscribers.items():
        await admin_app.process_update(
            text_update(admin_app.bot, "/subscribe", user_id=user_id, language_code=lang)
        )
        if area:
            await admin_app.process_update(
                callback_update(admin_app.bot, f"sub:area:{area}", user_id=user_id)
            )
    api.clear()
    await admin_app.process_update(text_update(admin_app.bot, "/broadcast", user_id=ADMIN))
    choice = _buttons(api.sent()[-1])
    (preview_data,) = choice.values()
    await admin_app.process_update(callback_update(admin_app.bot, preview_data, user_id=ADMIN))
    assert "3 位订阅者" in api.sent()[-1]["text"]
    await admin_app.process_update(
        callback_update(admin_app.bot, "bc:send:limushan-2026-11", user_id=ADMIN)
    )
    await _finish_broadcasts(admin_app)
    texts = {int(m["chat_id"]): m["text"] for m in api.sent() if m["text"].startswith("⚠️")}
    assert set(texts) == {201, 202, 204}
    assert "Limushan scam warning" in texts[202] and "黎母山镇诈骗预警" in texts[201]


async def test_unfinished_broadcast_resumes_at_start_up(
    admin_app: Application, api: FakeBotApi
) -> None:
    for user_id in (301, 302):
        await admin_app.process_update(text_update(admin_app.bot, "/subscribe", user_id=user_id))
    alert = Alert(
        "left-over", {"zh": "标题", "en": "Title"}, {"zh": "正文", "en": "Body"}, ("fraud",)
    )
    admin_app.bot_data[broadcasts.OUTBOX].enqueue(alert)  # queued, then the process "died"
    api.clear()
    assert admin_app.post_init is not None
    await admin_app.post_init(admin_app)
    await _finish_broadcasts(admin_app)
    assert {int(m["chat_id"]) for m in api.sent() if m.get("text", "").startswith("⚠️")} == {
        301,
        302,
    }
