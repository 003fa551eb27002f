"""The bot token never reaches a log line or a resident, whatever is logged."""

from __future__ import annotations

import io
import logging

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.privacy import configure_logging
from bot.telegram import handlers
from tests.conftest import TEST_TOKEN


async def test_token_never_logged_or_shown_through_a_whole_conversation(
    app: Application, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", [TEST_TOKEN], stream=stream)
    # Turn the chattiest loggers all the way up: they print request URLs, which hold the token.
    for name in ("telegram", "httpx", "bot"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        await app.process_update(text_update(app.bot, "/start"))
        await app.process_update(text_update(app.bot, "有人让我把钱转到安全账户"))
        await app.process_update(callback_update(app.bot, "intent:fraud.victim"))
        await app.process_update(text_update(app.bot, f"/check {TEST_TOKEN}"))
        api.fail_next("sendMessage", kind="network")  # a fault while replying
        await app.process_update(text_update(app.bot, "你好"))

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"exploded while calling /bot{TEST_TOKEN}/sendMessage")

        monkeypatch.setattr(app.bot_data[handlers.RESPONDER], "converse", broken)
        await app.process_update(text_update(app.bot, "出错了吗"))
    finally:
        for name in ("telegram", "httpx"):
            logging.getLogger(name).setLevel(logging.WARNING)
    written = stream.getvalue()
    assert "exploded" in written and "sendMessage" in written  # the logs did capture it all
    assert TEST_TOKEN not in written
    assert TEST_TOKEN.split(":")[1] not in written
    assert all(TEST_TOKEN not in m["text"] for m in api.sent())
