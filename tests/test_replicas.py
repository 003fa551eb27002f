"""Several senders on one database, as several replicas are: rows claimed one sender each,
a dead sender's rows taken over after its lease, a stopped one's given back at once, and one
send rate shared by all (the bucket's booked slots never overlap); an alert typed on one
replica confirmed on another. Both backends."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter

import pytest
from telegram import Bot

from bot.authoring.fake_api import FakeBotApi
from bot.broadcast.alerts import Alert
from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import BroadcastSender
from bot.broadcast.shared_rate import SharedRateLimiter
from bot.store.database import Database
from bot.store.subscriptions import SqliteSubscriptionStore

ALERT = Alert(
    id="wave-r",
    title={"zh": "新骗局预警", "en": "New scam warning"},
    body={"zh": "请勿共享屏幕。", "en": "Never share your screen."},
    topics=("fraud",),
)
SUBSCRIBERS = 300


class SlowApi(FakeBotApi):
    """Each call takes a little while, as Telegram's do: senders overlap."""

    async def do_request(self, url, method, request_data=None, read_timeout=None, **kw):
        if url.endswith("/sendMessage"):
            await asyncio.sleep(0.002)
        return await super().do_request(url, method, request_data, read_timeout, **kw)


async def _until(condition) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)  # polls what another task does
    raise AssertionError("never happened")


def _fill(database: Database, count: int = SUBSCRIBERS) -> None:
    subs = SqliteSubscriptionStore(database)
    for chat in range(1, count + 1):
        subs.subscribe(chat, chat, "zh")
    assert Outbox(database).enqueue(ALERT) == count


def _sender(bot: Bot, database: Database, name: str, **kw) -> BroadcastSender:
    return BroadcastSender(
        bot, Outbox(database), SqliteSubscriptionStore(database), rate=None, name=name, **kw
    )


def _senders_of(database: Database) -> Counter:
    rows = database.execute("SELECT claimed_by FROM outbox WHERE status = 'sent'").fetchall()
    return Counter(r[0] for r in rows)


async def test_two_senders_send_one_broadcast_each_subscriber_once(backend: str) -> None:
    first, second = Database(backend), Database(backend)  # a connection (pool) each
    _fill(first)
    api = SlowApi()
    async with Bot("1:fake", request=api) as bot:
        reports = await asyncio.gather(
            _sender(bot, first, "replica-a").run(ALERT.id),
            _sender(bot, second, "replica-b").run(ALERT.id),
        )
    received = Counter(int(m["chat_id"]) for m in api.sent())
    assert received == Counter(range(1, SUBSCRIBERS + 1))  # everyone, exactly once
    assert sum(r.sent for r in reports) == SUBSCRIBERS
    by = _senders_of(first)
    assert set(by) == {"replica-a", "replica-b"} and min(by.values()) > SUBSCRIBERS // 10
    assert [r.finished for r in reports].count(True) == 1  # one of them closes it
    assert Outbox(first).unfinished() == []
    first.close(), second.close()


async def test_a_dead_senders_rows_are_taken_over_after_its_lease(backend: str) -> None:
    database = Database(backend)
    _fill(database, 40)
    outbox = Outbox(database)
    died_holding = outbox.claim(ALERT.id, "killed-replica", 8, lease=0.5)  # never sent
    assert len(died_holding) == 8
    api = FakeBotApi()
    async with Bot("1:fake", request=api) as bot:
        report = await _sender(bot, database, "survivor", lease=0.5).run(ALERT.id)
    assert Counter(int(m["chat_id"]) for m in api.sent()) == Counter(range(1, 41))
    assert report.pending == 0 and report.finished
    database.close()


async def test_a_stopped_sender_gives_its_rows_back(backend: str) -> None:
    database = Database(backend)
    _fill(database, 60)
    api = SlowApi()
    stop = asyncio.Event()
    async with Bot("1:fake", request=api) as bot:
        sender = _sender(bot, database, "stopping", concurrency=4)
        running = asyncio.create_task(sender.run(ALERT.id, stop))
        await _until(lambda: len(api.sent()) >= 10)
        stop.set()
        stopped = await running
        assert stopped.pending > 0 and not stopped.finished
        held = database.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND claimed_until IS NOT NULL"
        ).fetchone()[0]
        assert held == 0  # nothing left claimed: another replica need not wait for a lease
        rest = await _sender(bot, database, "other", lease=3600).run(ALERT.id)
    assert rest.finished
    assert Counter(int(m["chat_id"]) for m in api.sent()) == Counter(range(1, 61))
    database.close()


@pytest.mark.parametrize("batch", [1, 7])
def test_replicas_book_send_slots_that_never_overlap(backend: str, batch: int) -> None:
    """Three limiters (three replicas) booking in turn from one bucket at 100 msg/s: every
    booked run of slots starts where the previous one ended, or later, never before."""
    databases = [Database(backend) for _ in range(3)]
    limiters = [SharedRateLimiter(db, rate=100, batch=batch) for db in databases]
    runs = []
    for turn in range(30):
        limiter = limiters[turn % 3]
        end, _ = limiter._book(batch * limiter.interval)
        runs.append((end - batch * limiter.interval, end))
    for (_, previous_end), (start, _) in itertools.pairwise(runs):
        assert start >= previous_end - 1e-6
    for db in databases:
        db.close()


async def test_a_pause_holds_every_replica_back(backend: str) -> None:
    one, two = Database(backend), Database(backend)
    first, second = SharedRateLimiter(one, rate=10), SharedRateLimiter(two, rate=10)
    _, before = first._book(0.0)
    await first.pause(30)  # Telegram said RetryAfter 30 to replica one
    end, _ = second._book(second.interval)
    assert end - second.interval >= before + 29.9  # replica two's next slot is after the pause
    one.close(), two.close()


# -- citizen reports: one delivering replica at a time ---------------------------------------


def test_one_replica_at_a_time_has_the_delivery_turn(backend: str) -> None:
    from bot.store.reports import SqliteReportStore

    one, two = Database(backend), Database(backend)
    first, second = SqliteReportStore(one), SqliteReportStore(two)
    with first.delivery_turn() as mine:
        assert mine
        with second.delivery_turn() as theirs:
            assert theirs == (one.dialect == "sqlite")  # one SQLite file: one process
    with second.delivery_turn() as theirs:
        assert theirs  # released when the first ended its turn
    one.close(), two.close()


async def test_reports_wait_while_another_replica_delivers(postgres_url: str, responder) -> None:
    """Replica A delivers nothing while replica B has the turn, then everything, in order."""
    from bot.core.report_flow import Draft, Step
    from bot.store.reports import SqliteReportStore
    from bot.telegram import review
    from bot.telegram.delivery import OTHER_REPLICA_WAIT
    from tests.test_reports import REVIEW_CHAT, _started, _stopped

    api = FakeBotApi()
    database, other = Database(postgres_url), Database(postgres_url)
    app = await _started(responder, api, database)
    store = SqliteReportStore(database)
    made = [
        store.submit(7, 7, Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description=t), 1e9)
        for t in ("一", "二", "三")
    ]
    delivery: review.ReviewDelivery = app.bot_data[review.DELIVERY]
    api.clear()
    with SqliteReportStore(other).delivery_turn() as theirs:
        assert theirs
        assert await delivery.deliver_pending() == OTHER_REPLICA_WAIT
        assert api.shown_in(REVIEW_CHAT) == []
    assert await delivery.deliver_pending() is None
    shown = [c.params.get("text", "") for c in api.shown_in(REVIEW_CHAT)]
    positions = [next(i for i, t in enumerate(shown) if r.reference in t) for r in made]
    assert positions == sorted(positions)  # in the order they were made
    await _stopped(app)
    database.close(), other.close()


async def test_suggestions_wait_while_another_replica_delivers(
    postgres_url: str, responder
) -> None:
    """The suggestions chat, like the review chat: one replica delivers at a time, in order."""
    from bot.store.suggestions import SqliteSuggestionStore
    from bot.telegram import suggestions
    from bot.telegram.delivery import OTHER_REPLICA_WAIT
    from tests.test_suggestions import BUREAU, _started, _stopped

    api = FakeBotApi()
    database, other = Database(postgres_url), Database(postgres_url)
    app = await _started(responder, api, database)
    store = SqliteSuggestionStore(database)
    made = [store.submit(7, 7, "zh", text, 1e9) for text in ("多办讲座", "路灯坏了", "谢谢")]
    delivery = app.bot_data[suggestions.DELIVERY]
    api.clear()
    with SqliteSuggestionStore(other).delivery_turn() as theirs:
        assert theirs
        assert await delivery.deliver_pending() == OTHER_REPLICA_WAIT
        assert api.shown_in(BUREAU) == []
    assert await delivery.deliver_pending() is None
    shown = [c.params.get("text", "") for c in api.shown_in(BUREAU)]
    positions = [next(i for i, t in enumerate(shown) if s.reference in t) for s in made]
    assert positions == sorted(positions) and len(shown) == 3  # each once, in order
    await _stopped(app)
    database.close(), other.close()


async def test_the_worker_looks_again_soon_after_another_replicas_turn(
    postgres_url: str, responder
) -> None:
    """Another replica's turn is no failure: the worker looks again in OTHER_REPLICA_WAIT
    seconds, not after its doubled back-off (60 s and more), and delivers then."""
    from bot.core.report_flow import Draft, Step
    from bot.store.reports import SqliteReportStore
    from bot.telegram import review
    from tests.test_reports import REVIEW_CHAT, _started, _stopped

    api = FakeBotApi()
    database, other = Database(postgres_url), Database(postgres_url)
    app = await _started(responder, api, database)
    delivery: review.ReviewDelivery = app.bot_data[review.DELIVERY]
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="冒充客服")
    with SqliteReportStore(other).delivery_turn() as theirs:
        assert theirs
        made = SqliteReportStore(database).submit(7, 7, draft, 1e9)
        delivery.start()
        await _until(lambda: delivery._others_turn)  # the worker saw the other's turn
        assert api.shown_in(REVIEW_CHAT) == []

    def delivered() -> bool:
        return any(
            made.reference in str(c.params.get("text", "")) for c in api.shown_in(REVIEW_CHAT)
        )

    await _until(delivered)  # about 2 s later; the doubled back-off would be 60 s
    await _stopped(app)
    database.close(), other.close()


# -- the delivery workers keep the event loop free --------------------------------------------


class _Recording:
    """A Database that notes the thread of every statement and transaction."""

    def __init__(self, database: Database) -> None:
        self.database, self.threads = database, []

    def __getattr__(self, name: str):
        return getattr(self.database, name)

    def execute(self, *args):
        self.threads.append(threading.get_ident())
        return self.database.execute(*args)

    def transaction(self):
        self.threads.append(threading.get_ident())
        return self.database.transaction()

    def exclusive(self, key: int):
        self.threads.append(threading.get_ident())
        return self.database.exclusive(key)


async def test_deliveries_query_the_database_off_the_event_loop(backend: str, responder) -> None:
    """Reports and suggestions to their chats: every storage call of a delivery pass (queue,
    turn, marking delivered, a failure counted, a set-aside) runs in a thread, not on the event
    loop, where a PostgreSQL round trip would hold up every resident's answer."""
    from bot.core.report_flow import Draft, Step
    from bot.store.reports import SqliteReportStore
    from bot.store.suggestions import SqliteSuggestionStore
    from bot.telegram import review, suggestions
    from tests import test_reports, test_suggestions

    loop_thread = threading.get_ident()
    database = Database(backend)
    recording = _Recording(database)
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="冒充客服")
    SqliteReportStore(database).submit(7, 7, draft, 1e9)
    SqliteSuggestionStore(database).submit(7, 7, "zh", "多办讲座", 1e9)

    api = FakeBotApi()
    app = await test_reports._started(responder, api, database)
    app.bot_data[review.DELIVERY].store = SqliteReportStore(recording)
    assert await app.bot_data[review.DELIVERY].deliver_pending() is None
    await test_reports._stopped(app)
    app = await test_suggestions._started(responder, api, database)
    delivery = app.bot_data[suggestions.DELIVERY]
    delivery.store = SqliteSuggestionStore(recording)
    assert await delivery.deliver_pending() is None
    broken = SqliteSuggestionStore(database).submit(8, 8, "zh", "再来一个", 1e9 + 1)
    api.fail_chat(test_suggestions.BUREAU, 400, "Bad Request: message is too long")
    assert await delivery.deliver_pending() is None  # set aside
    assert SqliteSuggestionStore(database).get(broken.id).delivery == "refused"
    calls_before_worker = len(recording.threads)
    delivery.start()  # the worker's pass: deliveries, then the retention purge
    await _until(lambda: len(recording.threads) >= calls_before_worker + 3)  # turn, queue, purge
    await test_suggestions._stopped(app)

    assert recording.threads and loop_thread not in recording.threads
    assert api.shown_in(test_reports.REVIEW_CHAT) and api.shown_in(test_suggestions.BUREAU)
    database.close()


# -- an administrator's typed alert: confirmed on whichever replica gets the button ----------


async def test_a_typed_alert_previewed_on_one_replica_is_sent_from_another(
    backend: str, responder, tmp_path
) -> None:
    from bot.authoring.fake_updates import callback_update, text_update
    from bot.config import Settings
    from bot.telegram import broadcasts
    from bot.telegram.app import build_application
    from tests.conftest import TEST_TOKEN

    admin = 4242
    settings = Settings(token=TEST_TOKEN, admins=frozenset({admin}), alerts_dir=tmp_path, ocr=False)
    apis = FakeBotApi(), FakeBotApi()
    databases = Database(backend), Database(backend)  # a connection (pool) each
    first, second = (
        build_application(settings, responder, db, request=api)
        for db, api in zip(databases, apis, strict=True)
    )
    for app in (first, second):
        await app.initialize()
        await app.start()
    for chat in (101, 102):
        await first.process_update(text_update(first.bot, "/subscribe", user_id=chat))
    typed = "/broadcast 冒充客服退款骗局高发\n请勿共享屏幕"
    await first.process_update(text_update(first.bot, typed, user_id=admin))
    markup = apis[0].sent()[-1]["reply_markup"]
    confirm = next(b["callback_data"] for r in markup["inline_keyboard"] for b in r)
    # The balancer hands the press to the other replica: it knows the alert.
    await second.process_update(callback_update(second.bot, confirm, user_id=admin))
    assert "开始发送" in apis[1].sent()[-1]["text"]
    await asyncio.gather(*second.bot_data.get(broadcasts.TASKS, []))
    alerts = [m for m in apis[1].sent() if m["text"].startswith("⚠️ 冒充客服退款骗局高发")]
    assert sorted(int(m["chat_id"]) for m in alerts) == [101, 102]
    # The button pressed again, on either replica, sends nothing twice, and says so.
    await first.process_update(callback_update(first.bot, confirm, user_id=admin))
    assert "已经发布过" in apis[0].sent()[-1]["text"]
    for app in (first, second):
        await app.stop()
        await app.shutdown()
    for db in databases:
        db.close()
