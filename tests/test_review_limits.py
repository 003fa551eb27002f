"""The review chat against Telegram's limits (issue 12): a long or crafted report must reach the
officers, must never hold up the reports behind it, and a decision must reach the resident
whatever the lengths. The fake Bot API refuses texts over 4096 and captions over 1024
characters, as Telegram does."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.cli import main
from bot.core.report_flow import Draft, Step
from bot.core.responder import Responder
from bot.core.telegram_limits import CAPTION_LIMIT, TEXT_LIMIT, telegram_length
from bot.store.database import Database
from bot.store.reports import SqliteReportStore
from bot.telegram import review
from tests.bot_api_server import BotApiServer
from tests.conftest import ROOT, TEST_TOKEN
from tests.test_reports import (
    OFFICER,
    RESIDENT,
    REVIEW_CHAT,
    _press,
    _review_buttons,
    _say,
    _send,
    _started,
    _stopped,
    _Telegram,
    _texts,
)

ERROR_REPLY = "出了点问题"


@pytest.fixture
async def reporting(responder: Responder, api: FakeBotApi) -> AsyncIterator[Application]:
    """A resident who writes three reports in a row sends more than the flood limit's worth
    of messages: these tests are about the review chat, not about flooding."""
    application = await _started(responder, api, Database(":memory:"), flood_messages=1000)
    yield application
    await _stopped(application)


def _summaries(api: FakeBotApi) -> list[str]:
    """The review summaries the review chat received, in order."""
    sent = [str(p["text"]) for p in api.sent() if int(p["chat_id"]) == REVIEW_CHAT]
    return [text for text in sent if "新举报" in text]


async def _long_helmet_report(
    app: Application, description_chars: int = 1000, filler: str = "路"
) -> None:
    """As long as the bot lets a resident make it: 3 photos with 1,000-character captions,
    a 200-character place, a 1,000-character description."""
    await _say(app, "/report")
    await _press(app, "report:agree")
    await _press(app, "report:kind:helmet")
    for n in range(3):
        await _send(app, "photo", caption=f"照片{n}" + filler * 997)
    await _press(app, "report:done")
    await _say(app, "保城镇" + "街" * 197)
    await _press(app, "report:now")
    await _say(app, "描" * description_chars)
    await _press(app, "report:submit")


async def _short_fraud_report(app: Application, place: str, description: str) -> None:
    await _say(app, "/report")
    await _press(app, "report:agree")
    await _press(app, "report:kind:fraud")
    await _press(app, "report:nomedia")
    await _say(app, place)
    await _press(app, "report:now")
    await _say(app, description)
    await _press(app, "report:submit")


def _within_limits(api: FakeBotApi) -> None:
    for call in api.calls:
        assert telegram_length(str(call.params.get("text") or "")) <= TEXT_LIMIT
        assert telegram_length(str(call.params.get("caption") or "")) <= CAPTION_LIMIT


# -- finding 1: one long report must not jam the queue -----------------------------------


async def test_a_long_report_and_two_short_ones_all_reach_the_review_chat_in_order(
    reporting: Application, api: FakeBotApi
) -> None:
    await _long_helmet_report(reporting)
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    await _short_fraud_report(reporting, "汽车站", "陌生人让我下载会议软件")
    store = reporting.bot_data[review.REPORTS]
    assert store.undelivered() == []
    long_report, first, second = sorted(store.for_user(RESIDENT), key=lambda r: r.id)
    summaries = _summaries(api)
    assert [s.split("\n")[0] for s in summaries] == [
        f"📥 新举报 {r.reference}" for r in (long_report, first, second)
    ]
    assert "路" * 900 in summaries[0]  # what fits is shown, and the cut is marked
    assert "未显示" in summaries[0]
    assert {r.delivery for r in store.for_user(RESIDENT)} == {"delivered"}
    _within_limits(api)


def test_run_delivers_a_long_report_and_two_short_ones_in_order(tmp_path: Path) -> None:
    """`antifraud-bot run` polling a loopback Bot API that enforces Telegram's limits; no kill,
    no restart: every report reaches the review chat, in the order it was made."""
    with BotApiServer() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "ANTIFRAUD_DB": str(tmp_path / "bot.db"),
            "ANTIFRAUD_REVIEW_CHAT": str(REVIEW_CHAT),
            "ANTIFRAUD_REVIEWERS": str(OFFICER),
            "ANTIFRAUD_FLOOD_MESSAGES": "1000",  # three reports in a row are not a flood
        }
        log = (tmp_path / "bot.log").open("w")
        command = [sys.executable, "-m", "bot.cli", "run"]
        bot = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        resident = _Telegram(server)
        try:
            seen = _walk_long_report(resident)
            for place, description in (
                ("集市东门", "冒充客服要转账"),
                ("汽车站", "让我下载会议软件"),
            ):
                seen = _walk_short_report(resident, seen, place, description)
            resident.wait_for(REVIEW_CHAT, "让我下载会议软件", 0)
        finally:
            bot.terminate()
            bot.wait(timeout=20)
            log.close()
    summaries = [t for t in server.texts_to(REVIEW_CHAT) if "新举报" in t]
    assert len(summaries) == 3
    assert "照片0" in summaries[0] and "冒充客服要转账" in summaries[1]
    assert "让我下载会议软件" in summaries[2]
    assert "BadRequest" not in (tmp_path / "bot.log").read_text()


def _walk_long_report(resident: _Telegram) -> int:
    resident.say("/report")
    seen = resident.wait_for(RESIDENT, "提交举报前请先了解", 0)
    resident.press("report:agree")
    seen = resident.wait_for(RESIDENT, "你要举报什么", seen)
    resident.press("report:kind:helmet")
    seen = resident.wait_for(RESIDENT, "请发送照片或视频", seen)
    for n in range(3):
        resident.send("photo", caption=f"照片{n}" + "路" * 997)
        seen = resident.wait_for(RESIDENT, f"已收到 {n + 1} 个", seen)
    resident.press("report:done")
    seen = resident.wait_for(RESIDENT, "在哪里发生的", seen)
    resident.say("保城镇" + "街" * 197)
    seen = resident.wait_for(RESIDENT, "什么时候发生的", seen)
    resident.press("report:now")
    seen = resident.wait_for(RESIDENT, "简单描述", seen)
    resident.say("描" * 1000)
    seen = resident.wait_for(RESIDENT, "请核对你的举报", seen)
    resident.press("report:submit")
    return resident.wait_for(RESIDENT, "举报已提交", seen)


def _walk_short_report(resident: _Telegram, seen: int, place: str, description: str) -> int:
    resident.say("/report")
    seen = resident.wait_for(RESIDENT, "你要举报什么", seen)
    resident.press("report:kind:fraud")
    seen = resident.wait_for(RESIDENT, "没有的话点", seen)
    resident.press("report:nomedia")
    seen = resident.wait_for(RESIDENT, "在哪里发生的", seen)
    resident.say(place)
    seen = resident.wait_for(RESIDENT, "什么时候发生的", seen)
    resident.press("report:now")
    seen = resident.wait_for(RESIDENT, "请描述一下经过", seen)
    resident.say(description)
    seen = resident.wait_for(RESIDENT, "请核对你的举报", seen)
    resident.press("report:submit")
    return resident.wait_for(RESIDENT, "举报已提交", seen)


async def test_a_summary_of_emoji_fits_even_if_telegram_counts_utf16_units(
    reporting: Application, api: FakeBotApi
) -> None:
    await _long_helmet_report(reporting, filler="😀")
    [summary] = _summaries(api)
    assert len(summary.encode("utf-16-le")) // 2 <= TEXT_LIMIT
    assert "😀" * 300 in summary and "未显示" in summary


async def test_a_summary_telegram_refuses_for_good_is_set_aside_and_the_next_goes_out(
    reporting: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram refuses the first summary for a reason no retry can change (bad entities)
    api.fail_chat(REVIEW_CHAT, 400, "Bad Request: can't parse entities: unsupported tag")
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    await _short_fraud_report(reporting, "汽车站", "陌生人让我下载会议软件")
    store = reporting.bot_data[review.REPORTS]
    refused, delivered = sorted(store.for_user(RESIDENT), key=lambda r: r.id)
    assert refused.delivery == "refused" and delivered.delivery == "delivered"
    assert store.undelivered() == [] and store.refused() == [refused]  # kept, not lost
    assert [s.split("\n")[0] for s in _summaries(api)] == [f"📥 新举报 {delivered.reference}"]
    logged = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(f"report {refused.id}" in m and "can't parse entities" in m.lower() for m in logged)
    assert not any("unreachable" in r.getMessage() for r in caplog.records)


def test_the_reports_command_counts_reports_telegram_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.db"
    store = SqliteReportStore(Database(str(path)))
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="有人冒充客服")
    refused = store.submit(RESIDENT, RESIDENT, draft, now=time.time() - 60)
    store.set_delivery(refused.id, "refused", ())
    queued = store.submit(RESIDENT, RESIDENT, draft, now=time.time())
    monkeypatch.setenv("ANTIFRAUD_DB", str(path))
    out = io.StringIO()
    assert main(["reports"], out=out) == 0
    text = out.getvalue()
    assert f"waiting for the review chat: 1 (oldest {queued.reference}" in text
    assert f"set aside for good: 1 (oldest {refused.reference}" in text
    assert f"{refused.reference}  fraud" in text and "refused" in text


# -- finding 3: what residents type is never filled in -----------------------------------


async def test_placeholders_typed_by_a_resident_are_shown_as_typed(
    reporting: Application, api: FakeBotApi
) -> None:
    place = "{description}" * 15
    description = "{kind}{time}{reference} " + "描" * 900
    await _short_fraud_report(reporting, place, description)
    [summary] = _summaries(api)
    assert f"地点：{place}\n" in summary and f"描述：{description}\n" in summary
    resident_copy = next(t for t in _texts(api, RESIDENT) if "请核对你的举报" in t)
    assert f"地点：{place}\n" in resident_copy and f"描述：{description}\n" in resident_copy
    assert reporting.bot_data[review.REPORTS].undelivered() == []
    _within_limits(api)


# -- finding 4: a decision reaches the resident whatever the lengths ---------------------


async def _decide(app: Application, api: FakeBotApi, first_name: str) -> None:
    buttons, message_id = _review_buttons(api)
    await app.process_update(
        Update.de_json(
            {
                "update_id": 1,
                "callback_query": {
                    "id": "9",
                    "from": {"id": OFFICER, "is_bot": False, "first_name": first_name,
                             "last_name": "警" * 64},
                    "chat_instance": "1",
                    "message": {"message_id": message_id, "date": 0, "text": "(summary)",
                                "chat": {"id": REVIEW_CHAT, "type": "supergroup"}},
                    "data": buttons["✅ 受理"],
                },
            },
            app.bot,
        )
    )  # fmt: skip


@pytest.mark.parametrize("description_chars", [780, 1000])
async def test_accepting_a_summary_at_the_limit_tells_the_resident_and_removes_the_buttons(
    reporting: Application, api: FakeBotApi, description_chars: int
) -> None:
    """780: a summary just under 4096 characters, which the decision line pushed over it."""
    await _long_helmet_report(reporting, description_chars)
    [summary] = _summaries(api)
    await _decide(reporting, api, "王" * 64)
    [report] = reporting.bot_data[review.REPORTS].for_user(RESIDENT)
    assert report.status == "accepted"
    assert any("已被民警受理" in t for t in _texts(api, RESIDENT))
    [edit] = api.sent("editMessageText")
    assert "reply_markup" not in edit and "已受理（审核人" in edit["text"]
    assert edit["text"].split("\n")[0] == summary.split("\n")[0]
    assert not any(ERROR_REPLY in t for t in _texts(api, REVIEW_CHAT))
    _within_limits(api)


async def test_when_the_summary_cannot_be_edited_the_buttons_go_and_the_officer_is_told(
    reporting: Application, api: FakeBotApi
) -> None:
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    api.fail_next(
        "editMessageText", status=400, description="Bad Request: message to edit not found"
    )
    await _decide(reporting, api, "王")
    [report] = reporting.bot_data[review.REPORTS].for_user(RESIDENT)
    assert report.status == "accepted"
    assert any("已被民警受理" in t for t in _texts(api, RESIDENT))
    [unbuttoned] = api.sent("editMessageReplyMarkup")
    assert "reply_markup" not in unbuttoned or not unbuttoned["reply_markup"]
    note = _texts(api, REVIEW_CHAT)[-1]
    assert report.reference in note and "已受理" in note
    assert not any(ERROR_REPLY in t for t in _texts(api, REVIEW_CHAT))


# -- forged button data ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["²", "١", "9" * 30, "1 ", "+1", "-1", ""])
async def test_a_forged_report_number_is_refused_politely(
    reporting: Application, api: FakeBotApi, number: str
) -> None:
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    [report] = reporting.bot_data[review.REPORTS].for_user(RESIDENT)
    assert report.id == 1  # so "١" (Arabic-Indic one) would name it if read as a number
    _, message_id = _review_buttons(api)
    forged = f"review:accept:{number}"
    await _press(reporting, forged, user_id=OFFICER, chat_id=REVIEW_CHAT, message_id=message_id)
    answer = [c.params for c in api.calls if c.method == "answerCallbackQuery"][-1]
    assert answer["text"].startswith("这条举报已不存在")
    assert reporting.bot_data[review.REPORTS].get(1).status == "pending"
    assert not any(ERROR_REPLY in t for t in _texts(api, REVIEW_CHAT))


def test_a_refused_report_is_kept_until_the_retention_period_ends() -> None:
    store = SqliteReportStore(Database(":memory:"))
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="有人冒充客服")
    refused = store.submit(RESIDENT, RESIDENT, draft, now=1000.0)
    store.set_delivery(refused.id, "refused", ())
    assert store.purge(before=999.0, now=2000.0) == 0
    assert [r.reference for r in store.refused()] == [refused.reference]
    assert store.purge(before=1001.0, now=2000.0) == 1 and store.refused() == []


# -- the queue never stalls behind one report (review of the finding 1 fix) --------------


async def _until_the_queue_is_empty(app: Application, rounds: int = 10) -> None:
    """What the background worker does, one pass at a time and without its waits."""
    delivery = app.bot_data[review.DELIVERY]
    for _ in range(rounds):
        if await delivery.deliver_pending() is None:
            return


async def test_a_review_chat_without_the_right_to_post_keeps_reports_queued_until_it_has_it(
    reporting: Application, api: FakeBotApi
) -> None:
    """An admin took the bot's right to post: a 400 about the chat's permissions, not about
    the report. Nothing is refused; once the right is back, both go out in order."""
    api.fail_chat(REVIEW_CHAT, 400, "Bad Request: have no rights to send a message", times=5)
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    await _short_fraud_report(reporting, "汽车站", "陌生人让我下载会议软件")
    store = reporting.bot_data[review.REPORTS]
    assert len(store.undelivered()) == 2 and store.refused() == []
    await _until_the_queue_is_empty(reporting)
    first, second = sorted(store.for_user(RESIDENT), key=lambda r: r.id)
    assert store.undelivered() == [] and store.refused() == []
    assert [s.split("\n")[0] for s in _summaries(api)] == [
        f"📥 新举报 {r.reference}" for r in (first, second)
    ]


@pytest.mark.parametrize(
    "reason", ["Bad Request: TOPIC_CLOSED", "Bad Request: message thread not found"]
)
async def test_other_400s_about_the_review_chat_are_retried_not_refused(
    reporting: Application, api: FakeBotApi, reason: str
) -> None:
    api.fail_chat(REVIEW_CHAT, 400, reason, times=2)
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    store = reporting.bot_data[review.REPORTS]
    assert store.refused() == [] and len(store.undelivered()) == 1
    await _until_the_queue_is_empty(reporting)
    assert store.refused() == [] and store.undelivered() == [] and len(_summaries(api)) == 1


async def test_the_log_gives_telegrams_reason_when_the_review_chat_is_unreachable(
    reporting: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail_chat(REVIEW_CHAT, 400, "Bad Request: chat not found")
    await _short_fraud_report(reporting, "集市东门", "有人冒充客服要我转账")
    logged = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert any("review chat unreachable (BadRequest: Chat not found)" in m for m in logged)


async def test_a_report_whose_summary_cannot_be_built_is_set_aside_and_the_rest_go_out(
    responder: Responder,
    api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug while building one report's message (not Telegram's doing) is tried a few times,
    then that report is set aside, kept and shown to the operator: the queue moves on."""
    path = tmp_path / "bot.db"
    app = await _started(responder, api, Database(str(path)), flood_messages=1000)
    real_summary = review.review_message

    def broken_for_the_second(flow, report, lang, media_lost=False):  # type: ignore[no-untyped-def]
        if "坏" in (report.description or ""):
            raise ValueError("a bug building this one summary")
        return real_summary(flow, report, lang, media_lost)

    monkeypatch.setattr(review, "review_message", broken_for_the_second)
    try:
        await _short_fraud_report(app, "集市东门", "有人冒充客服要我转账")
        await _short_fraud_report(app, "汽车站", "坏的一条")
        await _short_fraud_report(app, "市场", "陌生人让我下载会议软件")
        await _until_the_queue_is_empty(app)
        store = app.bot_data[review.REPORTS]
        first, broken, third = sorted(store.for_user(RESIDENT), key=lambda r: r.id)
        assert store.undelivered() == [] and store.refused() == [broken]
        assert [s.split("\n")[0] for s in _summaries(api)] == [
            f"📥 新举报 {r.reference}" for r in (first, third)
        ]
    finally:
        await _stopped(app)
    failures = [r for r in caplog.records if f"report {broken.id}" in r.getMessage()]
    assert any("ValueError" in r.getMessage() and r.exc_info for r in failures)
    assert any("set aside" in r.getMessage() for r in failures)
    monkeypatch.setenv("ANTIFRAUD_DB", str(path))
    out = io.StringIO()
    assert main(["reports"], out=out) == 0
    assert f"set aside for good: 1 (oldest {broken.reference}" in out.getvalue()
    assert f"{broken.reference}  fraud" in out.getvalue()


def test_failed_delivery_attempts_are_counted_across_restarts(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.db")
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="有人冒充客服")
    report = SqliteReportStore(Database(path)).submit(RESIDENT, RESIDENT, draft, now=1000.0)
    assert SqliteReportStore(Database(path)).failed_attempt(report.id) == 1
    assert SqliteReportStore(Database(path)).failed_attempt(report.id) == 2  # a new process


def test_a_database_from_before_attempts_were_counted_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    path = str(tmp_path / "old.db")
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE reports (id INTEGER PRIMARY KEY, reference TEXT NOT NULL UNIQUE,"
        " user_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, lang TEXT NOT NULL,"
        " details TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
        " delivery TEXT NOT NULL DEFAULT 'queued', review_messages TEXT NOT NULL DEFAULT '[]',"
        " created_at REAL NOT NULL, decided_at REAL, decided_by TEXT);"
    )
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="有人冒充客服")
    old.execute(
        "INSERT INTO reports (reference, user_id, chat_id, lang, details, created_at)"
        " VALUES ('R261201-ABCD', ?, ?, 'zh', ?, 1000.0)",
        (RESIDENT, RESIDENT, draft.to_json()),
    )
    old.commit()
    old.close()
    store = SqliteReportStore(Database(path))
    [kept] = store.undelivered()
    assert kept.reference == "R261201-ABCD"
    assert store.failed_attempt(kept.id) == 1


# -- residents' messages are split by the count the review summary uses -----------------


async def test_a_resident_reply_full_of_emoji_is_split_so_each_part_fits_in_utf16_units(
    reporting: Application, api: FakeBotApi
) -> None:
    """The resident's own copy of a long report of emoji: 4,000-odd characters, twice as
    many UTF-16 units, the count Telegram may apply. Each part must fit by that count."""
    await _long_helmet_report(reporting, filler="😀")
    to_resident = _texts(api, RESIDENT)
    copy = [t for t in to_resident if "😀" * 100 in t]
    assert copy and any("请核对你的举报" in t for t in copy)
    assert all(len(t.encode("utf-16-le")) // 2 <= TEXT_LIMIT for t in to_resident)
    assert "😀" * 900 in "".join(copy)  # split, not cut: every emoji is there
