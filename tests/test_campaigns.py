"""Campaign landing points: /start <code> counted per day with no user id, shown in /insights
and `antifraud-bot insights`; `antifraud-bot campaign-link` prints the link and writes the QR
code as a PNG."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import segno
from PIL import Image

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import callback_update, text_update
from bot.cli import main
from bot.config import ConfigError, Settings
from bot.content.loader import load_content
from bot.content.reader import InvalidContent
from bot.core.responder import Responder
from bot.store.campaigns import SqliteCampaignStore
from bot.store.database import Database
from bot.telegram.app import build_application
from tests.conftest import ROOT, TEST_TOKEN

ADMIN = 88
RESIDENTS = (5_123_456_701, 5_123_456_702, 5_123_456_703)


async def test_codes_are_counted_per_day_without_user_ids(
    tmp_path: Path, responder: Responder, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "bot.db"
    api = FakeBotApi()
    settings = Settings(token=TEST_TOKEN, admins=frozenset({ADMIN}), ocr=False)
    app = build_application(settings, responder, Database(str(db_path)), request=api)
    async with app:
        for user_id in RESIDENTS:
            await app.process_update(text_update(app.bot, "/start qz-orange-box", user_id=user_id))
            assert "琼中绿橙箱" in api.sent()[-1]["text"]
        await app.process_update(text_update(app.bot, "/start QZ-Shop-Card", user_id=RESIDENTS[0]))
        await app.process_update(text_update(app.bot, "/start no-such-code", user_id=RESIDENTS[1]))
        assert "琼中绿橙" not in api.sent()[-1]["text"]
        await app.process_update(text_update(app.bot, "/insights", user_id=ADMIN))
        summary = api.sent()[-1]["text"]
    assert "3× qz-orange-box 琼中绿橙包装箱反诈提示卡" in summary
    assert "1× qz-shop-card" in summary and "no-such-code" not in summary
    # What is stored: a day, a code and a count. No resident's id, anywhere in the file.
    database = Database(str(db_path), create=False)
    columns = [row[1] for row in database.execute("PRAGMA table_info(campaign_visits)")]
    assert columns == ["day", "code", "visits"]
    rows = database.execute("SELECT * FROM campaign_visits ORDER BY code").fetchall()
    assert [(code, n) for _, code, n in rows] == [("qz-orange-box", 3), ("qz-shop-card", 1)]
    assert _tables_holding(database, RESIDENTS) == []  # opening a link stores nobody
    database.close()
    monkeypatch.setenv("ANTIFRAUD_DB", str(db_path))
    out = io.StringIO()
    assert main(["insights", "--days", "7", "--lang", "en"], out=out) == 0
    printed = out.getvalue()
    assert "Visits from campaign links, last 7 days:" in printed
    assert "3× qz-orange-box Anti-fraud cards in Qiongzhong green-orange boxes" in printed
    assert printed.index("Busiest topics") < printed.index("Visits from campaign links")


async def test_insights_shows_campaign_visits_next_to_answer_feedback(
    responder: Responder,
) -> None:
    """Issue 16's 👍 / 👎 counts and issue 19's campaign visits share one /insights."""
    api = FakeBotApi()
    settings = Settings(token=TEST_TOKEN, admins=frozenset({ADMIN}), ocr=False)
    app = build_application(settings, responder, Database(":memory:"), request=api)
    async with app:
        await app.process_update(text_update(app.bot, "/start qz-orange-box"))
        await app.process_update(
            text_update(app.bot, "有人打电话说我涉嫌洗钱，让我把钱转到安全账户")
        )
        markup = api.sent()[-1]["reply_markup"]
        markup = json.loads(markup) if isinstance(markup, str) else markup
        votes = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        up = next(v for v in votes if v.startswith("fb:up:"))
        await app.process_update(callback_update(app.bot, up, reply_markup=markup))
        await app.process_update(text_update(app.bot, "/insights", user_id=ADMIN))
        summary = api.sent()[-1]["text"]
    assert f"{up.removeprefix('fb:up:')}: 👍 1 · 👎 0" in summary
    assert "1× qz-orange-box 琼中绿橙包装箱反诈提示卡" in summary
    assert summary.index("有帮助吗") < summary.index("宣传材料链接")


def _tables_holding(database: Database, values: tuple[int, ...]) -> list[str]:
    """Every table with any of these values in any column."""
    tables = [r[0] for r in database.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    holders = []
    for table in tables:
        for column in [r[1] for r in database.execute(f"PRAGMA table_info({table})")]:
            marks = ", ".join("?" for _ in values)
            hit = database.execute(
                f"SELECT 1 FROM {table} WHERE {column} IN ({marks}) LIMIT 1",  # noqa: S608
                values,
            ).fetchone()
            if hit:
                holders.append(table)
    return holders


def test_each_day_is_its_own_count_and_old_days_go(tmp_path: Path) -> None:
    now = [1_780_000_000.0]
    store = SqliteCampaignStore(Database(":memory:"), retention_days=30, clock=lambda: now[0])
    store.record("qz-orange-box")
    now[0] += 86400
    store.record("qz-orange-box")
    store.record("qz-orange-box")
    days = store.per_day("qz-orange-box", 7)
    assert [n for _, n in days] == [1, 2] and days[0][0] < days[1][0]
    assert store.summary(7) == [("qz-orange-box", 3)]
    now[0] += 3 * 86400
    assert store.summary(1) == [] and store.summary(3) == [("qz-orange-box", 2)]
    now[0] += 40 * 86400
    store.record("qz-shop-card")  # recording purges what is past retention
    assert store.summary(3650) == [("qz-shop-card", 1)]


def test_campaign_link_prints_the_link_and_writes_its_qr_code(tmp_path: Path) -> None:
    target = tmp_path / "box.png"
    out = io.StringIO()
    code = main(
        ["campaign-link", "qz-orange-box", "--bot", "@Antifraud_QZ_bot", "--out", str(target)],
        out=out,
    )
    link = "https://t.me/Antifraud_QZ_bot?start=qz-orange-box"
    assert code == 0 and out.getvalue().splitlines()[0] == link
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The picture holds exactly the QR code of the link: module by module (scale 10, border 4).
    expected = segno.make(link, error="m")
    image = Image.open(target).convert("L")
    width = expected.symbol_size(scale=1, border=0)[0]
    assert image.size == ((width + 8) * 10,) * 2
    for row, modules in enumerate(expected.matrix):
        for column, dark in enumerate(modules):
            pixel = image.getpixel(((column + 4) * 10 + 5, (row + 4) * 10 + 5))
            assert (pixel < 128) == bool(dark), (row, column)


def test_campaign_link_from_a_shell_and_its_mistakes(tmp_path: Path) -> None:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "campaign-link", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "ANTIFRAUD_SEMANTIC": "off",
                "HOME": str(tmp_path),
                **env,
            },
            check=False,
        )

    done = run("qz-shop-card", ANTIFRAUD_BOT_USERNAME="antifraud_qz_bot")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("https://t.me/antifraud_qz_bot?start=qz-shop-card")
    assert (tmp_path / "qz-shop-card.png").is_file()
    missing = run("qz-shop-card")
    assert missing.returncode == 2 and "ANTIFRAUD_BOT_USERNAME is not set" in missing.stderr
    unknown = run("qz-orange", ANTIFRAUD_BOT_USERNAME="antifraud_qz_bot")
    assert unknown.returncode == 2 and "unknown campaign 'qz-orange'" in unknown.stderr
    assert "qz-orange-box" in unknown.stderr
    bad = run("qz-shop-card", ANTIFRAUD_BOT_USERNAME="not a bot")
    assert bad.returncode == 2 and "configuration error: ANTIFRAUD_BOT_USERNAME" in bad.stderr
    wrong_flag = run("qz-shop-card", "--bot", "x")
    assert wrong_flag.returncode == 2 and "argument --bot" in wrong_flag.stderr
    unwritable = run("qz-shop-card", "--bot", "antifraud_qz_bot", "--out", "/no/such/dir/x.png")
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


def test_bot_username_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="ANTIFRAUD_BOT_USERNAME"):
        Settings.from_env({"ANTIFRAUD_BOT_USERNAME": "@x"})
    assert Settings.from_env({"ANTIFRAUD_BOT_USERNAME": "@qz_antifraud_bot"}).bot_username == (
        "qz_antifraud_bot"
    )


def test_a_campaign_with_a_wrong_code_county_or_date_is_named(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    for path in (ROOT / "content").glob("*.yaml"):
        if path.name != "campaigns.yaml":
            (content / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (content / "campaigns.yaml").write_text(
        "version: 1\ncampaigns:\n"
        "  Bad Code:\n    county: qiongzhong\n"
        "    name: {zh: 甲, en: A}\n    greeting: {zh: 甲, en: A}\n"
        "  qz-box:\n    county: wanning\n"
        "    name: {zh: 乙, en: B}\n    greeting: {zh: 乙, en: 'Call {hotline:nobody}'}\n"
        "    start: next spring\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidContent) as raised:
        load_content(ROOT / "intents", content)
    text = str(raised.value)
    assert "campaigns.yaml:3: campaigns.Bad Code: a code is 1-64 lower-case" in text
    assert "campaign 'qz-box' names unknown county 'wanning'" in text
    assert "campaigns.yaml:11: campaigns.qz-box.start must be a date" in text
    assert "campaigns.qz-box.greeting.en refers to unknown hotline 'nobody'" in text
