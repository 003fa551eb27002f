"""Through the real python-telegram-bot Application and the fake Bot API: updates per second
and reply latency with 1, 10 and 100 residents writing at once, and peak memory.

Each simulated resident sends a question, waits for the bot's reply, then sends the next
(a closed loop, as people chat), so N residents keep N updates in flight.

Run alone: `python -m bench.bench_end_to_end`.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from bench.harness import forget_recent
from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder
from bot.store.database import Database
from bot.telegram.app import build_application

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "heldout.yaml"
MESSAGES = 600  # per run, shared among the residents
# Longer than the lexical stage decides alone (content/matching.yaml skip_model_length).
WARM_UP = "上个月在网上被人骗走两千多块，分三次转过去的，现在对方把我拉黑了，钱还追得回来吗"


async def _run(responder: Responder, residents: int) -> tuple[float, list[float], float]:
    api = FakeBotApi(keep_calls=False)
    waiting: dict[int, asyncio.Future[None]] = {}

    async def replied(params: dict[str, Any]) -> None:
        future = waiting.pop(int(params["chat_id"]), None)
        if future is not None and not future.done():
            future.set_result(None)

    api.before_send = replied
    questions = [
        t
        for texts in yaml.safe_load(DATA.read_text("utf-8"))["paraphrases"].values()
        for t in texts
    ]
    # One simulated resident sends hundreds of messages: flood control would (rightly) stop it.
    settings = Settings(token="1:bench", flood_messages=10**9)
    application = build_application(settings, responder, Database(":memory:"), request=api)
    latencies: list[float] = []
    per_resident = MESSAGES // residents

    async def exchange(user_id: int, text: str) -> float:
        future = asyncio.get_running_loop().create_future()
        waiting[user_id] = future
        start = time.perf_counter()
        await application.update_queue.put(text_update(application.bot, text, user_id=user_id))
        await asyncio.wait_for(future, timeout=10)  # a missing reply fails, not hangs
        return time.perf_counter() - start

    async def resident(number: int) -> None:
        user_id = 10_000 + number
        for turn in range(per_resident):
            text = questions[(number * 7 + turn) % len(questions)]
            latencies.append(await exchange(user_id, text))

    async with application:
        await application.start()
        # Not timed: the engines' one-off start (USE reads its weights in the background for
        # about 0.8 s after start-up, and the first question the model reads waits for it).
        warm_up = await exchange(1, WARM_UP)
        forget_recent(responder.matcher.semantic)  # every run starts as cold as the first
        start = time.perf_counter()
        await asyncio.gather(*(resident(n) for n in range(residents)))
        elapsed = time.perf_counter() - start
        await application.stop()
    return len(latencies) / elapsed, latencies, warm_up


def run() -> str:
    responder = load_responder(Settings.from_env({}))
    rows, warm_ups = [], []
    for residents in (1, 10, 100):
        rate, latencies, warm_up = asyncio.run(_run(responder, residents))
        warm_ups.append(warm_up)
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        rows.append(
            f"| {residents} | {len(latencies)} | {rate:,.0f} | "
            f"{statistics.median(latencies) * 1e3:.2f} | {p99 * 1e3:.2f} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join(
        [
            "## End to end through the Application",
            "",
            f"{MESSAGES} held-out questions per run (they repeat, so the normalisation caches are "
            "warm), fed to the running Application's update queue as polling does; latency runs "
            "until the reply is handed to the fake Bot API (no network latency). Updates "
            "of different residents run at once (bot/telegram/flow.py) and the matching in worker "
            "threads, so one resident waits for each reply while several keep both cores busy: "
            "the model on one, the event loop's own work (1-2 ms an update) on the other.",
            "",
            "Each run starts with one untimed question, whose reply took "
            f"{warm_ups[0] * 1e3:.0f} ms in the first run (the model engines' one-off start) "
            f"and {max(warm_ups[1:]) * 1e3:.0f} ms at most in the others; the caches are then "
            "cleared.",
            "",
            "| residents at once | replies | updates/s | reply latency p50 ms | p99 ms |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"- peak resident memory of the benchmark process: {peak:.0f} MiB",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
