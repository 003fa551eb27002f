"""PostgreSQL and several replicas: enqueue a million subscribers, the global send rate with
1, 2 and 4 replicas, throughput with the limit lifted against a Bot API that takes 50 ms a
call, updates per second in webhook mode, memory against the audience size.

Runs when a server is named by ANTIFRAUD_TEST_PG (`.ci/postgres DIR` starts one and prints
its URL); otherwise the section says it was skipped. Replicas are separate processes, each
with its own connection pool, as on separate machines. Run alone:
`ANTIFRAUD_TEST_PG=postgresql://… python -m bench.bench_postgres`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from telegram import Bot

from bench.harness import status_mib
from bot.authoring.fake_api import FakeBotApi
from bot.broadcast.alerts import Alert
from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import BroadcastSender
from bot.broadcast.shared_rate import SharedRateLimiter
from bot.store.database import Database

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "ANTIFRAUD_TEST_PG"
TITLE = {"zh": "预警", "en": "Alert"}
BODY = {"zh": "正文", "en": "Body"}
MILLION = 1_000_000


@contextmanager
def _schema(server: str) -> Iterator[str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def _subscribers(db: Database, count: int) -> None:
    """`count` subscribers to every topic, written by the server itself."""
    db.execute(
        "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active, created_at,"
        " updated_at) SELECT i, i, CASE WHEN i % 3 = 0 THEN 'en' ELSE 'zh' END,"
        " ',fraud,traffic,safety,', NULL, 1, 0, 0 FROM generate_series(1, ?) AS i",
        (count,),
    )


def _alert(alert_id: str) -> Alert:
    return Alert(alert_id, TITLE, BODY, ("fraud",))


class _NoSubscriptions:
    def deactivate(self, chat_id: int) -> None: ...

    def move_chat(self, old: int, new: int) -> None: ...


class _SlowApi(FakeBotApi):
    latency = 0.0

    async def do_request(self, url, method, request_data=None, read_timeout=None, **kw):
        if self.latency and url.endswith("/sendMessage"):
            await asyncio.sleep(self.latency)
        return await super().do_request(url, method, request_data, read_timeout, **kw)


def _replica(url: str, alert_id: str, rate: float | None, latency: float, stop_after: int):
    """One replica's sender, in its own process: (sent, peak RSS in MiB, when each message
    reached the Bot API)."""
    arrivals: list[float] = []

    async def send() -> int:
        db = Database(url)
        api = _SlowApi(keep_calls=False)
        api.latency = latency
        stop = asyncio.Event()

        async def count(_: dict) -> None:
            arrivals.append(time.time())
            if stop_after and api.sent_count >= stop_after:
                stop.set()

        api.before_send = count
        limiter = SharedRateLimiter(db, rate) if rate else None
        async with Bot("1:bench", request=api) as bot:
            sender = BroadcastSender(
                bot, Outbox(db), _NoSubscriptions(), rate=rate, limiter=limiter
            )
            report = await sender.run(alert_id, stop)
        db.close()
        return report.sent

    sent = asyncio.run(send())
    return sent, status_mib("self", "VmHWM"), arrivals


def _replicas(url: str, alert_id: str, count: int, rate: float | None, latency: float = 0.0,
              stop_after: int = 0) -> list[tuple[int, float, list[float]]]:  # fmt: skip
    context = multiprocessing.get_context("spawn")
    with context.Pool(count) as pool:
        runs = [
            pool.apply_async(_replica, (url, alert_id, rate, latency, stop_after))
            for _ in range(count)
        ]
        return [r.get(timeout=600) for r in runs]


def _sent_times(db: Database, alert_id: str) -> list[float]:
    rows = db.execute(
        "SELECT sent_at FROM outbox WHERE alert_id = ? AND status = 'sent' ORDER BY sent_at",
        (alert_id,),
    ).fetchall()
    return [r[0] for r in rows]


def _busiest_second(times: list[float]) -> int:
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def _broadcast(url: str, db: Database, alert_id: str, messages: int, count: int,
               rate: float | None, latency: float = 0.0):  # fmt: skip
    """One alert to a fresh audience of `messages`, sent by `count` replicas: (seconds taken,
    each replica's result)."""
    _subscribers_for(db, messages)
    Outbox(db).enqueue(_alert(alert_id))
    started = time.perf_counter()
    results = _replicas(url, alert_id, count, rate, latency)
    return time.perf_counter() - started, results


def _rate_rows(url: str, db: Database, limit: float, messages: int) -> list[str]:
    rows = []
    for count in (1, 2, 4):
        alert_id = f"limited-{count}"
        elapsed, results = _broadcast(url, db, alert_id, messages, count, limit)
        times = sorted(t for _, _, arrivals in results for t in arrivals)
        achieved = (len(times) - 1) / (times[-1] - times[0])
        rows.append(
            f"| {count} | {len(times):,} | {elapsed:.1f} | {achieved:,.1f} |"
            f" {100 * (achieved / limit - 1):+.2f}% | {_busiest_second(times):,} |"
            f" {' / '.join(f'{s:,}' for s, _, _ in results)} |"
        )
    return rows


def _subscribers_for(db: Database, count: int) -> None:
    """A fresh audience of `count` (negative chat ids; the million are inactive by now)."""
    db.execute("DELETE FROM subscribers WHERE chat_id < 0")
    db.execute(
        "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active, created_at,"
        " updated_at) SELECT -i, i, 'zh', ',fraud,', NULL, 1, 0, 0"
        " FROM generate_series(1, ?) AS i",
        (count,),
    )


def _lifted_rows(url: str, db: Database, messages: int, latency: float) -> list[str]:
    rows = []
    for count in (1, 2, 4):
        alert_id = f"lifted-{count}"
        elapsed, results = _broadcast(url, db, alert_id, messages, count, None, latency)
        times = _sent_times(db, alert_id)
        achieved = (len(times) - 1) / (times[-1] - times[0])
        rows.append(
            f"| {count} | {len(times):,} | {elapsed:.1f} | {achieved:,.0f} |"
            f" {max(r for _, r, _ in results):.0f} |"
        )
    return rows


def _webhook_rows(url: str, updates: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from bot.authoring.fake_updates import text_update_json
    from tests.bot_api_server import BotApiServer
    from tests.test_webhook_replicas import Replica

    rows = []
    for count in (1, 2):
        with BotApiServer() as api, _folder() as folder:
            replicas = [Replica(api, url, folder) for _ in range(count)]
            try:
                for replica in replicas:
                    replica.wait_ready()
                api.sent.clear()
                users = list(range(700_001, 700_001 + updates))
                started = time.perf_counter()

                def post(share: list[int], replica: Replica) -> None:
                    for user in share:
                        replica.post(text_update_json("/start", user))

                threads = [
                    threading.Thread(target=post, args=(users[i::8], replicas[i % count]))
                    for i in range(8)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                while len({c for c in list(api.sent) if c > 700_000}) < updates:
                    time.sleep(0.01)
                elapsed = time.perf_counter() - started
            finally:
                for replica in replicas:
                    replica.stop()
        rows.append(f"| {count} | {updates:,} | {elapsed:.1f} | {updates / elapsed:,.0f} |")
    return rows


@contextmanager
def _folder() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def run() -> str:
    server = os.environ.get(VARIABLE)
    if not server:
        return "\n".join(
            [
                "## PostgreSQL and several replicas",
                "",
                f"Skipped: no PostgreSQL server ({VARIABLE} unset). Start one with"
                " `.ci/postgres /tmp/pg` and set the variable to the URL it prints.",
                "",
            ]
        )
    limit, latency = 1000.0, 0.05
    load_before = os.getloadavg()[0]
    with _schema(server) as url:
        db = Database(url)
        started = time.perf_counter()
        _subscribers(db, MILLION)
        fill = time.perf_counter() - started
        started = time.perf_counter()
        enqueued = Outbox(db).enqueue(_alert("million"))
        enqueue = time.perf_counter() - started
        db.execute("UPDATE subscribers SET active = 0")  # the runs below have their own
        rate_rows = _rate_rows(url, db, limit, 6_000)
        lifted_rows = _lifted_rows(url, db, 3_000, latency)
        # Memory against the audience: 10,000 sent from a 10,000 audience, then 10,000 of
        # the million.
        _subscribers_for(db, 10_000)
        Outbox(db).enqueue(_alert("small"))
        [(_, small, _)] = _replicas(url, "small", 1, None)
        [(_, large, _)] = _replicas(url, "million", 1, None, stop_after=10_000)
        db.execute("UPDATE broadcasts SET status = 'done'")  # nothing for the replicas to join
        webhook_rows = _webhook_rows(url, 300)
        version = db.execute("SHOW server_version").fetchone()[0]
        load_after = os.getloadavg()[0]
        db.close()
    return "\n".join(
        [
            "## PostgreSQL and several replicas",
            "",
            f"PostgreSQL {version} on this machine (loopback, fsync off: a test server), fake Bot"
            " API in each replica's process. Replicas are separate processes, each with its own"
            " connection pool, sharing the outbox (rows claimed with FOR UPDATE SKIP LOCKED)"
            " and one send-rate bucket. This machine has 2 cores shared with other work: four"
            f" replicas compete for them (load average {load_before:.1f} at the start,"
            f" {load_after:.1f} at the end; one replica at 1,000 msg/s needs most of a core).",
            "",
            f"- {MILLION:,} subscribers written by the server: {fill:.1f} s; enqueue one alert"
            f" for all {enqueued:,} (one INSERT … SELECT): {enqueue:.1f} s",
            "",
            f"At a global limit of {limit:,.0f} msg/s (6,000 messages; busiest second = most"
            " messages reaching the Bot API within any one second, all replicas together):",
            "",
            "| replicas | messages | seconds | achieved msg/s | vs limit | busiest second |"
            " sent by each |",
            "|---|---|---|---|---|---|---|",
            *rate_rows,
            "",
            f"Limit lifted, each Bot API call taking {latency * 1000:.0f} ms (3,000 messages;"
            " 8 sends in flight per replica):",
            "",
            "| replicas | messages | seconds | msg/s | peak RSS per replica (MiB) |",
            "|---|---|---|---|---|",
            *lifted_rows,
            "",
            f"- memory against the audience: one replica sending 10,000 messages peaks at"
            f" {small:.0f} MiB RSS from a 10,000-subscriber outbox and {large:.0f} MiB from the"
            f" {MILLION:,}-row one: flat (rows are claimed 8 at a time)",
            "",
            "Webhook mode: real `antifraud-bot run` processes (lexical matching, OCR off), 8"
            " client threads posting `/start` updates over HTTP, until every reply reached the"
            " loopback Bot API:",
            "",
            "| replicas | updates | seconds | updates/s |",
            "|---|---|---|---|",
            *webhook_rows,
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
