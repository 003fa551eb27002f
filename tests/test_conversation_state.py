"""Conversation state per chat, through the real Application: a repeat gets the short version,
a quiet spell starts afresh, /forget removes it, two chats never mix, a restart keeps it."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.config import Settings
from bot.core.conversation import QUIET_SECONDS, ConversationState
from bot.core.responder import Responder
from bot.store.conversations import SqliteConversationStore
from bot.store.database import Database
from bot.telegram import handlers
from bot.telegram.app import build_application
from tests.conftest import TEST_TOKEN

QUESTION = "有人打电话说我涉嫌洗钱，还说要冻结我的账户"
FULL = "真正的警察、检察院、法院"  # in the full fake-police card only
SHORT = "公检法从不在电话里办案"  # in its short version only


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _buttons(params: dict) -> list[tuple[str, str]]:
    markup = params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def _say(app: Application, api: FakeBotApi, text: str, user_id: int = 1001) -> dict:
    api.clear()
    await app.process_update(text_update(app.bot, text, user_id=user_id))
    return api.sent()[-1]


@pytest.fixture
def clock(app: Application) -> Clock:
    clock = Clock()
    store = app.bot_data[handlers.CONVERSATIONS]
    app.bot_data[handlers.CONVERSATIONS] = SqliteConversationStore(store.db, clock=clock)
    return clock


async def test_the_same_card_twice_in_a_row_gives_the_short_version_and_more(
    app: Application, api: FakeBotApi, clock: Clock
) -> None:
    first = await _say(app, api, QUESTION)
    assert FULL in first["text"]
    again = await _say(app, api, "警察说我洗钱 要冻结账户")
    assert SHORT in again["text"] and FULL not in again["text"]
    more = next(data for label, data in _buttons(again) if data.startswith("more:"))
    api.clear()
    await app.process_update(callback_update(app.bot, more))
    assert FULL in api.sent()[-1]["text"]


async def test_a_quiet_spell_starts_the_conversation_afresh(
    app: Application, api: FakeBotApi, clock: Clock
) -> None:
    await _say(app, api, QUESTION)
    clock.now += QUIET_SECONDS + 1
    assert FULL in (await _say(app, api, QUESTION))["text"]  # not the short version


async def test_forget_removes_the_conversation(
    app: Application, api: FakeBotApi, clock: Clock
) -> None:
    await _say(app, api, QUESTION)
    store = app.bot_data[handlers.CONVERSATIONS]
    assert store.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 1
    await _say(app, api, "/forget")
    assert store.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0
    assert FULL in (await _say(app, api, QUESTION))["text"]


async def test_two_chats_never_mix(app: Application, api: FakeBotApi, clock: Clock) -> None:
    await _say(app, api, QUESTION, user_id=1001)
    assert FULL in (await _say(app, api, QUESTION, user_id=2002))["text"]
    assert SHORT in (await _say(app, api, QUESTION, user_id=1001))["text"]


async def test_a_restart_keeps_the_conversation(backend: str, responder: Responder) -> None:
    """On either backend (an SQLite file, PostgreSQL): the state is in the database."""
    settings = Settings(token=TEST_TOKEN, ocr=False)
    for expected in (FULL, SHORT):
        api = FakeBotApi()
        database = Database(backend)
        app = build_application(settings, responder, database, request=api)
        async with app:
            await app.start()
            assert expected in (await _say(app, api, QUESTION))["text"]
            await app.stop()
        database.close()


async def test_a_damaged_state_starts_afresh_and_the_resident_is_answered(
    app: Application, api: FakeBotApi, clock: Clock
) -> None:
    store = app.bot_data[handlers.CONVERSATIONS]
    store.db.execute("INSERT INTO conversations VALUES (1001, 1001, '{not json', ?)", (clock.now,))
    assert FULL in (await _say(app, api, QUESTION))["text"]


def test_state_round_trips_and_keeps_no_words() -> None:
    state = ConversationState(topic="fraud", last_card="fraud.victim", shown=("fraud.victim",))
    assert ConversationState.from_json(state.to_json()) == state
    assert "fraud.victim" in state.to_json() and "洗钱" not in state.to_json()
