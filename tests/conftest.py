from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.model import Content
from bot.core.responder import Responder
from bot.store.preferences import SqlitePreferenceStore
from bot.telegram.app import build_application
from bot.telegram.fake_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
TEST_TOKEN = "123456789:AAF-test-token-never-real-0123456789"


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "intents", ROOT / "content", CONTACT_VARIABLES)


@pytest.fixture(scope="session")
def responder(content: Content) -> Responder:
    return Responder(content)


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
async def app(responder: Responder, api: FakeBotApi) -> AsyncIterator[Application]:
    settings = Settings(token=TEST_TOKEN)
    application = build_application(
        settings, responder, SqlitePreferenceStore(":memory:"), request=api
    )
    async with application:
        api.clear()  # forget initialize()'s getMe: tests look at what the handlers sent
        yield application
