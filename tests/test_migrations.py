"""Versioned schema migrations: a file made before them is adopted in place, a fresh database
gets every version, and replicas starting together migrate once (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.store.database import LATEST_VERSION, Database
from bot.store.migrations import MIGRATIONS, statements
from bot.store.reports import SqliteReportStore
from bot.store.subscriptions import SqliteSubscriptionStore

OLD_SCHEMA = Path(__file__).parent / "data" / "schema_before_migrations.sql"


def _versions(db: Database) -> list[int]:
    return [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def test_a_file_made_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    path = str(tmp_path / "county.db")
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA.read_text(encoding="utf-8"))
    old.execute(
        "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active, created_at,"
        " updated_at) VALUES (-1001234567890, 42, 'zh', ',fraud,', NULL, 1, 1.0, 1.0)"
    )
    old.execute("INSERT INTO user_language (user_id, lang) VALUES (42, 'en')")
    old.commit()
    old.close()

    db = Database(path)
    assert _versions(db) == [m.version for m in MIGRATIONS]
    kept = SqliteSubscriptionStore(db).get(-1001234567890)
    assert kept is not None and kept.topics == ("fraud",) and kept.user_id == 42
    assert db.execute("SELECT lang FROM user_language").fetchall() == [("en",)]
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    assert {"claimed_by", "claimed_until"} <= columns  # version 2 applied to the old table
    versions = _versions(db)
    db.close()
    assert _versions(Database(path)) == versions  # opening again applies nothing


# What the bot before migrations created besides OLD_SCHEMA once conversations landed.
CONVERSATION_TABLES = """
CREATE TABLE IF NOT EXISTS conversations (
    chat_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, state TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    day TEXT NOT NULL, intent TEXT NOT NULL, up INTEGER NOT NULL DEFAULT 0,
    down INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, intent)
);
"""


def test_a_file_with_conversations_made_before_migrations_keeps_them(tmp_path: Path) -> None:
    from bot.core.conversation import ConversationState
    from bot.store.conversations import SqliteConversationStore

    path = str(tmp_path / "county.db")
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA.read_text(encoding="utf-8") + CONVERSATION_TABLES)
    state = ConversationState(topic="fraud", last_card="fraud.victim", at=1000.0)
    old.execute("INSERT INTO conversations VALUES (42, 42, ?, 1000.0)", (state.to_json(),))
    old.execute("INSERT INTO feedback VALUES ('2026-11-30', 'fraud.victim', 3, 1)")
    old.commit()
    old.close()

    db = Database(path)
    assert _versions(db) == [m.version for m in MIGRATIONS]
    store = SqliteConversationStore(db, clock=lambda: 1001.0)
    assert store.get(42).last_card == "fraud.victim"
    assert db.execute("SELECT up, down FROM feedback").fetchall() == [(3, 1)]
    db.close()


def test_version_one_is_the_schema_the_bot_had(tmp_path: Path) -> None:
    """Version 1 creates exactly the tables and columns the code before migrations did."""

    def shape(connection: sqlite3.Connection) -> dict[str, list[tuple]]:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
        return {t: connection.execute(f"PRAGMA table_info({t})").fetchall() for t in tables}

    before = sqlite3.connect(str(tmp_path / "before.db"))
    before.executescript(OLD_SCHEMA.read_text(encoding="utf-8"))
    after = sqlite3.connect(str(tmp_path / "after.db"))
    for statement in statements(MIGRATIONS[0].sqlite):
        after.execute(statement)
    assert shape(after) == shape(before)


def test_a_fresh_database_gets_every_version(database: Database) -> None:
    assert database.schema_version() == LATEST_VERSION
    assert _versions(database) == list(range(1, LATEST_VERSION + 1))


def test_replicas_starting_together_migrate_once(backend: str) -> None:
    """Eight openers at the same instant on an empty database: all start, each version is
    applied once (a second run of version 1's CREATE TABLE would fail on PostgreSQL)."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    opened: list[Database] = []

    def start() -> None:
        barrier.wait()
        try:
            opened.append(Database(backend))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _versions(opened[0]) == list(range(1, LATEST_VERSION + 1))
    for db in opened:
        db.close()


def test_two_processes_starting_together_migrate_once(backend: str) -> None:
    code = "import sys; from bot.store.database import Database; Database(sys.argv[1]).close()"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, backend], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
    db = Database(backend)
    assert _versions(db) == list(range(1, LATEST_VERSION + 1))
    db.close()


def test_ids_survive_a_restart_on_both_backends(backend: str) -> None:
    from bot.core.report_flow import Draft, Step

    draft = Draft(Step.CONFIRM, "zh", 0.0, "fraud", (), "集市", description="有人冒充客服")
    first = Database(backend)
    made = SqliteReportStore(first).submit(7, 7, draft, now=1000.0)
    first.close()
    again = Database(backend)
    assert SqliteReportStore(again).get(made.id) == made
    again.close()


def test_an_unreachable_postgresql_is_named_without_its_password() -> None:
    from bot.store.database import DatabaseUnusable

    url = "postgresql://bot:s3cret-pw@127.0.0.1:1/antifraud"
    with pytest.raises(DatabaseUnusable) as caught:
        Database(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


# What the bot before migrations created besides OLD_SCHEMA and CONVERSATION_TABLES once
# audience groups and suggestions landed (issue 19): answers had no id of their own.
REACH_TABLES = """
ALTER TABLE subscribers ADD COLUMN audiences TEXT NOT NULL DEFAULT ',';
CREATE TABLE campaign_visits (
    day TEXT NOT NULL, code TEXT NOT NULL, visits INTEGER NOT NULL, PRIMARY KEY (day, code)
);
CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY, reference TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL, lang TEXT NOT NULL, text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', delivery TEXT NOT NULL DEFAULT 'queued',
    bureau_message INTEGER, bureau_messages TEXT NOT NULL DEFAULT '[]',
    delivery_attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, decided_by TEXT
);
CREATE TABLE suggestion_answers (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    at REAL NOT NULL, text TEXT NOT NULL, officer TEXT NOT NULL
);
CREATE INDEX suggestion_answers_of ON suggestion_answers (suggestion_id, at);
CREATE TABLE suggestion_waiting (user_id INTEGER PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE suggestion_quota (
    user_id INTEGER NOT NULL, day TEXT NOT NULL, submitted INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
"""


def test_a_file_with_suggestions_made_before_migrations_keeps_them(tmp_path: Path) -> None:
    from bot.store.suggestions import SqliteSuggestionStore

    path = str(tmp_path / "county.db")
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA.read_text(encoding="utf-8") + CONVERSATION_TABLES + REACH_TABLES)
    old.execute(
        "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active, created_at,"
        " updated_at, audiences) VALUES (5, 5, 'zh', ',fraud,', NULL, 1, 1.0, 1.0, ',merchants,')"
    )
    old.execute(
        "INSERT INTO suggestions (id, reference, user_id, chat_id, lang, text, created_at)"
        " VALUES (3, 'S261202-K7Q2', 5, 5, 'zh', '多办讲座', 1.0)"
    )
    for words in ("收到", "已转交", "已办"):  # one instant: only their order tells them apart
        old.execute("INSERT INTO suggestion_answers VALUES (3, 9.0, ?, 'Officer Li')", (words,))
    old.execute("INSERT INTO campaign_visits VALUES ('2026-12-01', 'qz-orange-box', 4)")
    old.commit()
    old.close()

    db = Database(path)
    assert _versions(db) == [m.version for m in MIGRATIONS]
    assert SqliteSubscriptionStore(db).get(5).audiences == ("merchants",)
    kept = SqliteSuggestionStore(db).get(3)
    assert kept is not None and kept.reference == "S261202-K7Q2"
    assert [a.text for a in kept.answers] == ["收到", "已转交", "已办"]
    assert db.execute("SELECT visits FROM campaign_visits").fetchall() == [(4,)]
    answered = SqliteSuggestionStore(db).answer(3, "再次感谢", "Officer Li", 9.0)
    assert [a.text for a in answered.answers][-1] == "再次感谢"  # new ids follow the old
    db.close()


def test_a_database_at_version_3_gains_audience_groups_in_place(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database made by the code before issue 19 (versions 1-3), with a subscriber: the next
    start adds version 4, the subscriber in no group and still reached by alerts to all."""
    from bot.broadcast.alerts import Alert
    from bot.broadcast.outbox import Outbox
    from bot.store import database as database_module

    monkeypatch.setattr(database_module, "MIGRATIONS", MIGRATIONS[:3])
    monkeypatch.setattr(database_module, "LATEST_VERSION", 3)
    before = Database(backend)
    before.execute(
        "INSERT INTO subscribers (chat_id, user_id, lang, topics, area, active, created_at,"
        " updated_at) VALUES (-1001234567890, 42, 'zh', ',fraud,', NULL, 1, 1.0, 1.0)"
    )
    before.close()
    monkeypatch.undo()

    db = Database(backend)
    assert _versions(db) == [m.version for m in MIGRATIONS]  # 4 and any after it
    store = SqliteSubscriptionStore(db)
    assert store.get(-1001234567890).audiences == ()
    alert = Alert(id="a", title={"zh": "预警"}, body={"zh": "内容"}, topics=("fraud",))
    assert Outbox(db).audience_size(alert) == 1
    store.set_audiences(-1001234567890, ("merchants",))
    shops = Alert(
        id="b",
        title={"zh": "预警"},
        body={"zh": "内容"},
        topics=("fraud",),
        audiences=("merchants",),
    )
    assert Outbox(db).audience_size(shops) == 1
    db.close()
