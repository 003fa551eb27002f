"""Telegram's faults, injected through the fake Bot API: the bot retries and keeps running."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import chat_dict, text_message, text_update, update_from, user_dict


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "network"},
        {"kind": "timeout"},
        {"kind": "http", "status": 502, "description": "Bad Gateway"},
        {"kind": "http", "status": 500, "description": "Internal Server Error"},
        {"kind": "http", "status": 429, "description": "Too Many Requests", "retry_after": 1},
    ],
)
async def test_a_reply_survives_a_passing_fault(
    app: Application, api: FakeBotApi, fault: dict, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail_next("sendMessage", **fault)
    with caplog.at_level(logging.WARNING):
        await app.process_update(text_update(app.bot, "被骗了怎么办"))
    assert len(api.sent()) == 1 and "110" in api.sent()[0]["text"]  # delivered once
    assert any("retry" in r.getMessage() for r in caplog.records)  # and logged


async def test_polling_keeps_going_through_faults(app: Application, api: FakeBotApi) -> None:
    """getUpdates fails three different ways; polling retries and the update is answered."""
    for kind in ("network", "timeout"):
        api.fail_next("getUpdates", kind=kind)
    api.fail_next("getUpdates", status=502, description="Bad Gateway")
    user, chat = user_dict(61), chat_dict(61)
    update = update_from({"message": text_message("被骗了怎么办", user, chat)}, app.bot)
    api.updates.append(update.to_dict())
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.01, timeout=0)
    try:
        for _ in range(300):
            if api.sent():
                break
            await asyncio.sleep(0.02)
    finally:
        await app.updater.stop()
    assert api.sent() and "110" in api.sent()[0]["text"]
