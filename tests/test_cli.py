"""The antifraud-bot command line, run in-process."""

from __future__ import annotations

import io
import json

from bot.cli import main


def _run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out, inp=io.StringIO(stdin))
    return code, out.getvalue()


def test_match_json_done_when_examples() -> None:
    code, out = _run(["match", "--json", "有人自称公安说我涉嫌洗钱，让我把钱转到安全账户"])
    result = json.loads(out)
    assert code == 0
    assert result["intent"] == "fraud.police_impersonation"
    assert set(result) == {
        "intent",
        "score",
        "runner_up",
        "choices",
        "lang",
        "stage",
        "semantic_score",
    }
    assert result["lang"] == "zh" and result["choices"] == []
    code, out = _run(["match", "--json", "今天天气怎么样"])
    assert code == 0 and json.loads(out)["intent"] is None


def test_match_jsonl_reads_one_question_per_line() -> None:
    lines = "\n".join(
        json.dumps({"text": t}, ensure_ascii=False)
        for t in ["骑电动车要戴头盔吗", "how do I report a helmet violation", "安全"]
    )
    code, out = _run(["match", "--jsonl"], stdin=lines + "\n")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 3
    assert results[0]["intent"] == "helmet.rules"
    assert results[1]["lang"] == "en"
    assert results[2]["intent"] is None and len(results[2]["choices"]) >= 2


def test_match_jsonl_bad_line_is_reported_with_its_number(capsys) -> None:
    code, _ = _run(["match", "--jsonl"], stdin='{"text": "你好"}\nnot json\n')
    assert code == 2
    assert "stdin:2" in capsys.readouterr().err


def test_match_without_text_explains_itself(capsys) -> None:
    code, _ = _run(["match"])
    assert code == 2 and "--jsonl" in capsys.readouterr().err


def test_offline_chat_uses_the_same_replies() -> None:
    script = "被骗了怎么办\n1\n/lang en\nhelmet rules\n/quit\n"
    code, out = _run(["chat"], stdin=script)
    assert code == 0
    assert "Offline chat" in out
    assert "110" in out  # the victim advice
    assert "OK, menus and buttons are in English" in out
    assert "helmet" in out.lower()


def test_offline_chat_says_which_commands_need_telegram() -> None:
    code, out = _run(["chat"], stdin="/report\n/quit\n")
    assert code == 0 and "在 Telegram 上才能用" in out and "答不上来" not in out


def test_chat_ends_cleanly_at_end_of_input() -> None:
    code, out = _run(["chat"], stdin="你好\n")
    assert code == 0 and "你好" in out


def test_run_without_token_says_what_to_do(monkeypatch, capsys) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_bad_configuration_is_named(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ANTIFRAUD_WEBHOOK_PORT", "eighty")
    assert main(["validate"]) == 2
    assert "ANTIFRAUD_WEBHOOK_PORT" in capsys.readouterr().err


def test_run_uses_polling_or_webhook_as_configured(monkeypatch) -> None:
    from telegram.ext import Application

    from bot.telegram import webhook

    calls: list[tuple[str, object]] = []

    async def serve(application, settings, database) -> None:
        calls.append(("hook", settings))

    monkeypatch.setattr(Application, "run_polling", lambda self, **kw: calls.append(("poll", kw)))
    monkeypatch.setattr(webhook, "serve", serve)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("ANTIFRAUD_DB", ":memory:")
    assert main(["run"]) == 0
    monkeypatch.setenv("ANTIFRAUD_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("ANTIFRAUD_WEBHOOK_SECRET", "s3cret")
    assert main(["run"]) == 0
    assert [kind for kind, _ in calls] == ["poll", "hook"]
    hook = calls[1][1]
    assert hook.webhook_url == "https://bot.example.org/telegram"
    assert webhook.url_path(hook.webhook_url) == "/telegram" and hook.webhook_secret == "s3cret"


def test_base_url_override_reaches_the_bot() -> None:
    from bot.config import Settings
    from bot.core.responder import Responder
    from bot.store.database import Database
    from bot.telegram.app import build_application

    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot"}
    )
    responder = Responder.__new__(Responder)  # the handlers are not called here
    app = build_application(settings, responder, Database(":memory:"))
    assert app.bot.base_url == "http://127.0.0.1:8081/bot1:x"
