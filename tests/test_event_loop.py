"""No database query and no matching runs on the event loop (issue 18; matching since issue 14's
sentence model): tests/loop_guard.py fails any test whose updates make one; here it is shown
to fire, a slow model read is shown to hold up no other chat, and the real Application is
driven through the fake Bot API over every kind of flow, startup and stop included, on both
backends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.authoring.fake_api import BOT_USER, FakeBotApi
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
from bot.config import Settings
from bot.content.model import Content
from bot.core.responder import Responder
from bot.store.database import Database
from bot.store.preferences import SqlitePreferenceStore
from bot.telegram import broadcasts, handlers
from bot.telegram.app import build_application
from tests import loop_guard
from tests.conftest import ROOT, TEST_TOKEN
from tests.fake_encoders import CountingEncoder
from tests.loop_guard import BlockingCallOnEventLoop, watching

RESIDENT, OFFICER, ADMIN = 5150, 77, 4242
REVIEW_CHAT, BUREAU, GROUP = -1_001_000_000_001, -1_001_000_000_002, -1_001_000_000_003


# -- the guard fires --------------------------------------------------------------------------


async def test_the_guard_refuses_a_query_made_on_the_event_loop() -> None:
    store = SqlitePreferenceStore(Database(":memory:"))
    with watching():
        with pytest.raises(BlockingCallOnEventLoop, match=r"SqliteDatabase\.execute"):
            store.get_language(RESIDENT)
        assert await asyncio.to_thread(store.get_language, RESIDENT) is None  # in a thread: fine
    assert len(loop_guard.violations) == 1
    loop_guard.violations.clear()  # shown; this test is not to fail for it
    store.get_language(RESIDENT)  # the test's own coroutine, unwatched: setting up is allowed


async def test_a_handler_querying_on_the_loop_is_caught_though_ptb_swallows_it(
    app: Application, api: FakeBotApi
) -> None:
    async def forgets_the_thread(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        context.bot_data[handlers.STORE].get_language(RESIDENT)  # on the loop: a bug

    app.add_handler(TypeHandler(Update, forgets_the_thread), group=-3)
    await app.process_update(text_update(app.bot, "你好", user_id=RESIDENT))
    # PTB's error handler took the exception (the resident was told something went wrong);
    # the guard recorded it, so the hook in tests/conftest.py would fail this test.
    found, loop_guard.violations[:] = list(loop_guard.violations), []
    assert len(found) == 1 and "forgets_the_thread" in found[0]


async def test_the_guard_refuses_matching_on_the_event_loop(responder: Responder) -> None:
    with watching():
        with pytest.raises(BlockingCallOnEventLoop, match=r"Matcher\.match"):
            responder.match("被骗了怎么办")
        with pytest.raises(BlockingCallOnEventLoop, match=r"ScamChecker\.check"):
            responder.checker.check("您的快递丢失，请点击链接办理理赔")
        assert (await asyncio.to_thread(responder.match, "被骗了怎么办")).intent
    assert len(loop_guard.violations) == 2
    loop_guard.violations.clear()  # shown; this test is not to fail for it


HOLD = "HOLDME"


class HeldEncoder(CountingEncoder):
    """A text with HOLD (in no example) is read only once `release` is set (or after 10 s, so
    a broken bot fails the test instead of hanging it)."""

    name = "held-test-encoder/1"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.holding = threading.Event()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if any(HOLD in t for t in texts):
            self.holding.set()
            self.release.wait(timeout=10)
        return super().encode(texts)


async def test_a_slow_model_read_holds_up_no_other_chat(content: Content) -> None:
    encoder = HeldEncoder()
    responder = Responder(content, encoder=encoder)
    api = FakeBotApi()
    settings = Settings(token=TEST_TOKEN, ocr=False)
    app = build_application(settings, responder, Database(":memory:"), request=api)
    slow_chat, quick_chat = 61, 62
    story = f"我{HOLD}跟你讲一下昨天在村口遇到的一件怪事，你帮我想想"  # long: the model is asked
    async with app:
        await app.start()
        api.clear()
        await app.update_queue.put(text_update(app.bot, story, user_id=slow_chat))
        assert not encoder.holding.is_set()  # no example was held
        assert await asyncio.to_thread(encoder.holding.wait, 10)
        await app.update_queue.put(text_update(app.bot, "谢谢", user_id=quick_chat))
        for _ in range(500):  # up to 10 s, for a loaded machine
            if api.sent():
                break
            await asyncio.sleep(0.02)
        answered_while_held = [int(m["chat_id"]) for m in api.sent()]
        encoder.release.set()
        for _ in range(500):  # up to 10 s, for a loaded machine
            if len(api.sent()) >= 2:
                break
            await asyncio.sleep(0.02)
        await app.stop()
    assert answered_while_held and set(answered_while_held) == {quick_chat}
    first_to = list(dict.fromkeys(int(m["chat_id"]) for m in api.sent()))
    assert first_to == [quick_chat, slow_chat]  # the held chat was answered too, afterwards


# -- every flow, watched ------------------------------------------------------------------------


def _settings(alerts: Path) -> Settings:
    return Settings(
        token=TEST_TOKEN,
        admins=frozenset({ADMIN}),
        review_chat=REVIEW_CHAT,
        reviewers=frozenset({OFFICER}),
        suggestions_chat=BUREAU,
        alerts_dir=alerts,
        broadcast_rate=1000.0,
        flood_messages=1000,  # one resident walks through everything here
        ocr=False,
    )


class Resident:
    """Updates from one person, through Application.process_update (which the guard watches)."""

    def __init__(self, app: Application, user_id: int) -> None:
        self.app, self.user_id = app, user_id

    async def say(self, text: str, **where: object) -> None:
        update = text_update(self.app.bot, text, user_id=self.user_id, **where)  # type: ignore[arg-type]
        await self.app.process_update(update)

    async def press(self, data: str, **where: object) -> None:
        update = callback_update(self.app.bot, data, user_id=self.user_id, **where)  # type: ignore[arg-type]
        await self.app.process_update(update)

    async def send(self, kind: str) -> None:
        content = media_content(kind)
        message = message_dict(user_dict(self.user_id), chat_dict(self.user_id), **content)
        await self.app.process_update(update_from({"message": message}, self.app.bot))

    async def forward(self, text: str) -> None:
        message = text_message(text, user_dict(self.user_id), chat_dict(self.user_id))
        message["forward_origin"] = {
            "type": "hidden_user",
            "sender_user_name": "客服",
            "date": message["date"],
        }
        await self.app.process_update(update_from({"message": message}, self.app.bot))

    async def reply_in(self, chat_id: int, message_id: int, text: str) -> None:
        chat = chat_dict(chat_id, "supergroup")
        replied = message_dict(BOT_USER, chat, text="💬 …")
        replied["message_id"] = message_id
        message = text_message(
            text, user_dict(self.user_id, "王警官"), chat, reply_to_message=replied
        )
        await self.app.process_update(update_from({"message": message}, self.app.bot))


def _button(api: FakeBotApi, chat_id: int, wanted: str) -> tuple[int, str]:
    """The latest button in the chat whose text is `wanted` or whose data starts with it:
    (its message's id, its data)."""
    for call in reversed(api.shown_in(chat_id)):
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            data = button.get("callback_data") or ""
            if button["text"] == wanted or data.startswith(wanted):
                return call.result["message_id"], data
    raise AssertionError(f"no button {wanted!r} in chat {chat_id}")


def _texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [str(c.params.get("text") or "") for c in api.shown_in(chat_id)]


async def test_no_flow_queries_on_the_event_loop(
    responder: Responder, api: FakeBotApi, database: Database, tmp_path: Path
) -> None:
    (tmp_path / "alert.yaml").write_text(
        (ROOT / "alerts" / "example-fake-refund.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    app = build_application(_settings(tmp_path), responder, database, request=api)
    with watching():  # the startup hooks: resumed broadcasts, delivery workers
        await app.initialize()
        await app.start()
        assert app.post_init is not None
        await app.post_init(app)
    resident, officer, admin = (Resident(app, i) for i in (RESIDENT, OFFICER, ADMIN))

    # Questions, commands, settings, language, feedback.
    await resident.say("/start")
    await resident.say("有人自称公安让我把钱转到安全账户")
    await resident.say("/lang en")
    await resident.press("lang:zh")
    await resident.press("menu:main")
    await resident.say("/tips")
    await resident.say("/nosuchcommand")
    await resident.send("sticker")
    await resident.press(_button(api, RESIDENT, "fb:up:")[1])
    await resident.say("/start qz-orange-box")  # a campaign link

    # Subscriptions: subscribe, a township, a topic, an audience, by words, unsubscribe.
    await resident.say("/subscribe")
    await resident.press("sub:areas")
    await resident.press("sub:area:qz.limushan")
    await resident.press("sub:topic:traffic")
    await resident.press("sub:audiences")
    await resident.say("/mysettings")
    await resident.say("怎么取消订阅")
    await resident.press("sub:keep")

    # The scam check: /check, a forward, a pasted message.
    await resident.say("/check 您的账户异常，请点击 http://abc-bank.xyz 验证")
    await resident.forward("我是客服，您的快递丢失，加微信退款")
    await resident.say("【快递理赔】您的包裹丢失，点击 http://kd-lp.top 申请双倍赔偿")

    # A citizen report: consent, the draft at every step, the daily quota, the delivery.
    await resident.say("/report")
    await resident.press("report:agree")
    await resident.press("report:kind:helmet")
    await resident.send("photo")
    await resident.press("report:done")
    await resident.send("location")
    await resident.press("report:now")
    await resident.say("两个人骑车都没戴头盔")
    await resident.press("report:submit")
    await resident.say("/myreports")
    await officer.say("/pending", chat_id=REVIEW_CHAT, chat_type="supergroup")
    summary, accept = _button(api, REVIEW_CHAT, "✅ 受理")
    await officer.press(accept, chat_id=REVIEW_CHAT, message_id=summary)
    await resident.say("/report")
    await resident.say("/cancel")

    # A suggestion: asked for, written, delivered, answered, decided.
    await resident.say("/suggest")
    await resident.say("希望村口多装几个路灯")
    await resident.say("/mysuggestions")
    bureau_message, resolved = _button(api, BUREAU, "sugg:resolved")
    await officer.reply_in(BUREAU, bureau_message, "已转交镇政府，谢谢")
    await officer.press(resolved, chat_id=BUREAU, message_id=bureau_message)
    await resident.say("/suggest")
    await resident.say("/cancel")

    # A group: the guard turned on, a scam warned about.
    api.chat_member_status = "administrator"
    await officer.say("/guard on", chat_id=GROUP, chat_type="group")
    await resident.say(
        "兼职刷单日结，先垫付本金做任务返佣金，加微信", chat_id=GROUP, chat_type="group"
    )

    # Administrators: a typed broadcast, the alert file's, /insights, /reload.
    await admin.say("/broadcast 冒充客服退款骗局高发\n请勿共享屏幕")
    await admin.press(_button(api, ADMIN, "bc:send:quick-")[1])
    await admin.say("/broadcast")
    await admin.press(_button(api, ADMIN, "bc:preview:")[1])
    await admin.press(_button(api, ADMIN, "bc:send:example-fake-refund")[1])
    await asyncio.gather(*app.bot_data.get(broadcasts.TASKS, []))
    sent = database.execute("SELECT alert_id FROM outbox WHERE status = 'sent'").fetchall()
    await admin.say("/insights")
    await admin.say("/reload")

    await resident.say("/forget")
    with watching():  # the stop hooks: senders, delivery workers
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
        await app.shutdown()

    assert loop_guard.violations == []
    # The flows did run (a guard that refused them all would leave the chats silent).
    assert any("已被民警受理" in t for t in _texts(api, RESIDENT))  # report reviewed
    assert any("已转交镇政府" in t for t in _texts(api, RESIDENT))  # suggestion answered
    assert any("提醒大家" in t for t in _texts(api, GROUP))  # the guard warned
    assert len(sent) == 2  # the typed alert and the file's reached the subscriber
