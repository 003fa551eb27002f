"""Every store on both backends (SQLite file, PostgreSQL): the same calls, the same answers.
Run against a real server through the `database` fixture (tests/conftest.py); nothing mocked."""

from __future__ import annotations

from dataclasses import replace

from bot.broadcast.alerts import Alert
from bot.broadcast.outbox import Outbox
from bot.core.conversation import ConversationState
from bot.core.report_flow import Draft, Step, china_day
from bot.store.campaigns import SqliteCampaignStore
from bot.store.conversations import SqliteConversationStore, SqliteFeedbackStore
from bot.store.database import Database
from bot.store.group_guard import SqliteGuardStore
from bot.store.insights import SqliteInsightsStore
from bot.store.preferences import SqlitePreferenceStore
from bot.store.reports import SqliteReportStore
from bot.store.subscriptions import SqliteSubscriptionStore
from bot.store.suggestions import SqliteSuggestionStore

SUPERGROUP = -1001987654321  # beyond 32 bits, as Telegram's group ids are
ALERT = Alert(
    id="wave-1",
    title={"zh": "新骗局预警", "en": "New scam warning"},
    body={"zh": "请勿共享屏幕。", "en": "Never share your screen."},
    topics=("fraud",),
    areas=("qz.limushan",),
)


def _draft(text: str = "有人冒充客服") -> Draft:
    return Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description=text)


def test_typed_alerts_wait_for_confirmation_in_the_database(database: Database) -> None:
    outbox, other = Outbox(database), Outbox(database)
    outbox.keep_draft(ALERT)
    assert other.draft(ALERT.id) == ALERT  # any replica finds it
    assert other.draft("no-such-alert") is None
    other.drop_draft(ALERT.id)
    assert outbox.draft(ALERT.id) is None
    outbox.keep_draft(ALERT)
    database.execute("UPDATE alert_drafts SET created_at = created_at - 86401")
    outbox.keep_draft(replace(ALERT, id="wave-2"))  # a day later: the unconfirmed one goes
    assert outbox.draft(ALERT.id) is None and outbox.draft("wave-2") is not None


def test_preferences(database: Database) -> None:
    store = SqlitePreferenceStore(database)
    assert store.get_language(5) is None
    store.set_language(5, "en")
    store.set_language(5, "zh")
    assert store.get_language(5) == "zh"
    store.forget(5)
    assert store.get_language(5) is None


def test_subscriptions_and_a_migrated_group(database: Database) -> None:
    store = SqliteSubscriptionStore(database)
    made = store.subscribe(SUPERGROUP, 9_000_000_001, "zh")
    assert made.topics == ("fraud", "traffic", "safety") and made.active
    store.set_topics(SUPERGROUP, ("traffic",))
    store.set_area(SUPERGROUP, "bt.jiamao")
    store.set_language(SUPERGROUP, "en")
    store.deactivate(SUPERGROUP)
    again = store.subscribe(SUPERGROUP, 9_000_000_001, "zh")  # re-activates, keeps choices
    assert (again.topics, again.area, again.lang, again.active) == (
        ("traffic",),
        "bt.jiamao",
        "zh",
        True,
    )
    store.subscribe(SUPERGROUP - 1, 7, "en")  # a row already under the new id: replaced
    store.move_chat(SUPERGROUP, SUPERGROUP - 1)
    assert store.get(SUPERGROUP) is None
    moved = store.get(SUPERGROUP - 1)
    assert moved is not None and moved.user_id == 9_000_000_001
    store.move_chat(123, 456)  # nothing to move: nothing happens
    assert store.get(456) is None
    assert store.unsubscribe(SUPERGROUP - 1)
    assert not store.unsubscribe(SUPERGROUP - 1)


def test_outbox_enqueue_status_and_forget(database: Database) -> None:
    subs, outbox = SqliteSubscriptionStore(database), Outbox(database)
    for chat in range(1, 6):
        subs.subscribe(chat, chat, "zh" if chat % 2 else "en")
    subs.set_area(4, "bt.jiamao")  # another township: not in the audience
    subs.set_topics(5, ("traffic",))  # another topic
    assert outbox.audience_size(ALERT) == 3
    assert outbox.enqueue(ALERT, started_by=77) == 3
    assert outbox.enqueue(ALERT) is None  # the same alert id again: nothing new
    assert outbox.alert("wave-1") == ALERT
    rows = outbox.pending("wave-1", 0, 10)
    assert [r.chat_id for r in rows] == [1, 2, 3]
    outbox.mark(rows[0].id, "sent")
    outbox.count_attempt(rows[1].id, "timed out")
    outbox.mark(rows[1].id, "failed", "timed out")
    subs.subscribe(30, 30, "zh")
    outbox.move_chat(rows[2].id, 1)  # chat 1 has its row for this alert: the move is refused
    outbox.move_chat(rows[2].id, 30)
    status = outbox.status("wave-1")
    assert status is not None
    assert status.counts == {"pending": 1, "sent": 1, "blocked": 0, "failed": 1}
    assert status.started_by == 77 and status.status == "sending"
    assert [r.chat_id for r in outbox.pending("wave-1", 0, 10)] == [30]
    assert outbox.unfinished() == ["wave-1"]
    outbox.finish("wave-1")
    assert outbox.unfinished() == []
    assert subs.forget_user(30) == 1
    assert outbox.pending("wave-1", 0, 10) == []


def test_reports_drafts_consent_quota(database: Database) -> None:
    store = SqliteReportStore(database)
    assert store.draft(8) is None and not store.has_consented(8)
    store.consent(8)
    store.consent(8)
    assert store.has_consented(8)
    store.save_draft(8, _draft("第一稿"))
    store.save_draft(8, _draft("第二稿"))
    assert store.draft(8) == _draft("第二稿")
    now = 1_790_000_000.0
    first = store.submit(8, 8, _draft("一"), now)
    second = store.submit(8, 8, _draft("二"), now + 1)
    assert store.draft(8) is None  # the draft became the report
    assert store.submitted_on(8, china_day(now)) == 2
    assert store.count(8) == 2
    assert [r.id for r in store.for_user(8)] == [second.id, first.id]
    assert [r.id for r in store.undelivered()] == [first.id, second.id]
    store.set_delivery(first.id, "delivered", (11, 12))
    store.set_delivery(second.id, "refused", ())
    assert store.failed_attempt(second.id) == 1
    assert [r.id for r in store.refused()] == [second.id]
    assert [r.id for r in store.awaiting_decision(5)] == [first.id]
    decided = store.decide(first.id, "accepted", "Officer Li", now + 5)
    assert decided is not None and decided.status == "accepted"
    assert decided.review_messages == (11, 12)
    assert store.decide(first.id, "rejected", "Officer Wang", now + 6) is None
    assert [r.id for r in store.recent(1)] == [second.id]
    assert {r.id for r in store.forget_user(8)} == {first.id, second.id}
    assert store.count(8) == 0
    assert store.submitted_on(8, china_day(now)) == 2  # the limit holds through /forget
    assert store.purge(now + 10, now + 2 * 86400) == 0
    assert store.submitted_on(8, china_day(now)) == 0  # a past day's count is dropped


def test_insights(database: Database) -> None:
    clock = [1_790_000_000.0]
    store = SqliteInsightsStore(database, retention_days=30, clock=lambda: clock[0])
    store.record("怎么办 13812345678", None, "fallback")
    store.record("怎么办 13812345678", None, "fallback")
    store.record("helmet", "helmet.rules", "answer")
    summary = store.summary(7)
    assert summary.intents == [("fallback", 2), ("helmet.rules", 1)]
    [(question, seen)] = summary.unanswered
    assert seen == 2 and "13812345678" not in question
    clock[0] += 40 * 86400
    store.purge()
    assert store.summary(7).intents == []


def test_group_guard(database: Database) -> None:
    store = SqliteGuardStore(database)
    assert store.enabled(SUPERGROUP)
    store.set_enabled(SUPERGROUP, False)
    assert not store.enabled(SUPERGROUP)
    store.set_enabled(SUPERGROUP, True)
    assert store.enabled(SUPERGROUP)


def test_conversations(database: Database) -> None:
    clock = [1_790_000_000.0]
    store = SqliteConversationStore(database, quiet_seconds=600, clock=lambda: clock[0])
    assert store.get(SUPERGROUP) == ConversationState()
    state = ConversationState(topic="fraud", last_card="fraud.victim", shown=("fraud.victim",))
    store.put(SUPERGROUP, 9_000_000_001, replace(state, at=clock[0]))
    store.put(SUPERGROUP, 9_000_000_002, replace(state, at=clock[0], urgent=True))
    got = store.get(SUPERGROUP)
    assert (got.last_card, got.urgent) == ("fraud.victim", True)
    store.put(9_000_000_003, 9_000_000_003, replace(state, at=clock[0]))
    store.forget_user(9_000_000_002)  # the group where they spoke last
    assert store.get(SUPERGROUP) == ConversationState()
    assert store.get(9_000_000_003).last_card == "fraud.victim"
    clock[0] += 601
    assert store.get(9_000_000_003).last_card is None  # a quiet spell: afresh
    assert store.purge() == 1
    assert store.purge() == 0


def test_feedback(database: Database) -> None:
    clock = [1_790_000_000.0]
    store = SqliteFeedbackStore(database, clock=lambda: clock[0])
    for helpful in (True, True, False):
        store.count("fraud.victim", helpful)
    store.count("helmet.rules", False)
    clock[0] += 86400
    store.count("helmet.rules", True)  # another day: another row, summed
    assert store.summary(7) == [("fraud.victim", 2, 1), ("helmet.rules", 1, 1)]
    clock[0] += 10 * 86400
    assert store.summary(7) == []


def test_audience_groups_choose_who_hears_an_alert(database: Database) -> None:
    subs, outbox = SqliteSubscriptionStore(database), Outbox(database)
    for chat in (1, 2, 3):
        subs.subscribe(chat, chat, "zh")
    subs.set_audiences(1, ("merchants",))
    subs.set_audiences(2, ("students", "merchants"))
    assert subs.get(2).audiences == ("merchants", "students")
    assert subs.get(3).audiences == ()  # none chosen: not "every group"
    shops = replace(ALERT, id="shops", areas=(), audiences=("merchants", "elders"))
    assert outbox.audience_size(shops) == 2
    assert outbox.audience_sizes(shops) == {"merchants": 2, "elders": 0}
    assert outbox.enqueue(shops) == 2
    assert [r.chat_id for r in outbox.pending("shops", 0, 10)] == [1, 2]
    assert outbox.alert("shops") == shops
    assert outbox.audience_size(replace(shops, audiences=())) == 3  # an alert to everyone


def test_campaign_visits(database: Database) -> None:
    clock = [1_790_000_000.0]
    store = SqliteCampaignStore(database, retention_days=30, clock=lambda: clock[0])
    for code in ("qz-orange-box", "qz-orange-box", "bt-mooncake"):
        store.record(code)
    clock[0] += 86400
    store.record("qz-orange-box")
    assert store.summary(7) == [("qz-orange-box", 3), ("bt-mooncake", 1)]
    assert [n for _, n in store.per_day("qz-orange-box", 7)] == [2, 1]
    clock[0] += 40 * 86400
    store.record("bt-mooncake")  # the days past retention go
    assert store.summary(365) == [("bt-mooncake", 1)]


def test_suggestions_their_answers_and_delivery(database: Database) -> None:
    store = SqliteSuggestionStore(database)
    now = 1_790_000_000.0
    store.start_waiting(9_000_000_001, now)
    store.start_waiting(9_000_000_001, now + 5)  # asked again: one prompt, the later time
    assert store.is_waiting(9_000_000_001, now + 5 + 60)
    first = store.submit(9_000_000_001, 9_000_000_001, "zh", "路灯坏了 138****5678", now + 10)
    assert first.reference.startswith("S") and first.delivery == "queued"
    assert not store.is_waiting(9_000_000_001, now + 11)  # the text ended the prompt
    second = store.submit(9_000_000_001, 9_000_000_001, "zh", "多办讲座", now + 20)
    assert second.id > first.id
    assert store.submitted_on(9_000_000_001, china_day(now)) == 2
    assert [s.id for s in store.undelivered()] == [first.id, second.id]
    store.delivered(first.id, 2_000_000_001)
    store.add_bureau_message(first.id, 2_000_000_002)
    assert store.failed_attempt(second.id) == 1
    store.refuse(second.id)
    assert store.undelivered() == []
    found = store.by_bureau_message(2_000_000_001)
    assert found is not None and found.bureau_messages == (2_000_000_001, 2_000_000_002)
    for words in ("收到", "已转交路灯所", "已修好"):
        answered = store.answer(first.id, words, "Officer Li", now + 100)  # one instant
    assert [a.text for a in answered.answers] == ["收到", "已转交路灯所", "已修好"]  # as given
    assert answered.status == "answered"
    decided = store.decide(first.id, "resolved", "Officer Wang")
    assert decided is not None and decided.status == "resolved"
    assert store.decide(first.id, "resolved", "Officer Wang") is None
    assert [s.id for s in store.for_user(9_000_000_001)] == [second.id, first.id]
    assert {s.id for s in store.forget_user(9_000_000_001)} == {first.id, second.id}
    assert store.count(9_000_000_001) == 0
    assert database.execute("SELECT COUNT(*) FROM suggestion_answers").fetchone()[0] == 0
    assert store.submitted_on(9_000_000_001, china_day(now)) == 2  # the limit holds
    third = store.submit(5, 5, "en", "More talks", now)
    store.delivered(third.id, 7)
    assert store.purge(now + 1, now + 2 * 86400) == 1
    assert store.get(third.id) is None and store.submitted_on(5, china_day(now)) == 0
