"""Real `antifraud-bot run` processes in webhook mode, each on its own loopback port, against
the loopback Bot API (tests/bot_api_server.py): updates posted over HTTP by this test, the
secret token checked, the 200 only once the update is handled, /healthz, SIGTERM; and on one
PostgreSQL database two replicas that migrate once, answer residents, and send one broadcast
together, every subscriber once, even when one of them is killed (-9) half-way."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from bot.authoring.fake_updates import text_update_json
from bot.store.database import LATEST_VERSION, Database
from bot.store.subscriptions import SqliteSubscriptionStore
from tests.bot_api_server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAF-webhook-test-token-0123456789abc"
SECRET = "webhook-secret_0123456789"
ADMIN = 424242
ALERT_ID = "example-fake-refund"  # alerts/example-fake-refund.yaml, what both replicas see
_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _button(user_id: int, data: str) -> dict:
    chat = {"id": user_id, "type": "private"}
    bot = {"id": 1, "is_bot": True, "first_name": "Test", "username": "test_bot"}
    message = {"message_id": next(_ids), "date": int(time.time()), "chat": chat, "from": bot}
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "Admin"},
            "chat_instance": "1",
            "message": {**message, "text": "(preview)"},
            "data": data,
        },
    }


class Replica:
    """One `antifraud-bot run` process in webhook mode."""

    def __init__(self, api: BotApiServer, database: str, folder: Path, **env: str) -> None:
        self.port = _free_port()
        self.log = folder / f"replica-{self.port}.log"
        variables = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": api.base_url,
            "ANTIFRAUD_DB": database,
            "ANTIFRAUD_WEBHOOK_URL": "https://bot.example.org/telegram/hook",
            "ANTIFRAUD_WEBHOOK_SECRET": SECRET,
            "ANTIFRAUD_WEBHOOK_PORT": str(self.port),
            "ANTIFRAUD_SEMANTIC": "off",
            "ANTIFRAUD_OCR": "off",
            "ANTIFRAUD_ADMINS": str(ADMIN),
            "ANTIFRAUD_CACHE_DIR": str(folder / "cache"),
            **env,
        }
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                env=variables,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica exited: {self.log.read_text()}")
            try:
                if self.get("/healthz") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"replica never became ready: {self.log.read_text()}")

    def get(self, path: str) -> int:
        with urllib.request.urlopen(self.url(path), timeout=10) as answer:  # noqa: S310
            return answer.status

    def post(self, update: dict | bytes, secret: str | None = SECRET) -> int:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(self.url("/telegram/hook"), body, headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_webhook_mode_checks_the_secret_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    with BotApiServer() as api:
        replica = Replica(api, str(tmp_path / "bot.db"), tmp_path)
        try:
            replica.wait_ready()
            assert replica.post(text_update_json("/start", 5001), secret=None) == 403
            assert replica.post(text_update_json("/start", 5001), secret="wrong-secret") == 403
            assert replica.post(b"{not json", secret=SECRET) == 400
            assert replica.post(b'["a list"]', secret=SECRET) == 400
            assert replica.post(text_update_json("/start", 5001)) == 200
            assert api.texts_to(5001)  # the 200 came once the update was handled
            assert replica.post(text_update_json("/help", 5002)) == 200  # answered before it stops
        finally:
            code = replica.stop()
        log = replica.log.read_text()
        assert code == 0, log
        assert api.texts_to(5002), log  # the update in flight at SIGTERM was answered
        assert TOKEN not in log and SECRET not in log
        assert "Traceback" not in log, log


@pytest.fixture
def shared_database(postgres_url: str) -> str:
    return postgres_url


def test_two_replicas_on_one_postgresql(shared_database: str, tmp_path: Path) -> None:
    subscribers = 400
    audience = range(10_001, 10_001 + subscribers)
    rate = 100  # messages per second, both replicas together
    with BotApiServer(delay=0.01) as api:
        env = {"ANTIFRAUD_BROADCAST_RATE": str(rate), "ANTIFRAUD_BROADCAST_LEASE": "2"}
        # Both start at the same instant on an empty database: they migrate once.
        first = Replica(api, shared_database, tmp_path, **env)
        second = Replica(api, shared_database, tmp_path, **env)
        try:
            first.wait_ready()
            second.wait_ready()
            database = Database(shared_database)
            versions = database.execute("SELECT version FROM schema_migrations").fetchall()
            assert sorted(v for (v,) in versions) == list(range(1, LATEST_VERSION + 1))

            # Each answers residents over HTTP.
            assert first.post(text_update_json("/start", 6001)) == 200
            assert second.post(text_update_json("/start", 6002)) == 200
            assert api.texts_to(6001) and api.texts_to(6002)

            store = SqliteSubscriptionStore(database)
            for chat in audience:
                store.subscribe(chat, chat, "zh")
            api.sent.clear(), api.sent_at.clear()

            # The admin confirms the broadcast on the first; both send it.
            assert first.post(_button(ADMIN, f"bc:send:{ALERT_ID}")) == 200

            def to_subscribers() -> int:
                return sum(1 for chat in list(api.sent) if chat in audience)

            _until(lambda: to_subscribers() >= subscribers // 3)
            by = database.execute(
                "SELECT claimed_by, COUNT(*) FROM outbox WHERE status = 'sent' GROUP BY claimed_by"
            ).fetchall()
            assert len(by) == 2, by  # both replicas are sending
            first.process.kill()  # -9, mid-broadcast: its claimed rows wait for their lease
            first.process.wait(timeout=30)
            _until(lambda: database.execute(
                "SELECT status FROM broadcasts WHERE alert_id = ?", (ALERT_ID,)
            ).fetchone() == ("done",), timeout=120)  # fmt: skip
        finally:
            assert second.stop() == 0, second.log.read_text()
            first.stop()
        received = Counter(chat for chat in api.sent if chat in audience)
        assert set(received) == set(audience)  # none lost
        repeats = sum(received.values()) - subscribers
        assert repeats <= 8  # at most the killed replica's messages in flight (8 workers)
        # The global rate: no second holds more than the limit (a little slack for HTTP).
        times = [t for t, chat in zip(api.sent_at, api.sent, strict=True) if chat in audience]
        busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
        assert busiest <= rate * 1.05, busiest
        database.close()
