"""Menus a phone user can follow: the start menu offers check, report, alerts and help; no
menu has more than 8 buttons and each has a way back; a menu opened from a menu replaces it."""

from __future__ import annotations

import json

from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.core.responder import Responder


def _markup(params: dict) -> dict:
    markup = params.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else markup


def _actions(params: dict) -> list[str]:
    return [b["callback_data"] for row in _markup(params)["inline_keyboard"] for b in row]


def test_every_menu_fits_a_phone_and_has_a_way_back(responder: Responder) -> None:
    for menu_id in responder.content.menus:
        actions = [b.action for b in responder.menu(menu_id, "zh").buttons]
        assert len(actions) <= 8, menu_id
        if menu_id != "main":
            assert actions[-1].startswith("menu:"), menu_id
    assert responder.menu("fraud_more", "en").buttons[-1].action == "menu:fraud"
    assert "Back" in responder.menu("fraud_more", "en").buttons[-1].label


def test_the_start_menu_offers_check_report_alerts_and_help(responder: Responder) -> None:
    actions = [b.action for b in responder.command("start", "zh").buttons]
    assert {"do:check", "intent:helmet.report", "intent:bot.subscribe", "intent:bot.help"} <= set(
        actions
    )
    check = responder.press("do:check", "en")
    assert check is not None and "Forward me" in check.text


async def test_a_menu_chosen_from_a_menu_replaces_it(app: Application, api: FakeBotApi) -> None:
    await app.process_update(text_update(app.bot, "/start"))
    start = api.calls[-1]
    message_id = start.result["message_id"]
    api.clear()
    press = callback_update(
        app.bot,
        "menu:fraud",
        message_text=start.params["text"],
        message_id=message_id,
        reply_markup=_markup(start.params),
    )
    await app.process_update(press)
    assert api.sent() == []  # nothing new stacked under it
    (edited,) = api.sent("editMessageText")
    assert edited["message_id"] == message_id and "menu:fraud_more" in _actions(edited)


async def test_the_menu_button_under_a_card_leaves_the_card_in_place(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "有人让我把钱转到安全账户，说我涉嫌洗钱"))
    card = api.calls[-1]
    api.clear()
    press = callback_update(
        app.bot,
        "menu:main",
        message_text=card.params["text"],
        message_id=card.result["message_id"],
        reply_markup=_markup(card.params),
    )
    await app.process_update(press)
    assert api.sent("editMessageText") == [] and len(api.sent()) == 1


async def test_the_township_picker_moves_in_place_a_phone_screen_at_a_time(
    app: Application, api: FakeBotApi
) -> None:
    await app.process_update(text_update(app.bot, "/subscribe"))
    api.clear()
    await app.process_update(callback_update(app.bot, "sub:areas"))
    picker = api.calls[-1]
    assert len(_actions(picker.params)) <= 8
    api.clear()
    press = callback_update(
        app.bot,
        "sub:areas:qz:0",
        message_text=picker.params["text"],
        message_id=picker.result["message_id"],
        reply_markup=_markup(picker.params),
    )
    await app.process_update(press)
    (edited,) = api.sent("editMessageText")
    assert edited["message_id"] == picker.result["message_id"] and api.sent() == []
    actions = _actions(edited)
    assert len(actions) <= 8 and "sub:areas:qz:1" in actions and actions[-1] == "sub:areas"
