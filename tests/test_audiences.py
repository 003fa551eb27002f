"""Audience groups: chosen in the subscription, named by alerts, applied by the outbox together
with the topic and township rules; the preview's sizes; an older database gains the column."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.broadcast.alerts import Alert, AlertError, load_alert, typed_audiences
from bot.broadcast.outbox import Outbox
from bot.content.model import Content
from bot.store.database import Database
from bot.store.subscriptions import SqliteSubscriptionStore
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


async def _subscribe(
    app: Application,
    user_id: int,
    audiences: tuple[str, ...] = (),
    area: str | None = None,
    untick: tuple[str, ...] = (),
) -> None:
    """A resident subscribes and chooses, with the buttons, as on Telegram."""
    await app.process_update(text_update(app.bot, "/subscribe", user_id=user_id))
    for press in (
        *(f"sub:aud:{a}" for a in audiences),
        *((f"sub:area:{area}",) if area else ()),
        *(f"sub:topic:{t}" for t in untick),
    ):
        await app.process_update(callback_update(app.bot, press, user_id=user_id))


def _alert(**fields: object) -> Alert:
    base = Alert("a1", {"zh": "标题", "en": "Title"}, {"zh": "正文", "en": "Body"}, ("fraud",))
    return replace(base, **fields)  # type: ignore[arg-type]


async def test_audiences_topics_and_townships_together_through_the_outbox(
    admin_app: Application, api: FakeBotApi
) -> None:
    residents = {
        1: {"audiences": ("merchants",)},  # a shop owner: gets it
        2: {"audiences": ("students",)},  # a student: does not
        3: {},  # chose no group: an alert to groups is not for them
        4: {"audiences": ("merchants", "students")},  # in both: once
        5: {"audiences": ("merchants",), "area": "bt.jiamao"},  # another township: not
        6: {"audiences": ("merchants",), "area": "qz.limushan"},  # the township: gets it
        7: {"audiences": ("merchants",), "untick": ("fraud",)},  # no scam alerts: not
        8: {"audiences": ("elderly_care", "merchants")},  # also a shop owner: gets it
    }
    for user_id, choice in residents.items():
        await _subscribe(admin_app, user_id, **choice)  # type: ignore[arg-type]
    outbox: Outbox = admin_app.bot_data[broadcasts.OUTBOX]
    to_shops = _alert(id="shops", areas=("qz.limushan",), audiences=("merchants",))
    assert outbox.audience_size(to_shops) == 4
    assert outbox.audience_sizes(to_shops) == {"merchants": 4}
    two_groups = _alert(id="two", audiences=("merchants", "students"))
    assert outbox.audience_sizes(two_groups) == {"merchants": 5, "students": 2}
    assert outbox.audience_size(two_groups) == 6  # 1, 2, 4, 5, 6, 8: each once
    assert outbox.audience_size(_alert(id="all")) == 7  # no audiences: everyone (not 7's topic)
    api.clear()
    assert outbox.enqueue(to_shops) == 4
    await broadcasts.start_sending(admin_app, "shops")
    reached = {int(m["chat_id"]) for m in api.sent() if m["text"].startswith("⚠️")}
    assert reached == {1, 4, 6, 8}


async def test_the_preview_gives_each_groups_size_and_the_file_names_groups(
    admin_app: Application, api: FakeBotApi, tmp_path: Path
) -> None:
    (tmp_path / "orders.yaml").write_text(
        "version: 1\nid: fake-orders\ntopics: [fraud]\naudiences: [merchants, elderly_care]\n"
        "title: {zh: 冒充部队采购, en: Fake army orders}\n"
        "body: {zh: 不要先垫钱。, en: Do not advance money.}\n",
        encoding="utf-8",
    )
    await _subscribe(admin_app, 11, ("merchants",))
    await _subscribe(admin_app, 12, ("merchants", "elderly_care"))
    await _subscribe(admin_app, 13, ("students",))
    api.clear()
    await admin_app.process_update(
        callback_update(admin_app.bot, "bc:preview:fake-orders", user_id=ADMIN)
    )
    preview = api.sent()[-1]["text"]
    assert "2 位订阅者" in preview
    assert "🏪 商户 / 个体经营者 (merchants): 2" in preview
    assert "👵 照顾家中老人 (elderly_care): 1" in preview
    await admin_app.process_update(
        callback_update(admin_app.bot, "bc:send:fake-orders", user_id=ADMIN)
    )
    await asyncio.gather(*admin_app.bot_data.get(broadcasts.TASKS, []))
    assert {int(m["chat_id"]) for m in api.sent() if m["text"].startswith("⚠️")} == {11, 12}


def test_an_alert_file_naming_an_unknown_group_is_refused_with_its_line(
    tmp_path: Path, content: Content
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "version: 1\nid: wrong\naudiences: [shopkeepers]\n"
        "title: {zh: 标题, en: Title}\nbody: {zh: 正文, en: Body}\n",
        encoding="utf-8",
    )
    with pytest.raises(AlertError, match=r"wrong.yaml:3: unknown audiences \['shopkeepers'\]"):
        load_alert(path, set(content.areas), set(content.audiences))


def test_a_typed_alert_names_groups_on_its_first_line() -> None:
    assert typed_audiences("audiences: merchants, students\nTitle\nBody") == (
        ("merchants", "students"),
        "Title\nBody",
    )
    assert typed_audiences("人群：merchants、merchants\n标题") == (("merchants",), "标题")
    assert typed_audiences("Title\nBody") == ((), "Title\nBody")


async def test_forget_removes_the_groups(admin_app: Application, api: FakeBotApi) -> None:
    await _subscribe(admin_app, 21, ("merchants",))
    store = admin_app.bot_data[subscriptions.SUBSCRIPTIONS]
    assert store.get(21).audiences == ("merchants",)
    await admin_app.process_update(text_update(admin_app.bot, "/forget", user_id=21))
    assert store.get(21) is None
    await admin_app.process_update(text_update(admin_app.bot, "/subscribe", user_id=21))
    assert store.get(21).audiences == ()


async def test_a_forged_group_changes_nothing(admin_app: Application, api: FakeBotApi) -> None:
    await _subscribe(admin_app, 31, ("merchants",))
    await admin_app.process_update(callback_update(admin_app.bot, "sub:aud:'; DROP", user_id=31))
    assert admin_app.bot_data[subscriptions.SUBSCRIPTIONS].get(31).audiences == ("merchants",)
    assert "⬜ 🎒 学生或学生家长" in _buttons(api.sent()[-1])


def test_a_database_made_before_audiences_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE subscribers (chat_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
        " lang TEXT NOT NULL, topics TEXT NOT NULL, area TEXT, active INTEGER NOT NULL DEFAULT 1,"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL)"
    )
    old.execute("INSERT INTO subscribers VALUES (5, 5, 'zh', ',fraud,', NULL, 1, 0, 0)")
    old.commit()
    old.close()
    database = Database(str(path))
    store = SqliteSubscriptionStore(database)
    assert store.get(5).audiences == ()
    assert Outbox(database).audience_size(_alert()) == 1
    assert Outbox(database).audience_size(_alert(audiences=("merchants",))) == 0
    store.set_audiences(5, ("merchants",))
    assert Outbox(database).audience_size(_alert(audiences=("merchants",))) == 1
