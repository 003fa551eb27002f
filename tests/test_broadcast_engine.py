"""The delivery engine against the fake Bot API: targeting, Telegram's errors, resume."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from telegram import Bot

from bot.authoring.fake_api import FakeBotApi
from bot.broadcast.alerts import Alert
from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import BroadcastSender, RateLimiter
from bot.store.database import Database
from bot.store.subscriptions import SqliteSubscriptionStore

ALERT = Alert(
    id="wave-1",
    title={"zh": "新骗局预警", "en": "New scam warning"},
    body={
        "zh": "有人冒充客服退款，请勿共享屏幕。",
        "en": "Fake refund calls: never share your screen.",
    },
    topics=("fraud",),
)


class FakeTime:
    """A clock that only moves when the sender sleeps, so back-offs cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(str(tmp_path / "bot.db"))


@pytest.fixture
def subs(db: Database) -> SqliteSubscriptionStore:
    return SqliteSubscriptionStore(db)


@pytest.fixture
async def bot(api: FakeBotApi):
    async with Bot("1:fake", request=api) as bot:
        api.clear()
        yield bot


def _sender(bot: Bot, db: Database, subs, fake: FakeTime | None = None, **kw) -> BroadcastSender:
    fake = fake or FakeTime()
    kw.setdefault("rate", None)
    return BroadcastSender(bot, Outbox(db), subs, clock=fake.clock, sleep=fake.sleep, **kw)


def _received(api: FakeBotApi) -> Counter:
    return Counter(int(m["chat_id"]) for m in api.sent())


async def test_topics_area_and_language_decide_who_gets_what(bot, api, db, subs) -> None:
    subs.subscribe(1, 1, "zh")  # everything, everywhere
    subs.subscribe(2, 2, "en")
    subs.set_topics(2, ("traffic",))  # not about fraud
    subs.subscribe(3, 3, "en")
    subs.set_area(3, "qz.limushan")  # the alert's township
    subs.subscribe(4, 4, "zh")
    subs.set_area(4, "bt.jiamao")  # another township
    subs.subscribe(5, 5, "zh")
    subs.deactivate(5)
    alert = Alert(**{**ALERT.__dict__, "areas": ("qz.limushan",)})
    outbox = Outbox(db)
    assert outbox.audience_size(alert) == 2
    assert outbox.enqueue(alert) == 2
    report = await _sender(bot, db, subs).run(alert.id)
    assert report.sent == 2 and report.pending == 0
    texts = {int(m["chat_id"]): m["text"] for m in api.sent()}
    assert set(texts) == {1, 3}
    assert texts[1].startswith("⚠️ 新骗局预警") and texts[3].startswith("⚠️ New scam warning")


async def test_retry_after_is_honoured(bot, api, db, subs) -> None:
    subs.subscribe(10, 10, "zh")
    api.fail_chat(10, 429, "Too Many Requests: retry after 7", retry_after=7)
    Outbox(db).enqueue(ALERT)
    fake = FakeTime()
    report = await _sender(bot, db, subs, fake).run(ALERT.id)
    assert report.sent == 1
    assert _received(api) == {10: 1}
    assert fake.now >= 7  # the sender waited as long as Telegram asked


async def test_forbidden_deactivates_and_bad_chat_fails(bot, api, db, subs) -> None:
    for chat in (20, 21, 22):
        subs.subscribe(chat, chat, "zh")
    api.fail_chat(20, 403, "Forbidden: bot was blocked by the user")
    api.fail_chat(21, 400, "Bad Request: chat not found")
    Outbox(db).enqueue(ALERT)
    report = await _sender(bot, db, subs).run(ALERT.id)
    assert (report.sent, report.blocked, report.failed) == (1, 1, 1)
    assert subs.get(20).active is False  # not asked again next time
    assert subs.get(21).active is True
    assert Outbox(db).audience_size(ALERT) == 2


async def test_group_upgraded_to_supergroup_is_followed(bot, api, db, subs) -> None:
    subs.subscribe(-300, 1, "zh")
    api.fail_chat(-300, 400, "Bad Request: group chat was upgraded", migrate_to=-1000300)
    Outbox(db).enqueue(ALERT)
    report = await _sender(bot, db, subs).run(ALERT.id)
    assert report.sent == 1
    assert _received(api) == {-1000300: 1}
    assert subs.get(-300) is None and subs.get(-1000300) is not None


async def test_network_errors_back_off_then_give_up(bot, api, db, subs) -> None:
    subs.subscribe(30, 30, "zh")
    subs.subscribe(31, 31, "zh")
    api.fail_chat(30, 502, "Bad Gateway", times=2)
    api.fail_chat(31, 502, "Bad Gateway", times=10)
    Outbox(db).enqueue(ALERT)
    fake = FakeTime()
    report = await _sender(bot, db, subs, fake, max_attempts=4, backoff=0.5).run(ALERT.id)
    assert _received(api) == {30: 1}
    assert (report.sent, report.failed) == (1, 1)
    # chat 30: 0.5 then 1.0; chat 31: 0.5, 1.0, 2.0, then it gives up on the 4th attempt
    assert sorted(s for s in fake.sleeps if s >= 0.5) == [0.5, 0.5, 1.0, 1.0, 2.0]


async def test_same_alert_id_twice_delivers_once(bot, api, db, subs) -> None:
    for chat in range(100, 110):
        subs.subscribe(chat, chat, "zh")
    outbox = Outbox(db)
    assert outbox.enqueue(ALERT) == 10
    await _sender(bot, db, subs).run(ALERT.id)
    assert outbox.enqueue(ALERT) is None  # nothing new queued
    report = await _sender(bot, db, subs).run(ALERT.id)
    assert report.sent == 0
    assert _received(api) == Counter(range(100, 110))
    assert outbox.status(ALERT.id).status == "done"


async def test_interrupted_broadcast_resumes_exactly_once(bot, api, db, subs, tmp_path) -> None:
    chats = list(range(1000, 1050))
    for chat in chats:
        subs.subscribe(chat, chat, "zh")
    Outbox(db).enqueue(ALERT)
    stop = asyncio.Event()

    async def crash_after_20(params: dict) -> None:
        if len(api.sent()) >= 20:
            stop.set()  # the process "dies" between two sends

    api.before_send = crash_after_20
    first = await _sender(bot, db, subs, concurrency=4).run(ALERT.id, stop=stop)
    assert 20 <= first.sent < len(chats) and first.pending > 0
    assert Outbox(db).unfinished() == [ALERT.id]

    # A new process: a new connection to the same file, a new sender.
    api.before_send = None
    restarted = Database(str(tmp_path / "bot.db"))
    second = await _sender(bot, restarted, SqliteSubscriptionStore(restarted)).run(ALERT.id)
    assert first.sent + second.sent == len(chats)
    assert _received(api) == Counter(chats)  # everyone exactly once
    assert Outbox(restarted).unfinished() == []


async def test_rate_limiter_spaces_messages() -> None:
    fake = FakeTime()
    limiter = RateLimiter(25, clock=fake.clock, sleep=fake.sleep)
    for _ in range(101):
        await limiter.wait()
    assert fake.now == pytest.approx(100 / 25)


async def test_one_message_per_chat_per_second(bot, api, db, subs) -> None:
    subs.subscribe(40, 40, "zh")
    fake = FakeTime()
    sender = _sender(bot, db, subs, fake)
    sender._last_sent[40] = fake.now  # this chat just got a message
    Outbox(db).enqueue(ALERT)
    await sender.run(ALERT.id)
    assert fake.now >= 1.0
