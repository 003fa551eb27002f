"""`antifraud-bot broadcast` and `broadcast-status`, including a real kill -9 mid-broadcast."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.authoring.fake_api import FakeBotApi
from bot.broadcast.sender import BroadcastSender
from bot.cli import main
from bot.store.database import Database
from bot.store.subscriptions import SqliteSubscriptionStore
from tests.bot_api_server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
ALERT = ROOT / "alerts" / "example-fake-refund.yaml"


def _subscribers(db_path: Path, count: int, lang: str = "zh") -> list[int]:
    store = SqliteSubscriptionStore(Database(str(db_path)))
    chats = list(range(10_000, 10_000 + count))
    for chat in chats:
        store.subscribe(chat, chat, lang)
    return chats


def _cli(argv: list[str], request: FakeBotApi | None = None) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out, request=request), out.getvalue()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "bot.db"
    monkeypatch.setenv("ANTIFRAUD_DB", str(db))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:cli-test")
    monkeypatch.setenv("ANTIFRAUD_BROADCAST_RATE", "1000")
    return db


def test_dry_run_sends_nothing(env: Path) -> None:
    _subscribers(env, 5)
    api = FakeBotApi()
    code, out = _cli(["broadcast", str(ALERT), "--dry-run"], api)
    assert code == 0 and "5 subscriber(s) would get it" in out and "--- en ---" in out
    assert api.sent() == []


def test_broadcast_then_status_then_again(env: Path) -> None:
    chats = _subscribers(env, 12)
    api = FakeBotApi()
    code, out = _cli(["broadcast", str(ALERT)], api)
    assert code == 0 and "queued for 12" in out and "12 sent" in out
    assert Counter(int(m["chat_id"]) for m in api.sent()) == Counter(chats)
    code, out = _cli(["broadcast-status", "example-fake-refund"])
    assert code == 0 and "done" in out and "sent 12" in out
    code, out = _cli(["broadcast", str(ALERT)], api)  # same id: nothing new
    assert "queued before" in out and "0 sent" in out
    assert len(api.sent()) == 12


def test_bad_alert_file_is_reported_with_line(env: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nid: x\ntopics: [fraud, gossip]\n"
        "title: {zh: 标题, en: Title}\nbody: {zh: 正文, en: Body}\n",
        encoding="utf-8",
    )
    code, _ = _cli(["broadcast", str(bad), "--dry-run"])
    assert code == 1
    assert f"{bad}:3: unknown topics ['gossip']" in capsys.readouterr().err


def test_status_of_unknown_broadcast(env: Path) -> None:
    Database(str(env))  # the bot has run: the file exists, the broadcast does not
    assert _cli(["broadcast-status", "nope"])[0] == 1


def test_kill_9_mid_broadcast_then_resume_delivers_to_everyone(env: Path) -> None:
    """A real process, a real SIGKILL, a real HTTP Bot API on loopback."""
    chats = _subscribers(env, 300)
    command = [sys.executable, "-m", "bot.cli", "broadcast", str(ALERT)]
    with BotApiServer(delay=0.004) as server:
        child_env = {**os.environ, "TELEGRAM_BASE_URL": server.base_url}
        child = subprocess.Popen(
            command,
            env=child_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(server.sent) < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        killed_at = len(server.sent)
        assert 100 <= killed_at < len(chats), "the broadcast should be cut part-way"
        resumed = subprocess.run(
            command,
            env=child_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr
        received = Counter(server.sent)
    assert set(received) == set(chats)  # nobody lost
    duplicates = [c for c, n in received.items() if n > 1]
    # Only messages in flight at the kill can arrive twice: at most one per sender worker.
    assert all(received[c] == 2 for c in duplicates)
    print(f"killed after {killed_at} sends; {len(duplicates)} delivered twice")
    assert len(duplicates) <= BroadcastSender(None, None, None, rate=1000).concurrency  # type: ignore[arg-type]
