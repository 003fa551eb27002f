"""Citizen reports: the pure conversation, the store, and the Telegram side through the real
Application and the fake Bot API (restart mid-report, review chat down, /forget, forged
decisions). The conversation scripts in tests/conversations/report_*.yaml cover the paths a
resident walks."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import (
    callback_update,
    chat_dict,
    media_content,
    message_dict,
    text_update,
    update_from,
    user_dict,
)
from bot.cli import main
from bot.config import ConfigError, Settings
from bot.core.report_flow import (
    Draft,
    Media,
    ReportFlow,
    ReportInput,
    ReportLimits,
    ReportStep,
    Step,
)
from bot.core.responder import Responder
from bot.store.database import Database
from bot.store.reports import SqliteReportStore
from bot.telegram import reports, review
from bot.telegram.app import build_application
from bot.telegram.delivery import stop_delivery
from tests.bot_api_server import BotApiServer
from tests.conftest import ROOT, TEST_TOKEN

REVIEW_CHAT = -1_001_234_567_890
OFFICER = 77
RESIDENT = 5150


# -- the pure conversation -------------------------------------------------------------------


def _walk(flow: ReportFlow, *events: ReportInput, kind: str = "helmet") -> Draft:
    step = flow.start("zh", consented=True, now=0.0)
    assert step.draft is not None
    step = flow.advance(step.draft, ReportInput(action=f"report:kind:{kind}"), 1.0)
    for event in events:
        assert step.draft is not None
        step = flow.advance(step.draft, event, 2.0)
    assert step.draft is not None
    return step.draft


PHOTO = ReportInput(media=Media("photo", "file-1", 150_000))


def test_helmet_report_needs_a_photo(responder: Responder) -> None:
    flow = ReportFlow(responder)
    draft = _walk(flow)
    for action in ("report:done", "report:nomedia"):  # stale or forged buttons
        step = flow.advance(draft, ReportInput(action=action), 3.0)
        assert step.draft is not None and step.draft.step is Step.MEDIA
        assert step.reply is not None and "至少需要一张照片" in step.reply.text
    assert _walk(flow, PHOTO, ReportInput(action="report:done")).step is Step.PLACE


def test_fraud_clue_may_be_text_only_but_then_needs_a_description(responder: Responder) -> None:
    flow = ReportFlow(responder)
    draft = _walk(
        flow,
        ReportInput(action="report:nomedia"),
        ReportInput(text="微信群"),
        ReportInput(action="report:now"),
        kind="fraud",
    )
    assert draft.step is Step.DESCRIPTION
    skipped = flow.advance(draft, ReportInput(action="report:skip"), 3.0)
    assert skipped.draft is not None and skipped.draft.step is Step.DESCRIPTION
    assert skipped.reply is not None and "需要一段文字描述" in skipped.reply.text
    described = flow.advance(draft, ReportInput(text="对方冒充客服让我退款"), 3.0)
    assert described.draft is not None and described.draft.step is Step.CONFIRM


def test_media_count_and_size_limits(responder: Responder) -> None:
    flow = ReportFlow(responder, ReportLimits(max_media=2, max_media_mb=1))
    draft = _walk(flow, PHOTO, PHOTO)
    too_many = flow.advance(draft, PHOTO, 3.0)
    assert too_many.draft is not None and len(too_many.draft.media) == 2
    assert too_many.reply is not None and "最多只能附 2 个" in too_many.reply.text
    big = ReportInput(media=Media("video", "file-2", 2 * 1024 * 1024))
    too_big = flow.advance(_walk(flow), big, 3.0)
    assert too_big.draft is not None and too_big.draft.media == ()
    assert too_big.reply is not None and "太大" in too_big.reply.text


def _unchanged(step: ReportStep, draft: Draft) -> bool:
    """The step refused the input: same draft apart from the time it was touched."""
    return step.draft is not None and replace(step.draft, updated_at=draft.updated_at) == draft


def test_text_limits_at_place_time_and_description(responder: Responder) -> None:
    flow = ReportFlow(responder, ReportLimits(time_chars=5, description_chars=10))
    at_place = _walk(flow, PHOTO, ReportInput(action="report:done"))
    assert _unchanged(flow.advance(at_place, ReportInput(text="x" * 201), 3.0), at_place)
    at_time = flow.advance(at_place, ReportInput(text="保城镇"), 3.0).draft
    assert at_time is not None and at_time.step is Step.TIME
    assert _unchanged(flow.advance(at_time, ReportInput(text="昨天晚上九点多"), 3.0), at_time)
    at_text = flow.advance(at_time, ReportInput(text="昨晚"), 3.0).draft
    assert at_text is not None and at_text.step is Step.DESCRIPTION
    assert _unchanged(flow.advance(at_text, ReportInput(text="字" * 11), 3.0), at_text)


def test_cancel_ends_the_conversation_from_every_step(responder: Responder) -> None:
    flow = ReportFlow(responder)
    draft = flow.start("en", consented=False, now=0.0).draft
    assert draft is not None
    for event in (
        ReportInput(action="report:agree"),
        ReportInput(action="report:kind:other"),
        ReportInput(action="report:nomedia"),
        ReportInput(text="market"),
        ReportInput(action="report:now"),
        ReportInput(text="someone forces stall keepers to buy from him"),
    ):
        cancelled = flow.advance(draft, ReportInput(action="report:cancel"), 1.0)
        assert cancelled.draft is None and cancelled.reply is not None
        assert "Cancelled" in cancelled.reply.text
        step = flow.advance(draft, event, 1.0)
        assert step.draft is not None and step.draft.step is not draft.step
        draft = step.draft
    assert draft.step is Step.CONFIRM
    assert flow.advance(draft, ReportInput(action="report:submit"), 1.0).submit


def test_draft_survives_json_and_expires() -> None:
    draft = Draft(
        Step.TIME, "zh", 100.0, "helmet", (Media("photo", "f", 10),), None, 18.6, 109.7, None
    )
    assert Draft.from_json(draft.to_json()) == draft
    assert not draft.expired(100.0 + 60) and draft.expired(100.0 + 3 * 3600)


ACTIONS = [
    *(f"report:{a}" for a in ("agree", "done", "nomedia", "now", "skip", "submit", "cancel")),
    *(f"report:kind:{k}" for k in ("helmet", "fraud", "drugs", "other", "nope")),
]
INPUTS = st.one_of(
    st.builds(ReportInput, text=st.text(max_size=300) | st.just("举报\ud800内容")),
    st.builds(ReportInput, action=st.sampled_from(ACTIONS) | st.text(max_size=20)),
    st.builds(
        ReportInput,
        media=st.builds(
            Media,
            st.sampled_from(["photo", "video"]),
            st.text(min_size=1, max_size=20),
            st.none() | st.integers(0, 50 * 1024 * 1024),
        ),
    ),
    st.builds(ReportInput, location=st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
    st.just(ReportInput()),  # a sticker, a voice note
)
UNFILLED = re.compile(r"\{[a-z_]+\}")


@given(
    events=st.lists(INPUTS, max_size=40),
    consented=st.booleans(),
    lang=st.sampled_from(["zh", "en"]),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_sequence_of_inputs_keeps_the_conversation_sound(
    responder: Responder, events: list[ReportInput], consented: bool, lang: str
) -> None:
    flow = ReportFlow(responder, ReportLimits(max_media=3))
    step = flow.start(lang, consented, 0.0)
    for event in events:
        draft = step.draft
        if draft is None or step.submit:
            break
        step = flow.advance(draft, event, 1.0)
        if step.submit:  # only from the summary, and only a complete report
            assert draft.step is Step.CONFIRM and draft.kind and (draft.media or draft.description)
            continue
        assert step.reply is not None and step.reply.text.strip()
        assert not UNFILLED.search(step.reply.text), step.reply.text
        if step.draft is not None:
            assert len(step.draft.media) <= 3
            assert Draft.from_json(step.draft.to_json()) == step.draft
            step.draft.to_json().encode("utf-8")  # storable: no lone surrogates


# -- the store -------------------------------------------------------------------------------


def test_store_references_decisions_forget_and_retention() -> None:
    store = SqliteReportStore(Database(":memory:"))
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="冒充客服")
    first = store.submit(RESIDENT, RESIDENT, draft, now=1_000.0)
    second = store.submit(RESIDENT, RESIDENT, draft, now=2_000.0)
    assert first.reference != second.reference and first.reference.startswith("R700101-")
    assert store.submitted_on(RESIDENT, "1970-01-01") == 2 and store.count(RESIDENT) == 2
    assert [r.id for r in store.undelivered()] == [first.id, second.id]
    store.set_delivery(first.id, "delivered", (11, 12))
    decided = store.decide(first.id, "accepted", "王警官", 3_000.0)
    assert decided is not None and decided.status == "accepted" and decided.decided_by == "王警官"
    assert store.decide(first.id, "rejected", "李警官", 3_100.0) is None  # decided once only
    assert store.purge(before=10_000.0, now=10_000.0) == 1  # the undelivered one stays
    assert [r.id for r in store.for_user(RESIDENT)] == [second.id]
    assert [r.id for r in store.forget_user(RESIDENT)] == [second.id]
    assert store.for_user(RESIDENT) == [] and store.undelivered() == []
    # Today's count outlives /forget (or forgetting would reset the daily limit) but not the day.
    assert store.submitted_on(RESIDENT, "1970-01-01") == 2
    store.purge(before=0.0, now=2 * 86400.0)
    assert store.submitted_on(RESIDENT, "1970-01-01") == 0


def test_review_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"ANTIFRAUD_REVIEW_CHAT": "-1001", "ANTIFRAUD_ADMINS": "5,6", "ANTIFRAUD_REVIEW_KEEP": ""}
    )
    assert settings.review_chat == -1001 and settings.reviewers == {5, 6}
    assert settings.review_keep == "none" and settings.report_daily_limit == 3
    for name, value in (
        ("ANTIFRAUD_REVIEW_CHAT", "reviewers"),
        ("ANTIFRAUD_REPORT_MAX_MEDIA", "11"),
        ("ANTIFRAUD_REPORT_DAILY_LIMIT", "0"),
        ("ANTIFRAUD_REVIEW_KEEP", "everything"),
        ("ANTIFRAUD_REVIEWERS", "officer wang"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


# -- through the Application -----------------------------------------------------------------


def _settings(**changes: object) -> Settings:
    return Settings(
        token=TEST_TOKEN,
        review_chat=REVIEW_CHAT,
        reviewers=frozenset({OFFICER}),
        **changes,  # type: ignore[arg-type]
    )


async def _started(
    responder: Responder, api: FakeBotApi, database: Database, **changes: object
) -> Application:
    application = build_application(_settings(**changes), responder, database, request=api)
    await application.initialize()
    await application.start()
    return application


async def _stopped(application: Application) -> None:
    await stop_delivery(application, review.DELIVERY)
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def reporting(responder: Responder, api: FakeBotApi) -> AsyncIterator[Application]:
    application = await _started(responder, api, Database(":memory:"))
    yield application
    await _stopped(application)


async def _say(app: Application, text: str) -> None:
    await app.process_update(text_update(app.bot, text, user_id=RESIDENT))


async def _press(app: Application, action: str, user_id: int = RESIDENT, **where: object) -> None:
    await app.process_update(callback_update(app.bot, action, user_id=user_id, **where))  # type: ignore[arg-type]


async def _send(app: Application, kind: str, **extra: object) -> None:
    content = {**media_content(kind), **extra}
    message = message_dict(user_dict(RESIDENT), chat_dict(RESIDENT), **content)
    await app.process_update(update_from({"message": message}, app.bot))


async def _send_file(app: Application, document: dict) -> None:
    message = message_dict(user_dict(RESIDENT), chat_dict(RESIDENT), document=document)
    await app.process_update(update_from({"message": message}, app.bot))


async def _report_up_to_the_kind(app: Application) -> None:
    await _say(app, "/report")
    await _press(app, "report:agree")
    await _press(app, "report:kind:helmet")


async def _report_up_to_the_photo(app: Application) -> None:
    await _report_up_to_the_kind(app)
    await _send(app, "photo")


async def _finish_report(app: Application) -> None:
    await _press(app, "report:done")
    await _send(app, "location")
    await _press(app, "report:now")
    await _say(app, "两个人骑车都没戴头盔")
    await _press(app, "report:submit")


def _texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [str(c.params.get("text") or "") for c in api.shown_in(chat_id)]


async def test_a_restart_mid_report_continues_where_it_stopped(
    responder: Responder, tmp_path: Path
) -> None:
    path = str(tmp_path / "bot.db")
    first_api = FakeBotApi()
    first = await _started(responder, first_api, Database(path))
    await _report_up_to_the_photo(first)
    assert "已收到 1 个" in _texts(first_api, RESIDENT)[-1]
    await _stopped(first)

    api = FakeBotApi()  # a new process: new Application, new connection, same database file
    second = await _started(responder, api, Database(path))
    try:
        await _say(second, "/report")  # asking again shows the step they were at
        assert "已收到 1 个" in _texts(api, RESIDENT)[-1]
        await _finish_report(second)
        assert "举报已提交" in _texts(api, RESIDENT)[-1]
        [report] = second.bot_data[review.REPORTS].for_user(RESIDENT)
        assert report.kind == "helmet" and len(report.media) == 1 and report.latitude == 18.64
        assert report.delivery == "delivered"
        assert api.sent("sendPhoto")[0]["chat_id"] == REVIEW_CHAT
    finally:
        await _stopped(second)


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (502, "Bad Gateway"),
        (403, "Forbidden: bot was kicked from the supergroup chat"),
        (400, "Bad Request: chat not found"),
    ],
)
async def test_review_chat_down_queues_the_report_then_delivers_it(
    reporting: Application, api: FakeBotApi, status: int, description: str
) -> None:
    api.fail_chat(REVIEW_CHAT, status, description, times=3)
    await _report_up_to_the_photo(reporting)
    await _finish_report(reporting)
    store = reporting.bot_data[review.REPORTS]
    assert "举报已提交" in _texts(api, RESIDENT)[-1]  # the resident has their reference
    [queued] = store.undelivered()
    assert queued.delivery == "queued" and _texts(api, REVIEW_CHAT) == []

    delivery = reporting.bot_data[review.DELIVERY]
    delivery.retry_after = 0.01  # the worker backs off from here
    delivery.start()
    for _ in range(500):
        if not store.undelivered():
            break
        await asyncio.sleep(0.01)
    assert store.undelivered() == []
    summaries = [t for t in _texts(api, REVIEW_CHAT) if "新举报" in t]
    assert len(summaries) == 1 and queued.reference in summaries[0]
    assert len(api.sent("sendPhoto")) == 1


async def test_media_telegram_refuses_for_good_do_not_hold_up_the_report(
    reporting: Application, api: FakeBotApi
) -> None:
    api.fail_next("sendPhoto", status=400, description="Bad Request: wrong file identifier")
    await _report_up_to_the_photo(reporting)
    await _finish_report(reporting)
    assert reporting.bot_data[review.REPORTS].undelivered() == []
    summary = next(t for t in _texts(api, REVIEW_CHAT) if "新举报" in t)
    assert "Telegram 拒绝转发这条举报的照片或视频" in summary


async def test_queued_reports_are_delivered_after_a_restart(
    responder: Responder, tmp_path: Path
) -> None:
    path = str(tmp_path / "bot.db")
    down = FakeBotApi()
    down.fail_chat(REVIEW_CHAT, 502, "Bad Gateway", times=1)
    first = await _started(responder, down, Database(path))
    await _report_up_to_the_photo(first)
    await _finish_report(first)
    await _stopped(first)

    api = FakeBotApi()
    second = await _started(responder, api, Database(path))
    try:
        assert second.post_init is not None
        await second.post_init(second)  # start-up work, as `antifraud-bot run` does it
        for _ in range(200):
            if any("新举报" in t for t in _texts(api, REVIEW_CHAT)):
                break
            await asyncio.sleep(0.01)
        assert any("新举报" in t for t in _texts(api, REVIEW_CHAT))
    finally:
        await _stopped(second)


def _review_buttons(api: FakeBotApi) -> tuple[dict[str, str], int]:
    summary = next(c for c in reversed(api.shown_in(REVIEW_CHAT)) if "reply_markup" in c.params)
    markup = summary.params["reply_markup"]
    buttons = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    return buttons, summary.result["message_id"]


async def test_only_reviewers_in_the_review_chat_decide_and_only_once(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_photo(reporting)
    await _finish_report(reporting)
    buttons, message_id = _review_buttons(api)
    accept = buttons["✅ 受理"]
    store = reporting.bot_data[review.REPORTS]
    # a stranger in the review chat, and the officer's id pressing from another chat
    await _press(reporting, accept, user_id=999, chat_id=REVIEW_CHAT, message_id=message_id)
    await _press(reporting, accept, user_id=OFFICER)
    assert [r.status for r in store.for_user(RESIDENT)] == ["pending"]
    refusals = [c.params.get("text") for c in api.calls if c.method == "answerCallbackQuery"]
    assert refusals[-2:] == ["只有指定的审核民警可以处理举报。"] * 2

    await _press(reporting, accept, user_id=OFFICER, chat_id=REVIEW_CHAT, message_id=message_id)
    await _press(reporting, buttons["❌ 不予采纳"], user_id=OFFICER, chat_id=REVIEW_CHAT)
    assert [r.status for r in store.for_user(RESIDENT)] == ["accepted"]
    told = [t for t in _texts(api, RESIDENT) if "已被民警受理" in t]
    assert len(told) == 1
    last_answer = [c for c in api.calls if c.method == "answerCallbackQuery"][-1]
    assert "已经审核过了：已受理" in last_answer.params["text"]


@pytest.mark.parametrize("keep", ["none", "accepted"])
async def test_forget_removes_reports_and_the_review_copies_the_bureau_need_not_keep(
    responder: Responder, api: FakeBotApi, keep: str
) -> None:
    app = await _started(responder, api, Database(":memory:"), review_keep=keep)
    try:
        await _report_up_to_the_photo(app)
        await _finish_report(app)
        buttons, message_id = _review_buttons(api)
        await _press(
            app, buttons["✅ 受理"], user_id=OFFICER, chat_id=REVIEW_CHAT, message_id=message_id
        )
        store = app.bot_data[review.REPORTS]
        [report] = store.for_user(RESIDENT)
        await _say(app, "/forget")
        assert "举报" in _texts(api, RESIDENT)[-1] and store.for_user(RESIDENT) == []
        deleted = [int(c.params["message_id"]) for c in api.calls if c.method == "deleteMessage"]
        if keep == "none":
            assert sorted(deleted) == sorted(report.review_messages) and len(deleted) == 3
        else:
            assert deleted == []  # an accepted report's review copy is the bureau's record
            await _press(
                app, buttons["❌ 不予采纳"], user_id=OFFICER, chat_id=REVIEW_CHAT,
                message_id=message_id,
            )  # fmt: skip
            answer = [c for c in api.calls if c.method == "answerCallbackQuery"][-1]
            assert "这条举报已不存在" in answer.params["text"]
        await _say(app, "/report")  # and the privacy notice is shown again
        assert "提交举报前请先了解" in _texts(api, RESIDENT)[-1]
    finally:
        await _stopped(app)


async def test_review_copies_too_old_to_delete_are_flagged_to_the_officers(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_photo(reporting)
    await _finish_report(reporting)
    for _ in range(3):  # Telegram refuses to delete messages older than 48 hours
        api.fail_next(
            "deleteMessage", status=400, description="Bad Request: message can't be deleted"
        )
    await _say(reporting, "/forget")
    notes = [t for t in _texts(api, REVIEW_CHAT) if "要求删除其数据" in t]
    assert len(notes) == 1


async def test_oversized_video_is_refused_politely(reporting: Application, api: FakeBotApi) -> None:
    await _report_up_to_the_kind(reporting)
    content = media_content("video")
    content["video"]["file_size"] = 21 * 1024 * 1024
    message = message_dict(user_dict(RESIDENT), chat_dict(RESIDENT), **content)
    await reporting.process_update(update_from({"message": message}, reporting.bot))
    assert "太大" in _texts(api, RESIDENT)[-1]
    draft = reporting.bot_data[review.REPORTS].draft(RESIDENT)
    assert draft is not None and draft.media == ()


async def test_an_abandoned_draft_expires_and_questions_are_answered_again(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_photo(reporting)
    store = reporting.bot_data[review.REPORTS]
    draft = store.draft(RESIDENT)
    assert draft is not None
    store.save_draft(RESIDENT, Draft.from_json(draft.to_json().replace(
        f'"updated_at": {draft.updated_at}', f'"updated_at": {time.time() - 3 * 3600}'
    )))  # fmt: skip
    await _say(reporting, "有人自称公安让我把钱转到安全账户")
    assert "安全账户" in _texts(api, RESIDENT)[-1]


async def test_an_album_is_acknowledged_once(
    reporting: Application, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "ALBUM_QUIET", 0.05)
    await _report_up_to_the_kind(reporting)
    before = len(api.shown_in(RESIDENT))
    for _ in range(3):  # an album arrives as one message per photo
        content = {**media_content("photo"), "media_group_id": "album-1"}
        message = message_dict(user_dict(RESIDENT), chat_dict(RESIDENT), **content)
        await reporting.process_update(update_from({"message": message}, reporting.bot))
    assert len(api.shown_in(RESIDENT)) == before
    await asyncio.sleep(0.2)
    assert _texts(api, RESIDENT)[before:] == [_texts(api, RESIDENT)[-1]]
    assert "已收到 3 个" in _texts(api, RESIDENT)[-1]


def test_the_reports_command_shows_the_queue_without_personal_details(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.db"
    store = SqliteReportStore(Database(str(path)))
    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="电话 13812345678")
    delivered = store.submit(RESIDENT, RESIDENT, draft, now=time.time() - 60)
    store.set_delivery(delivered.id, "delivered", (1,))
    queued = store.submit(RESIDENT, RESIDENT, draft, now=time.time())
    monkeypatch.setenv("ANTIFRAUD_DB", str(path))
    out = io.StringIO()
    assert main(["reports"], out=out) == 0
    text = out.getvalue()
    assert f"waiting for the review chat: 1 (oldest {queued.reference}" in text
    assert delivered.reference in text and "delivered" in text
    assert "13812345678" not in text and "集市" not in text


async def test_a_photo_caption_is_kept_as_part_of_the_description(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_kind(reporting)
    await _send(reporting, "photo", caption="七仙岭大道，后座小孩没戴头盔")
    await _finish_report(reporting)
    summary = next(t for t in _texts(api, REVIEW_CHAT) if "新举报" in t)
    assert "七仙岭大道，后座小孩没戴头盔" in summary and "两个人骑车都没戴头盔" in summary


async def test_photos_sent_as_files_are_accepted_and_forwarded_as_files(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_kind(reporting)
    original = {"file_id": "doc-1", "file_unique_id": "d1", "file_size": 3_000_000}
    await _send_file(reporting, {**original, "mime_type": "image/jpeg"})
    await _send(reporting, "photo")
    assert "已收到 2 个" in _texts(api, RESIDENT)[-1]
    await _send_file(reporting, {**original, "mime_type": "application/pdf"})
    assert "这一步需要照片或视频" in _texts(api, RESIDENT)[-1]
    await _finish_report(reporting)
    assert [c.method for c in api.shown_in(REVIEW_CHAT)] == [
        "sendPhoto", "sendDocument", "sendLocation", "sendMessage"
    ]  # fmt: skip
    assert "2 张照片" in _texts(api, REVIEW_CHAT)[-1]


async def test_a_message_delivered_twice_is_applied_once(
    reporting: Application, api: FakeBotApi
) -> None:
    await _report_up_to_the_photo(reporting)
    await _press(reporting, "report:done")
    place = text_update(reporting.bot, "保城镇新星路口", user_id=RESIDENT)
    await reporting.process_update(place)
    replies = len(api.shown_in(RESIDENT))
    await reporting.process_update(place)  # Telegram re-sends it after a crash, say
    assert len(api.shown_in(RESIDENT)) == replies
    draft = reporting.bot_data[review.REPORTS].draft(RESIDENT)
    assert draft is not None and draft.step is Step.TIME and draft.occurred is None


# -- a real process, killed mid-report -------------------------------------------------------


class _Telegram:
    """Plays the resident's side against a BotApiServer: pushes updates, waits for replies."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.update_ids = itertools.count(1)

    def _push(self, **update: object) -> None:
        update_id = next(self.update_ids)
        self.server.push({"update_id": update_id, **update})

    def _message(self, **content: object) -> dict:
        sender, chat = user_dict(RESIDENT), chat_dict(RESIDENT)
        return {**message_dict(sender, chat, **content), "message_id": next(self.update_ids)}

    def say(self, text: str) -> None:
        self._push(message={**self._message(text=text), **_command_entities(text)})

    def send(self, kind: str, **extra: object) -> None:
        self._push(message=self._message(**media_content(kind), **extra))

    def press(self, data: str) -> None:
        bot_message = {"message_id": 1, "date": 0, "chat": chat_dict(RESIDENT), "text": "…"}
        query = {"id": "q", "from": user_dict(RESIDENT), "chat_instance": "1", "data": data}
        self._push(callback_query={**query, "message": bot_message})

    def wait_for(self, chat_id: int, needle: str, since: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.server.texts_to(chat_id)
            if any(needle in t for t in texts[since:]):
                return len(texts)
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} never arrived; got {self.server.texts_to(chat_id)}")


def _command_entities(text: str) -> dict:
    if not text.startswith("/"):
        return {}
    return {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}


def test_kill_9_mid_report_then_the_report_continues_and_is_delivered(tmp_path: Path) -> None:
    """`antifraud-bot run` polling a loopback Bot API; SIGKILL after the photo; a new process
    carries on from the place question and the report reaches the review chat."""
    with BotApiServer() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "ANTIFRAUD_DB": str(tmp_path / "bot.db"),
            "ANTIFRAUD_REVIEW_CHAT": str(REVIEW_CHAT),
            "ANTIFRAUD_REVIEWERS": str(OFFICER),
        }
        log = (tmp_path / "bot.log").open("w")
        command = [sys.executable, "-m", "bot.cli", "run"]
        resident = _Telegram(server)

        def start() -> subprocess.Popen:
            return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)

        bot = start()
        try:
            resident.say("/report")
            seen = resident.wait_for(RESIDENT, "提交举报前请先了解", 0)
            resident.press("report:agree")
            seen = resident.wait_for(RESIDENT, "你要举报什么", seen)
            resident.press("report:kind:helmet")
            seen = resident.wait_for(RESIDENT, "请发送照片或视频", seen)
            resident.send("photo")
            seen = resident.wait_for(RESIDENT, "已收到 1 个", seen)
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)

            bot = start()
            resident.press("report:done")
            seen = resident.wait_for(RESIDENT, "在哪里发生的", seen)
            resident.send("location")
            seen = resident.wait_for(RESIDENT, "什么时候发生的", seen)
            resident.press("report:now")
            seen = resident.wait_for(RESIDENT, "简单描述", seen)
            resident.say("两个人骑一辆电动车，都没戴头盔")
            seen = resident.wait_for(RESIDENT, "1 张照片", seen)
            resident.press("report:submit")
            resident.wait_for(RESIDENT, "举报已提交", seen)
            resident.wait_for(REVIEW_CHAT, "两个人骑一辆电动车", 0)
        finally:
            bot.terminate()
            bot.wait(timeout=20)
            log.close()
    kinds = [m for m, p in server.messages if int(p["chat_id"]) == REVIEW_CHAT]
    assert kinds == ["sendPhoto", "sendLocation", "sendMessage"]
    assert TEST_TOKEN not in (tmp_path / "bot.log").read_text()
