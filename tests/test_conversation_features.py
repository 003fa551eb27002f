"""What a conversation offers under its answers, through the real Application: 👍 / 👎
counted per card (numbers only) and shown in /insights, a warning to forward to the family,
and the urgent turns and "should I pay?" answered before anything else."""

from __future__ import annotations

import json

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.config import Settings
from bot.core.conversation import ConversationState
from bot.core.responder import Responder
from bot.core.types import Turn
from bot.store.database import Database
from bot.telegram.app import build_application
from tests.conftest import TEST_TOKEN

ADMIN = 88
CARD = "有人打电话说我涉嫌洗钱，让我把钱转到安全账户"


def _buttons(params: dict) -> dict[str, str]:
    markup = params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


@pytest.fixture
async def admin_app(responder: Responder, api: FakeBotApi):
    settings = Settings(token=TEST_TOKEN, admins=frozenset({ADMIN}), ocr=False)
    application = build_application(settings, responder, Database(":memory:"), request=api)
    async with application:
        await application.start()
        api.clear()
        yield application
        await application.stop()


async def test_feedback_is_counted_per_card_and_shown_in_insights(
    admin_app: Application, api: FakeBotApi
) -> None:
    await admin_app.process_update(text_update(admin_app.bot, CARD))
    card = api.sent()[-1]
    buttons, markup = _buttons(card), card["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert buttons["👍"] == "fb:up:fraud.police_impersonation" and "👎" in buttons
    for vote in ("👍", "👍", "👎"):
        api.clear()
        press = callback_update(admin_app.bot, buttons[vote], reply_markup=markup)
        await admin_app.process_update(press)
        (thanks,) = [c.params for c in api.calls if c.method == "answerCallbackQuery"]
        assert "谢谢" in thanks["text"]
        edited = [c.params for c in api.calls if c.method == "editMessageReplyMarkup"]
        assert edited and "fb:" not in str(edited[0].get("reply_markup"))
    await admin_app.process_update(callback_update(admin_app.bot, "fb:up:no.such.card"))
    api.clear()
    await admin_app.process_update(text_update(admin_app.bot, "/insights", user_id=ADMIN))
    summary = api.sent()[-1]["text"]
    assert "fraud.police_impersonation: 👍 2 · 👎 1" in summary
    assert "no.such.card" not in summary and CARD not in summary


async def test_send_to_my_family_gives_a_short_warning_to_forward(
    admin_app: Application, api: FakeBotApi
) -> None:
    await admin_app.process_update(text_update(admin_app.bot, CARD))
    share = _buttons(api.sent()[-1])["📤 发给家人"]
    api.clear()
    await admin_app.process_update(callback_update(admin_app.bot, share))
    (sent,) = api.sent()
    assert "转给家里人" in sent["text"] and "110" in sent["text"] and "96110" in sent["text"]
    assert len(sent["text"]) < 200 and not sent.get("reply_markup")


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("他电话还没挂 怎么半", "挂断"),
        ("对方要我先打两万定金 要不要打", "不要转"),
        ("I already clicked the link but didn't pay", "Stop"),
        ("他还在线上 一直在催我", "挂断"),
        ("我刚才给一个客服转了3000块 他说帮我退款 结果又让我转", "110"),
        ("they took 500 yuan from my card", "110"),
        ("你好，我收到一个短信说包裹要补交运费，要交吗", "不要交"),
        ("hi, a text says my parcel needs a 12 yuan customs fee, should I pay?", "No"),
    ],
)
def test_urgent_turns_and_should_i_pay_put_the_action_first(
    responder: Responder, text: str, first: str
) -> None:
    exchange = responder.converse(ConversationState(), Turn(text, "zh"), 1_000.0)
    assert first in exchange.reply.text.splitlines()[0]


def test_loss_outranks_type_and_the_scam_follows(responder: Responder) -> None:
    text = "客服说我的快递丢了要理赔，我已经转了2000块"
    reply = responder.converse(ConversationState(), Turn(text, "zh"), 1_000.0).reply
    assert reply.intent == "fraud.victim" and "止付" in reply.text
    assert reply.text.index("110") < reply.text.index("止付")


def test_pinyin_fallback_is_chinese(responder: Responder) -> None:
    reply = responder.converse(ConversationState(), Turn("wo hen pa", "en"), 1_000.0).reply
    assert reply.lang == "zh"


def test_inside_a_fraud_conversation_an_unplaceable_turn_gets_the_safe_action(
    responder: Responder,
) -> None:
    state = responder.converse(ConversationState(), Turn(CARD, "zh"), 1_000.0).state
    reply = responder.converse(state, Turn("嗯嗯嗯那个那个", "zh"), 1_010.0).reply
    assert "不要转钱" in reply.text.splitlines()[0] and "换个说法" not in reply.text


async def test_report_without_a_review_chat_names_the_channels_that_exist(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/report"))
    (sent,) = api.sent()
    assert "不收举报" in sent["text"] and "110" in sent["text"] and "派出所" in sent["text"]
    assert "指定平台" not in sent["text"]


async def test_voice_note_says_what_to_do_instead(app: Application, api: FakeBotApi) -> None:
    from bot.authoring.fake_updates import media_content, message_dict, update_from, user_dict

    sender, chat = user_dict(1001), {"id": 1001, "type": "private"}
    message = message_dict(sender, chat, **media_content("voice"))
    await app.process_update(update_from({"message": message}, app.bot))
    (sent,) = api.sent()
    assert "语音" in sent["text"] and "110" in sent["text"] and "只能看懂文字" not in sent["text"]


def test_figures_are_the_residents_own_county_where_the_bot_knows_it(
    responder: Responder,
) -> None:
    question = "反诈数据有哪些"
    both = responder.converse(ConversationState(), Turn(question, "zh"), 1_000.0).reply
    assert both.intent == "fraud.stats" and "保亭" in both.text and "琼中" in both.text
    # the township chosen for alerts says the county
    qz = responder.converse(ConversationState(), Turn(question, "zh", "qiongzhong"), 1_000.0)
    assert "琼中" in qz.reply.text and "保亭：" not in qz.reply.text
    # or the resident names it, and the conversation remembers it
    named = responder.converse(ConversationState(), Turn("我是保亭的", "zh"), 1_000.0).state
    later = responder.converse(named, Turn(question, "zh"), 1_010.0).reply
    assert "保亭" in later.text and "琼中：" not in later.text


async def test_the_alert_township_tells_the_county(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "我要订阅湾岭镇的预警"))
    assert "琼中·湾岭镇" in api.sent()[-1]["text"]
    api.clear()
    await app.process_update(text_update(app.bot, "反诈数据有哪些"))
    text = api.sent()[-1]["text"]
    assert "琼中" in text and "保亭：" not in text
