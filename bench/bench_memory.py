"""Memory of a started `antifraud-bot run`: the real process, polling a loopback Bot API
(tests/bot_api_server.py), after answering the held-out questions, as an operator would see
it in `top`. The screenshot reader's worker is its own process and is reported apart (it
starts on the first photo, not with the bot).

Run alone: `python -m bench.bench_memory`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_matching import questions
from bench.harness import status_mib
from bot.authoring.fake_updates import chat_dict, text_message, user_dict
from tests.bot_api_server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAF-bench-token-never-real-0123456789"  # the loopback server takes any
MESSAGES = 300
TARGET_MIB = 400


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def measure() -> tuple[float, float, float, int]:
    """(RSS once started, RSS after the messages, peak RSS, replies seen), in MiB."""
    texts = questions()[:MESSAGES]
    with tempfile.TemporaryDirectory() as folder, BotApiServer() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "ANTIFRAUD_DB": str(Path(folder) / "bot.db"),
            "ANTIFRAUD_FLOOD_MESSAGES": "10000",
        }
        command = [sys.executable, "-m", "bot.cli", "run"]
        log = (Path(folder) / "bot.log").open("w")
        bot = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            user = user_dict(7001)
            server.push({"update_id": 1, "message": text_message("/start", user, chat_dict(7001))})
            if not _wait(lambda: server.texts_to(7001) or bot.poll() is not None, 120) or (
                bot.poll() is not None
            ):
                tail = (Path(folder) / "bot.log").read_text()[-2000:]
                raise RuntimeError(f"the bot did not answer /start:\n{tail}")
            started = status_mib(bot.pid, "VmRSS")
            for n, text in enumerate(texts, start=2):
                chat = 8000 + n % 50
                message = text_message(text, user_dict(chat), chat_dict(chat))
                server.push({"update_id": n, "message": message})
            answered = lambda: sum(len(server.texts_to(8000 + c)) for c in range(50))  # noqa: E731
            _wait(lambda: answered() >= len(texts), 300)
            after = status_mib(bot.pid, "VmRSS")
            peak = status_mib(bot.pid, "VmHWM")
            return started, after, peak, answered()
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            log.close()


def run() -> str:
    started, after, peak, replies = measure()
    verdict = "within" if peak <= TARGET_MIB else "OVER"
    return "\n".join(
        [
            "## Memory of a running bot",
            "",
            "`antifraud-bot run` as a real process with the shipped content, the semantic model "
            "loaded and SQLite, polling a loopback Bot API; then "
            f"{MESSAGES} held-out questions from 50 residents ({replies} replies seen). "
            "Resident set size from /proc (VmRSS now, VmHWM peak). The screenshot reader "
            "runs in its own worker process, started on the first photo: see its own section.",
            "",
            "| when | resident memory |",
            "|---|---|",
            f"| started, first reply sent | {started:.0f} MiB |",
            f"| after {MESSAGES} questions | {after:.0f} MiB |",
            f"| peak | {peak:.0f} MiB ({verdict} the {TARGET_MIB} MiB target) |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
