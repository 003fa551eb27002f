"""/reload and SIGHUP: new content is swapped in whole, broken content is refused."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.telegram import admin, handlers

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 77


@pytest.fixture
def editable(app: Application, tmp_path: Path) -> Path:
    """The app reads its content from a copy the test can edit."""
    shutil.copytree(ROOT / "intents", tmp_path / "intents")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    settings = app.bot_data[admin.SETTINGS]
    app.bot_data[admin.SETTINGS] = replace(
        settings,
        admins=frozenset({ADMIN}),
        intents_dir=tmp_path / "intents",
        content_dir=tmp_path / "content",
    )
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def test_broken_content_is_refused_and_the_old_keeps_answering(
    app: Application, api: FakeBotApi, editable: Path
) -> None:
    before = app.bot_data[handlers.RESPONDER]
    _edit(editable / "content" / "helmet.yaml", "{fig:bt.helmet_cameras}", "{fig:bt.nope}")
    await app.process_update(text_update(app.bot, "/reload", user_id=ADMIN))
    told = api.sent()[-1]["text"]
    assert "没有加载" in told and "helmet.yaml:" in told and "bt.nope" in told
    assert app.bot_data[handlers.RESPONDER] is before
    await app.process_update(text_update(app.bot, "电子警察能拍到不戴头盔吗", user_id=5))
    assert "101 个" in api.sent()[-1]["text"]  # still the last good content


async def test_good_content_is_swapped_in(
    app: Application, api: FakeBotApi, editable: Path
) -> None:
    _edit(
        editable / "content" / "helmet.yaml", "保亭有自动抓拍摄像头", "保亭目前共有自动抓拍摄像头"
    )
    await app.process_update(text_update(app.bot, "/reload", user_id=ADMIN))
    assert "已重新加载" in api.sent()[-1]["text"]
    await app.process_update(text_update(app.bot, "电子警察能拍到不戴头盔吗", user_id=5))
    assert "保亭目前共有自动抓拍摄像头" in api.sent()[-1]["text"]


async def test_reload_is_for_admins_only(app: Application, api: FakeBotApi, editable: Path) -> None:
    before = app.bot_data[handlers.RESPONDER]
    await app.process_update(text_update(app.bot, "/reload", user_id=5))
    assert "只有管理员" in api.sent()[-1]["text"]
    assert app.bot_data[handlers.RESPONDER] is before


async def test_sighup_reloads(app: Application, editable: Path) -> None:
    assert app.post_init is not None
    await app.post_init(app)  # registers the SIGHUP handler, as at start-up
    before = app.bot_data[handlers.RESPONDER]
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(100):
        if app.bot_data[handlers.RESPONDER] is not before:
            break
        await asyncio.sleep(0.05)
    assert app.bot_data[handlers.RESPONDER] is not before
    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
