"""Webhook mode answers an update only once it is handled (bot/telegram/webhook.py), so
Telegram resends what a killed replica never finished: the ASGI app, in process, over the
real Application and the fake Bot API."""

from __future__ import annotations

import asyncio

import httpx
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update_json
from bot.config import Settings
from bot.store.database import Database
from bot.telegram.handlers import responder_of
from bot.telegram.webhook import SECRET_HEADER, asgi_app
from tests.conftest import TEST_TOKEN

SECRET = "webhook-secret_0123456789"
HOOK = "https://bot.example.org/telegram/hook"


def _client(app: Application) -> httpx.AsyncClient:
    settings = Settings(token=TEST_TOKEN, webhook_url=HOOK, webhook_secret=SECRET)
    server = asgi_app(app, settings, Database(":memory:"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://bot")


async def _post(client: httpx.AsyncClient, update: dict) -> int:
    answer = await client.post("/telegram/hook", json=update, headers={SECRET_HEADER: SECRET})
    return answer.status_code


def _slow_for(text: str, seconds: float):
    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text == text:
            await asyncio.sleep(seconds)

    return slow


async def test_the_200_goes_out_after_the_handler_replied(app: Application, api: FakeBotApi):
    app.add_handler(TypeHandler(Update, _slow_for("/start", 0.3)), group=-3)
    async with _client(app) as client:
        assert await _post(client, text_update_json("/start", 5001)) == 200
        # Answered with the update handled: the greeting is at the Bot API already. (Queued
        # and answered at once, the 200 would come 0.3 s before any reply.)
        assert [m["chat_id"] for m in api.sent()] == [5001]


async def test_a_handler_that_raised_is_still_200(app: Application, api: FakeBotApi) -> None:
    async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("a bug in a handler")

    app.add_handler(TypeHandler(Update, broken), group=-3)
    async with _client(app) as client:
        # 200: the error handler logged it and told the resident; a resend fails the same way.
        assert await _post(client, text_update_json("/start", 5002)) == 200
    error = responder_of(app).notice("error", "zh").text
    assert error in [m["text"] for m in api.sent()]


async def test_one_chats_updates_posted_at_once_are_handled_in_order(
    app: Application, api: FakeBotApi
) -> None:
    app.add_handler(TypeHandler(Update, _slow_for("你好", 0.3)), group=-3)
    async with _client(app) as client:
        first = asyncio.create_task(_post(client, text_update_json("你好", 5003)))
        await asyncio.sleep(0.05)  # Telegram opens a second connection meanwhile
        second = asyncio.create_task(_post(client, text_update_json("谢谢", 5003)))
        assert await asyncio.gather(first, second) == [200, 200]
    replies = [m["text"] for m in api.sent()]
    assert len(replies) == 2 and "不客气" in replies[1]  # the thanks answered second
