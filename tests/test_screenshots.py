"""Issue 17: screenshots read offline and rated like forwarded text.

The screenshots are the project's own (tests/render_screenshots.py made the committed PNGs,
in chat, SMS and dark-mode layouts); each is read as PNG and as the JPEG Telegram delivers.
One real reader is shared by the tests that read (session fixtures): a reading costs ~1-5 s.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import LCSseq
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import (
    picture_update,
    reply_to_picture_update,
)
from bot.config import Settings
from bot.core.responder import Responder
from bot.models.ocr import Box, RapidTextReader, join_lines, model_folder
from bot.store.database import Database
from bot.telegram import scam_guard
from bot.telegram.app import build_application
from bot.workers.ocr import OcrWorker
from tests.conftest import ROOT, TEST_TOKEN
from tests.render_screenshots import FOLDER, load_screens, screen_text, telegram_jpeg

SCREENS = {screen["id"]: screen for screen in load_screens()}


def _png(screen_id: str) -> bytes:
    return (FOLDER / f"{screen_id}.png").read_bytes()


def _picture(screen_id: str, form: str) -> bytes:
    return _png(screen_id) if form == "png" else telegram_jpeg(_png(screen_id))


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (720, 1280), "#EDEDED").save(out, "PNG")
    return out.getvalue()


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="session")
def reader() -> RapidTextReader:
    return RapidTextReader()


_READ: dict[tuple[str, str], str] = {}


def _read(reader: RapidTextReader, screen_id: str, form: str) -> str:
    """Each picture is read once per session, whichever tests look at it."""
    if (screen_id, form) not in _READ:
        _READ[screen_id, form] = reader.read_text(_picture(screen_id, form))
    return _READ[screen_id, form]


# -- reading and rating the rendered screenshots --------------------------------------------


@pytest.mark.parametrize("form", ["png", "jpeg"])
@pytest.mark.parametrize("screen_id", list(SCREENS))
def test_rendered_screenshot_is_read_and_rated(
    reader: RapidTextReader, responder: Responder, screen_id: str, form: str
) -> None:
    screen = SCREENS[screen_id]
    text = _read(reader, screen_id, form)
    truth = _squeezed(screen_text(screen))
    read_share = LCSseq.similarity(truth, _squeezed(text)) / len(truth)
    assert read_share >= 0.95, text
    for exact in screen["exact"]:  # links and numbers character for character
        assert _squeezed(exact) in _squeezed(text), (exact, text)
    risk = responder.checker.check(text).risk
    if screen["expect"] == "scam":
        assert risk in ("high", "medium"), text
    else:
        assert risk == "low", text


def test_the_screenshot_set_covers_every_layout_and_both_kinds() -> None:
    layouts = {(s["layout"], s["expect"]) for s in SCREENS.values()}
    assert layouts >= {
        (lay, kind) for lay in ("chat", "sms", "dark") for kind in ("scam", "ordinary")
    }
    ordinary = {s["id"] for s in SCREENS.values() if s["expect"] == "ordinary"}
    assert {"courier_sms", "family_chat", "bank_sms"} <= ordinary


def test_models_in_use_are_the_files_inside_the_installed_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing downloads: the network and RapidOCR's downloader fail if touched, and every
    model the reader loads is a file of the installed rapidocr wheel."""
    import rapidocr.inference_engine.onnxruntime.main as ort_engine
    from rapidocr.utils.download_file import DownloadFile

    opened: list[Path] = []
    real_session = ort_engine.InferenceSession

    def recording_session(path: str, *args: object, **kwargs: object) -> object:
        opened.append(Path(path))
        return real_session(path, *args, **kwargs)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR reader touched the network")

    monkeypatch.setattr(ort_engine, "InferenceSession", recording_session)
    monkeypatch.setattr(DownloadFile, "run", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    text = RapidTextReader().read_text(_png("bank_sms"))
    assert "4827" in text
    package = Path(ort_engine.__file__).resolve().parents[2]
    assert version("rapidocr") == "3.10.0"
    assert model_folder() == package / "models"
    assert sorted(opened) == sorted(RapidTextReader().model_paths().values())
    assert all(path.is_file() and path.parent == package / "models" for path in opened)


# -- joining the lines read ------------------------------------------------------------------


def test_a_link_wrapped_in_a_bubble_is_one_link_again() -> None:
    boxes = [
        Box("先下载这个APP注册，返利：www.d", 100, 500, 540),
        Box("ianzan-fl.vip/r/3306", 100, 560, 600),
        Box("真的吗？", 600, 700, 740),
    ]
    assert join_lines(boxes) == "先下载这个APP注册，返利：www.dianzan-fl.vip/r/3306\n真的吗？"


def test_a_status_bar_is_one_row_and_wrapped_english_keeps_its_spaces() -> None:
    boxes = [
        Box("87%", 900, 30, 64),
        Box("14:32", 50, 31, 65),
        Box("Your parcel was lost, we", 100, 400, 440),
        Box("will refund double", 100, 455, 495),
    ]
    assert join_lines(boxes) == "14:32 87%\nYour parcel was lost, we will refund double"


# -- on Telegram: the real Application, the fake Bot API, one shared worker ------------------


@pytest.fixture(scope="session")
def worker() -> Iterator[OcrWorker]:
    shared = OcrWorker(timeout=120)
    yield shared
    shared.close()


async def _application(
    api: FakeBotApi, worker: OcrWorker, responder: Responder, **settings: object
) -> AsyncIterator[Application]:
    config = Settings(token=TEST_TOKEN, **settings)  # type: ignore[arg-type]
    application = build_application(
        config, responder, Database(":memory:"), request=api, ocr_worker=worker
    )
    async with application:
        await application.start()
        api.clear()
        yield application
        await application.stop()


@pytest.fixture
async def ocr_app(
    api: FakeBotApi, worker: OcrWorker, responder: Responder
) -> AsyncIterator[Application]:
    async for application in _application(api, worker, responder):
        yield application


def _edits(api: FakeBotApi) -> list[dict]:
    return api.sent("editMessageText")


async def test_a_private_screenshot_is_read_and_the_verdict_replaces_the_progress_message(
    ocr_app: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.add_file("shot-1", _picture("refund_sms", "jpeg"))
    caplog.set_level(logging.INFO)
    await ocr_app.process_update(picture_update(ocr_app.bot, "shot-1", 60_000))
    methods = [c.method for c in api.calls]
    assert methods[:2] == ["sendChatAction", "sendMessage"]
    (progress,) = api.sent()
    assert "正在读取图片" in progress["text"]
    (verdict,) = _edits(api)
    assert verdict["message_id"] == api.calls[1].result["message_id"]
    assert "高风险" in verdict["text"] and "读到的文字" in verdict["text"]
    assert "hxxp://kd-refund[.]top/p8K2" in verdict["text"]  # shown defanged, read exactly
    assert "http://kd-refund.top" not in verdict["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "checked a picture" in logged
    assert "理赔" not in logged and "kd-refund" not in logged  # counts and timings only


async def test_an_image_sent_as_a_file_is_read_too_and_ordinary_ones_are_not_flagged(
    ocr_app: Application, api: FakeBotApi
) -> None:
    api.add_file("bank-file", _png("bank_sms"))
    await ocr_app.process_update(picture_update(ocr_app.bot, "bank-file", 70_000, as_file=True))
    (verdict,) = _edits(api)
    assert "没有发现已知的诈骗特征" in verdict["text"] and "4827" in verdict["text"]


async def test_a_forwarded_photo_and_check_as_a_reply_to_a_photo_are_read(
    ocr_app: Application, api: FakeBotApi
) -> None:
    api.add_file("police", _picture("police_chat", "jpeg"))
    await ocr_app.process_update(picture_update(ocr_app.bot, "police", 90_000, forwarded=True))
    assert "高风险" in _edits(api)[-1]["text"]
    api.clear()
    await ocr_app.process_update(reply_to_picture_update(ocr_app.bot, "/check", "police", 90_000))
    assert "高风险" in _edits(api)[-1]["text"] and "安全账户" in _edits(api)[-1]["text"]


async def test_caption_and_picture_are_read_together(ocr_app: Application, api: FakeBotApi) -> None:
    api.add_file("family", _png("family_chat"))
    update = picture_update(ocr_app.bot, "family", 50_000, caption="刚才有人让我提供验证码")
    await ocr_app.process_update(update)
    text = _edits(api)[-1]["text"]
    assert "「提供验证码」" in text  # from the caption
    assert "芒果" in text  # from the picture


async def test_a_caption_asking_to_report_goes_to_the_report_flow_not_the_reader(
    ocr_app: Application, api: FakeBotApi, responder: Responder
) -> None:
    api.add_file("helmet", _blank_png())
    caption = "我要举报一个骑电动车不戴头盔的"
    await ocr_app.process_update(picture_update(ocr_app.bot, "helmet", 5_000, caption=caption))
    assert "getFile" not in [c.method for c in api.calls]
    # this bot takes no reports (no review chat): the channels that exist, named
    assert api.sent()[0]["text"] == responder.notice("report_no_review_chat", "zh").text


async def test_a_picture_without_text_gets_help_and_a_report_button_not_a_verdict(
    ocr_app: Application, api: FakeBotApi
) -> None:
    api.add_file("blank", _blank_png())
    await ocr_app.process_update(picture_update(ocr_app.bot, "blank", 5_000))
    (answer,) = _edits(api)
    assert "没有读到文字" in answer["text"] and "复制粘贴" in answer["text"]
    assert "风险" not in answer["text"] and "没有发现已知的诈骗特征" not in answer["text"]
    buttons = [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert "intent:helmet.report" in buttons


async def test_a_file_that_is_no_picture_gets_a_clear_answer(
    ocr_app: Application, api: FakeBotApi
) -> None:
    api.add_file("heic", b"\x00\x00\x00\x18ftypheic not a picture Pillow opens")
    await ocr_app.process_update(picture_update(ocr_app.bot, "heic", 40, as_file=True))
    assert "打不开" in _edits(api)[-1]["text"]


async def test_too_big_pictures_are_refused_with_the_limits(
    api: FakeBotApi, worker: OcrWorker, responder: Responder
) -> None:
    async for app in _application(api, worker, responder, ocr_max_mb=1, ocr_max_megapixels=1):
        await app.process_update(picture_update(app.bot, "huge", 5 * 1024 * 1024))
        assert "getFile" not in [c.method for c in api.calls]  # not even fetched
        assert "太大" in api.sent()[-1]["text"] and "1 MB" in api.sent()[-1]["text"]
        api.clear()
        api.add_file("tall", _png("family_chat"))  # 1080 x 2340: 2.5 megapixels
        await app.process_update(picture_update(app.bot, "tall", 70_000))
        assert "太大" in _edits(api)[-1]["text"]


async def test_with_ocr_off_a_photo_gets_todays_hint(
    api: FakeBotApi, worker: OcrWorker, responder: Responder
) -> None:
    async for app in _application(api, worker, responder, ocr=False):
        api.add_file("off", _png("police_chat"))
        await app.process_update(picture_update(app.bot, "off", 90_000))
        assert "getFile" not in [c.method for c in api.calls]
        assert "读不了" in api.sent()[0]["text"]  # and "report it" is offered


async def test_group_photos_are_guarded_only_with_guard_photos_on(
    api: FakeBotApi, worker: OcrWorker, responder: Responder
) -> None:
    group = -4242
    for photos_on in (False, True):
        async for app in _application(api, worker, responder, guard_photos=photos_on):
            app.bot_data[scam_guard.GUARD].set_enabled(group, True)
            api.add_file("group-scam", _picture("task_dark", "jpeg"))
            update = picture_update(
                app.bot, "group-scam", 80_000, user_id=77, chat_id=group, chat_type="supergroup"
            )
            await app.process_update(update)
            warnings = [m for m in api.sent() if "诈骗特征" in m["text"]]
            assert len(warnings) == (1 if photos_on else 0)
            assert ("getFile" in [c.method for c in api.calls]) is photos_on
            assert not [m for m in api.sent() if "正在读取" in m["text"]]  # no chatter in groups
            api.clear()


# -- busy, time-out, unavailable: a reader that never finishes, one that cannot load ---------


async def test_a_full_queue_says_try_again_and_a_slow_picture_times_out(
    api: FakeBotApi, responder: Responder
) -> None:
    import asyncio

    slow = OcrWorker(timeout=1.0, queue_size=0, reader="tests.ocr_fakes:slow_reader")
    try:
        async for app in _application(api, slow, responder):
            api.add_file("a", _blank_png())
            first = asyncio.create_task(app.process_update(picture_update(app.bot, "a", 5_000)))
            for _ in range(600):  # until the worker has taken the first picture
                if not slow.has_room():
                    break
                await asyncio.sleep(0.05)
            await app.process_update(picture_update(app.bot, "a", 5_000, user_id=1002))
            busy = [m for m in api.sent() if m["chat_id"] == 1002]
            assert len(busy) == 1 and "过一会儿再发" in busy[0]["text"]
            await first
            assert "读得太久" in _edits(api)[-1]["text"]
            assert slow.has_room()  # the abandoned picture freed its place
    finally:
        slow.close()


async def test_a_reader_that_cannot_load_is_logged_once_and_photos_get_the_hint(
    api: FakeBotApi, responder: Responder, caplog: pytest.LogCaptureFixture
) -> None:
    broken = OcrWorker(reader="tests.ocr_fakes:missing_reader")
    caplog.set_level(logging.WARNING)
    async for app in _application(api, broken, responder):
        api.add_file("b", _blank_png())
        await app.process_update(picture_update(app.bot, "b", 5_000))
        assert "只能看懂文字" in _edits(api)[-1]["text"]
        api.clear()
        await app.process_update(picture_update(app.bot, "b", 5_000))
        assert "读不了" in api.sent()[-1]["text"]
        assert "getFile" not in [c.method for c in api.calls]
    said = [r for r in caplog.records if "image checking is unavailable" in r.getMessage()]
    assert len(said) == 1


# -- the command line ------------------------------------------------------------------------


def test_cli_reads_each_image_in_order_with_one_json_line_each(tmp_path: Path) -> None:
    jpeg = tmp_path / "courier.jpg"
    jpeg.write_bytes(_picture("courier_sms", "jpeg"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "check",
            "--image",
            str(FOLDER / "loan_sms_dark.png"),
            str(jpeg),
            "--jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert {"text", "risk", "type", "flags"} <= set(first)
    assert first["risk"] == "high" and first["type"] == "fraud.loan"
    assert "http://hm-dai.cc/x9" in first["text"]
    assert second["risk"] == "low" and "3041" in second["text"]


def test_cli_names_a_file_it_cannot_read_and_fails(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "check",
            "--image",
            str(tmp_path / "notes.png"),
            str(tmp_path / "missing.png"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 1
    results = json.loads(result.stdout)
    assert [r["error"] for r in results] == [
        "not a picture this bot can open",
        "No such file or directory",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANTIFRAUD_OCR", "maybe"),
        ("ANTIFRAUD_OCR_TIMEOUT", "0"),
        ("ANTIFRAUD_OCR_QUEUE", "-1"),
        ("ANTIFRAUD_OCR_MAX_MB", "21"),
        ("ANTIFRAUD_OCR_MAX_MEGAPIXELS", "x"),
        ("ANTIFRAUD_GUARD_PHOTOS", "2"),
    ],
)
def test_a_bad_ocr_setting_stops_with_exit_2(name: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "validate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", name: value},
    )
    assert result.returncode == 2 and name in result.stderr


async def test_photos_of_an_open_report_are_its_media_not_read(
    api: FakeBotApi, worker: OcrWorker, responder: Responder
) -> None:
    from bot.authoring.fake_updates import callback_update, text_update
    from bot.telegram import review
    from bot.telegram.delivery import stop_delivery

    async for app in _application(
        api, worker, responder, review_chat=-1_001_234_567_890, reviewers=frozenset({77})
    ):
        await app.process_update(text_update(app.bot, "/report", user_id=5150))
        for action in ("report:agree", "report:kind:helmet"):
            await app.process_update(callback_update(app.bot, action, user_id=5150))
        api.add_file("rider", _png("family_chat"))
        await app.process_update(picture_update(app.bot, "rider", 70_000, user_id=5150))
        draft = app.bot_data[review.REPORTS].draft(5150)
        assert draft is not None and [m.file_id for m in draft.media] == ["rider"]
        assert "getFile" not in [c.method for c in api.calls]
        assert not [m for m in api.sent() if "正在读取" in m["text"]]
        await stop_delivery(app, review.DELIVERY)
