"""Insights: unanswered questions (masked) and busiest intents, from a real conversation."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.cli import main
from bot.config import Settings
from bot.core.responder import Responder
from bot.store.database import Database
from bot.store.insights import SqliteInsightsStore
from bot.telegram.app import build_application
from tests.conftest import TEST_TOKEN

ADMIN = 88


async def test_insights_from_a_conversation(
    tmp_path: Path, responder: Responder, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "bot.db"
    api = FakeBotApi()
    app = build_application(
        Settings(token=TEST_TOKEN, admins=frozenset({ADMIN})),
        responder,
        Database(str(db_path)),
        request=api,
    )
    async with app:
        for text in (
            "今天天气怎么样",
            "今天天气怎么样",
            "我手机号13812345678，明天下雨吗",
            "被骗了怎么办",
            "被骗了怎么办",
            "头盔要戴吗",
        ):
            await app.process_update(text_update(app.bot, text, user_id=5))
        await app.process_update(text_update(app.bot, "/insights", user_id=5))
        assert "只有管理员" in api.sent()[-1]["text"]
        await app.process_update(text_update(app.bot, "/insights 7", user_id=ADMIN))
        summary = api.sent()[-1]["text"]
    assert "2× 今天天气怎么样" in summary and "2× fraud.victim" in summary
    assert "13812345678" not in summary and "[PHONE]" in summary

    monkeypatch.setenv("ANTIFRAUD_DB", str(db_path))
    out = io.StringIO()
    assert main(["insights", "--days", "30", "--lang", "en"], out=out) == 0
    printed = out.getvalue()
    assert "Most frequent unanswered questions" in printed
    assert "[PHONE]" in printed and "13812345678" not in printed
    assert "fraud.victim" in printed and "helmet.rules" in printed


def test_old_insights_are_forgotten(tmp_path: Path) -> None:
    now = [1_000_000_000.0]
    store = SqliteInsightsStore(
        Database(str(tmp_path / "i.db")), retention_days=30, clock=lambda: now[0]
    )
    store.record("很久以前的问题", None, "fallback")
    now[0] += 31 * 86400
    store.record("新问题", None, "fallback")
    store.purge()
    summary = store.summary(days=365)
    assert [q for q, _ in summary.unanswered] == ["新问题"]


def test_insights_days_must_be_a_number() -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="ANTIFRAUD_INSIGHTS_DAYS"):
        Settings.from_env({"ANTIFRAUD_INSIGHTS_DAYS": "ninety"})
    assert replace(Settings(), insights_days=7).insights_days == 7
