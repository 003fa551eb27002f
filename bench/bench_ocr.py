"""Screenshot checking (issue 17): how much of the project's rendered screenshots the reader
gets right, how long a picture takes, the worker's memory, and whether text answers stay
fast while pictures are being read.

* characters read: the longest common subsequence of what is on the screenshot (its
  messages, whitespace ignored) and what was read, over the length of the former;
* links and numbers: each one listed in screens.yaml found character for character in what
  was read (whitespace ignored: a reader may put a space inside "886 2213 5571");
* seconds per picture: through the OCR worker process, as the bot uses it;
* text latency: one resident's text questions through the real Application and the fake Bot
  API, first with the worker idle, then while it reads pictures without a pause.

Run alone: `python -m bench.bench_ocr`.
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from PIL import Image, ImageFilter
from rapidfuzz.distance import LCSseq

from bench.harness import Timing
from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder
from bot.store.database import Database
from bot.telegram.app import build_application
from bot.workers.ocr import OcrWorker
from tests.render_screenshots import FOLDER, load_screens, screen_text, telegram_jpeg

TEXTS = 150  # text questions per latency run
QUESTIONS = ("被骗了怎么办", "头盔要戴吗", "有人让我把钱转到安全账户", "怎么举报", "96110是什么")


def _jpeg(png: bytes, quality: int) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _blurred(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB").filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


VARIANTS = {
    "PNG, 1080x2340": lambda png: png,
    "Telegram photo (JPEG, 1280 px)": telegram_jpeg,
    "JPEG quality 50": lambda png: _jpeg(png, 50),
    "blurred (Gaussian 1.2 px)": _blurred,
}


def _squeezed(text: str) -> str:
    return "".join(text.split())


async def _accuracy(worker: OcrWorker) -> tuple[list[str], list[float]]:
    rows, seconds = [], []
    for name, make in VARIANTS.items():
        matched = total = exact_found = exact_total = 0
        for screen in load_screens():
            picture = make((FOLDER / f"{screen['id']}.png").read_bytes())
            start = time.perf_counter()
            text = await worker.read_text(picture)
            seconds.append(time.perf_counter() - start)
            truth = _squeezed(screen_text(screen))
            matched += LCSseq.similarity(truth, _squeezed(text))
            total += len(truth)
            exact_total += len(screen["exact"])
            exact_found += sum(_squeezed(e) in _squeezed(text) for e in screen["exact"])
        rows.append(
            f"| {name} | {matched / total:.1%} ({matched}/{total}) | "
            f"{exact_found / exact_total:.0%} ({exact_found}/{exact_total}) |"
        )
    return rows, seconds


async def _text_latencies(responder: Responder, worker: OcrWorker, busy: bool) -> list[float]:
    api = FakeBotApi(keep_calls=False)
    replied: asyncio.Future[None] | None = None

    async def on_send(params: dict[str, Any]) -> None:
        if replied is not None and not replied.done():
            replied.set_result(None)

    api.before_send = on_send
    settings = Settings(token="1:bench", flood_messages=10**9, ocr=False)
    application = build_application(settings, responder, Database(":memory:"), request=api)
    picture = (FOLDER / "police_chat.png").read_bytes()
    reading = True

    async def keep_reading() -> int:
        read = 0
        while reading:
            await worker.read_text(picture)
            read += 1
        return read

    latencies: list[float] = []
    async with application:
        await application.start()
        background = asyncio.create_task(keep_reading()) if busy else None
        if background is not None:
            await asyncio.sleep(1.0)  # the worker is in the middle of a picture
        for turn in range(TEXTS):
            replied = asyncio.get_running_loop().create_future()
            start = time.perf_counter()
            update = text_update(application.bot, QUESTIONS[turn % len(QUESTIONS)], user_id=42)
            await application.update_queue.put(update)
            await asyncio.wait_for(replied, timeout=30)
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.02)  # a resident types; the pictures keep going meanwhile
        reading = False
        if background is not None:
            await background
        await application.stop()
    return latencies


async def _measure() -> str:
    responder = load_responder(Settings.from_env({}))
    worker = OcrWorker(timeout=120)
    try:
        start = time.perf_counter()
        await worker.read_text((FOLDER / "bank_sms.png").read_bytes())
        first = time.perf_counter() - start
        rows, seconds = await _accuracy(worker)
        idle = Timing(await _text_latencies(responder, worker, busy=False))
        busy = Timing(await _text_latencies(responder, worker, busy=True))
        memory = worker.peak_memory_mb()
    finally:
        worker.close()
    per_picture = Timing(seconds)
    lines = [
        "## Screenshot checking (OCR)",
        "",
        "`python -m bench.bench_ocr`: the project's rendered screenshots "
        f"({len(load_screens())} screens: chat, SMS and dark-mode layouts; "
        "tests/data/screenshots/), read by RapidOCR 3.10.0 with the models of its wheel, "
        "through the OCR worker process.",
        "",
        "| picture | characters read | links and numbers exact |",
        "| --- | --- | --- |",
        *rows,
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| first picture, worker start and model load included | {first:.2f} s |",
        f"| seconds per picture, p50 / p95 / max ({len(seconds)} pictures) | "
        f"{per_picture.median:.2f} / {per_picture.percentile(0.95):.2f} / "
        f"{max(seconds):.2f} |",
        f"| peak memory of the worker process (VmHWM) | {memory or 0:.0f} MB |",
        f"| text answer latency, worker idle: p50 / p99 | {idle.median * 1e3:.1f} / "
        f"{idle.percentile(0.99) * 1e3:.1f} ms |",
        f"| text answer latency, worker reading pictures: p50 / p99 | "
        f"{busy.median * 1e3:.1f} / {busy.percentile(0.99) * 1e3:.1f} ms |",
        f"| p99 while reading / p99 idle | {busy.percentile(0.99) / idle.percentile(0.99):.2f}x |",
        "",
    ]
    return "\n".join(lines)


def run() -> str:
    return asyncio.run(_measure())


if __name__ == "__main__":
    print(run())
