"""`antifraud-bot db copy --from FILE --to URL`: a county's SQLite data moves into PostgreSQL,
every row and id kept, and the bot goes on there (new ids do not collide)."""

from __future__ import annotations

import io
from pathlib import Path

from bot.broadcast.alerts import Alert
from bot.broadcast.outbox import Outbox
from bot.cli import main
from bot.core.conversation import ConversationState
from bot.core.report_flow import Draft, Step
from bot.store.campaigns import SqliteCampaignStore
from bot.store.conversations import SqliteConversationStore, SqliteFeedbackStore
from bot.store.database import Database
from bot.store.group_guard import SqliteGuardStore
from bot.store.insights import SqliteInsightsStore
from bot.store.preferences import SqlitePreferenceStore
from bot.store.reports import SqliteReportStore
from bot.store.subscriptions import SqliteSubscriptionStore
from bot.store.suggestions import SqliteSuggestionStore

ALERT = Alert(
    id="w",
    title={"zh": "预警", "en": "Alert"},
    body={"zh": "内容", "en": "Text"},
    topics=("fraud",),
)
NOW = 1_790_000_000.0


def _county(path: Path) -> None:
    db = Database(str(path))
    SqlitePreferenceStore(db).set_language(11, "en")
    subs = SqliteSubscriptionStore(db)
    for chat in (11, 12, -1001234567890):
        subs.subscribe(chat, abs(chat) % 1000, "zh")
    Outbox(db).enqueue(ALERT, started_by=11)
    reports = SqliteReportStore(db)
    reports.consent(11)
    reports.save_draft(12, Draft(Step.PLACE, "zh", NOW, "fraud"))
    draft = Draft(Step.CONFIRM, "zh", NOW, "fraud", (), "集市", description="冒充客服")
    reports.submit(11, 11, draft, NOW)
    reports.submit(11, 11, draft, NOW + 1)
    SqliteInsightsStore(db, clock=lambda: NOW).record("没答上的问题", None, "fallback")
    SqliteGuardStore(db).set_enabled(-1001234567890, False)
    state = ConversationState(topic="fraud", last_card="fraud.victim", at=NOW)
    SqliteConversationStore(db, clock=lambda: NOW).put(-1001234567890, 12, state)
    SqliteFeedbackStore(db, clock=lambda: NOW).count("fraud.victim", True)
    subs.set_audiences(12, ("merchants",))
    SqliteCampaignStore(db, clock=lambda: NOW).record("qz-orange-box")
    suggestions = SqliteSuggestionStore(db)
    made = suggestions.submit(11, 11, "zh", "多办讲座", NOW)
    suggestions.delivered(made.id, 501)
    for words in ("收到", "已办"):
        suggestions.answer(made.id, words, "Officer Li", NOW + 5)
    db.close()


def _copy(source: Path, target: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["db", "copy", "--from", str(source), "--to", target], out=out), out.getvalue()


def test_a_county_file_moves_into_postgresql(tmp_path: Path, postgres_url: str) -> None:
    file = tmp_path / "county.db"
    _county(file)
    code, printed = _copy(file, postgres_url)
    assert code == 0, printed
    assert "outbox: 3" in printed and "reports: 2" in printed

    before, after = Database(str(file)), Database(postgres_url)
    old, new = SqliteReportStore(before), SqliteReportStore(after)
    assert new.for_user(11) == old.for_user(11)  # ids, references, details, states
    assert new.has_consented(11) and new.draft(12) == old.draft(12)
    assert SqlitePreferenceStore(after).get_language(11) == "en"
    assert SqliteSubscriptionStore(after).get(-1001234567890) == SqliteSubscriptionStore(
        before
    ).get(-1001234567890)
    assert not SqliteGuardStore(after).enabled(-1001234567890)
    assert Outbox(after).status("w") == Outbox(before).status("w")
    summary = SqliteInsightsStore(after, clock=lambda: NOW).summary(7)
    assert summary.unanswered == [("没答上的问题", 1)]
    talk = SqliteConversationStore(after, clock=lambda: NOW).get(-1001234567890)
    assert talk.last_card == "fraud.victim"
    assert SqliteFeedbackStore(after, clock=lambda: NOW).summary(7) == [("fraud.victim", 1, 0)]
    assert SqliteSubscriptionStore(after).get(12).audiences == ("merchants",)
    assert SqliteCampaignStore(after, clock=lambda: NOW).summary(7) == [("qz-orange-box", 1)]
    moved = SqliteSuggestionStore(after)
    assert moved.for_user(11) == SqliteSuggestionStore(before).for_user(11)  # answers in order
    assert moved.by_bureau_message(501) is not None
    later = moved.submit(12, 12, "zh", "又一个", NOW + 9)  # identities moved past the copy
    assert later.id > moved.for_user(11)[0].id
    assert [a.text for a in moved.answer(later.id, "好", "Officer Li", NOW).answers] == ["好"]
    # The bot goes on in PostgreSQL: the next report gets a new id.
    draft = Draft(Step.CONFIRM, "zh", NOW, "fraud", (), "集市", description="又一个")
    third = new.submit(12, 12, draft, NOW + 2)
    assert third.id > max(r.id for r in old.for_user(11))
    before.close(), after.close()


def test_a_target_in_use_is_refused(tmp_path: Path, postgres_url: str, capsys) -> None:
    file = tmp_path / "county.db"
    _county(file)
    assert _copy(file, postgres_url)[0] == 0
    code, _ = _copy(file, postgres_url)  # again: the target has rows now
    assert code == 2
    assert "not empty" in capsys.readouterr().err


def test_wrong_directions_are_refused(tmp_path: Path, capsys) -> None:
    file = tmp_path / "county.db"
    Database(str(file)).close()
    assert _copy(file, str(tmp_path / "other.db"))[0] == 2
    assert "postgresql://" in capsys.readouterr().err
    assert _copy(tmp_path / "missing.db", "postgresql://u@127.0.0.1:1/x")[0] == 2
