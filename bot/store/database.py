"""One SQLite file for everything the bot stores (ANTIFRAUD_DB), with its schema.

Each store takes an open Database; a server database can replace it behind the same store
interfaces later.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS user_language (
    user_id INTEGER PRIMARY KEY,
    lang TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscribers (
    chat_id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    lang TEXT NOT NULL,
    topics TEXT NOT NULL,          -- ",fraud,traffic,safety," so LIKE '%,fraud,%' selects
    area TEXT,                     -- a township id from content/areas.yaml, or NULL for all
    audiences TEXT NOT NULL DEFAULT ',',  -- ",merchants,students," (content/audiences.yaml)
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS subscribers_user ON subscribers (user_id);
CREATE TABLE IF NOT EXISTS broadcasts (
    alert_id TEXT PRIMARY KEY,
    alert_json TEXT NOT NULL,
    started_by INTEGER,            -- the admin's user id, to send the report to
    status TEXT NOT NULL,          -- sending | done
    enqueued INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | blocked | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    sent_at REAL,
    UNIQUE (alert_id, chat_id)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (alert_id, status, id);
CREATE TABLE IF NOT EXISTS insight_questions (   -- unanswered questions, personal numbers masked
    at REAL NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL                -- fallback | did_you_mean
);
CREATE INDEX IF NOT EXISTS insight_questions_at ON insight_questions (at);
CREATE TABLE IF NOT EXISTS insight_hits (
    day TEXT NOT NULL,                -- YYYY-MM-DD (UTC)
    intent TEXT NOT NULL,             -- an intent id, or fallback / did_you_mean
    hits INTEGER NOT NULL,
    PRIMARY KEY (day, intent)
);
CREATE TABLE IF NOT EXISTS group_guard (
    chat_id INTEGER PRIMARY KEY,
    enabled INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS report_drafts (        -- a report being written, one per resident
    user_id INTEGER PRIMARY KEY,
    draft TEXT NOT NULL,                          -- JSON of bot.core.report_flow.Draft
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS report_consent (       -- residents who accepted the privacy notice
    user_id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,               -- what the resident and the officers quote
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,                     -- where to tell the resident the outcome
    lang TEXT NOT NULL,
    details TEXT NOT NULL,                        -- JSON: kind, media ids, place, time, text
    status TEXT NOT NULL DEFAULT 'pending',       -- pending | accepted | rejected
    delivery TEXT NOT NULL DEFAULT 'queued',      -- queued | media_sent | delivered | refused
    review_messages TEXT NOT NULL DEFAULT '[]',   -- message ids in the review chat
    delivery_attempts INTEGER NOT NULL DEFAULT 0, -- deliveries that failed by the bot's fault
    created_at REAL NOT NULL,
    decided_at REAL,
    decided_by TEXT                               -- the reviewing officer's name
);
CREATE INDEX IF NOT EXISTS reports_user ON reports (user_id, created_at);
CREATE TABLE IF NOT EXISTS report_quota (         -- reports submitted today, for the daily limit;
    user_id INTEGER NOT NULL,                     -- kept through /forget until the day is over,
    day TEXT NOT NULL,                            -- or forgetting would reset the limit
    submitted INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX IF NOT EXISTS reports_delivery ON reports (delivery, id);
CREATE TABLE IF NOT EXISTS conversations (        -- bot.store.conversations: per chat, no words
    chat_id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,                     -- who spoke last, for /forget
    state TEXT NOT NULL,                          -- JSON of bot.core.conversation.ConversationState
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (             -- "was this helpful?" per card: counts only
    day TEXT NOT NULL,                            -- YYYY-MM-DD (UTC)
    intent TEXT NOT NULL,
    up INTEGER NOT NULL DEFAULT 0,
    down INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, intent)
);
"""
# Columns added after a table was first released: CREATE TABLE IF NOT EXISTS leaves an
# older file's table as it was, so each is added to it on opening (with its default).
ADDED_COLUMNS = (
    ("reports", "delivery_attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("subscribers", "audiences", "TEXT NOT NULL DEFAULT ','"),  # issue 19: audience groups
)


MEMORY = ":memory:"


class DatabaseUnusable(Exception):
    """The database file cannot be opened or used; says which file and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _create_private(path: str) -> None:
    """Create the file readable by its owner only (0600), before any data is in it: it holds
    report descriptions, places and user ids. SQLite gives the -wal and -shm files the mode
    of the database file, so they are private too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # created meanwhile by another process: its mode is its creator's
    except OSError as exc:
        raise DatabaseUnusable(path, _why_unusable(path, exc.strerror or str(exc))) from None


def _why_unusable(path: str, sqlite_says: str) -> str:
    """SQLite's reason in an operator's words where SQLite's own are vague."""
    file = Path(path)
    if file.is_dir():
        return "this is a folder, not a database file"
    if not file.parent.is_dir():
        return f"the folder {str(file.parent)!r} does not exist"
    if "not a database" in sqlite_says:
        return "this file is not an SQLite database (a wrong path, or a damaged file?)"
    if "readonly" in sqlite_says or "read-only" in sqlite_says:
        return "the file (or its folder) is read-only for this user"
    return sqlite_says


class Database:
    """A shared connection; the lock keeps threads (to_thread callers) from interleaving.

    `create=False` (the read-only commands) refuses a file that does not exist rather than
    making an empty one from a mistyped path. Every problem opening it is DatabaseUnusable.
    """

    def __init__(self, path: str, create: bool = True) -> None:
        self.path = path
        if path != MEMORY and not Path(path).exists():
            if not create:
                raise DatabaseUnusable(path, _why_unusable(path, "there is no such file"))
            _create_private(path)
        try:
            self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseUnusable(path, _why_unusable(path, str(exc))) from None
        self.lock = threading.RLock()
        try:
            self._set_up()
            if create:
                self._check_writable()
        except sqlite3.Error as exc:
            self.connection.close()
            raise DatabaseUnusable(path, _why_unusable(path, str(exc))) from None

    def readable_by_others(self) -> bool:
        """True for a file other users may read: made before files were created 0600, or
        copied with a loose mode. It holds report descriptions, places and user ids."""
        return self.path != MEMORY and Path(self.path).stat().st_mode & 0o077 != 0

    def _check_writable(self) -> None:
        """Fail now, with the reason, if the file is read-only: SQLite opens it anyway and
        would fail at the first report or subscription. Nothing is kept (rolled back)."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.connection.execute("CREATE TABLE write_check (x)")
            finally:
                self.connection.execute("ROLLBACK")

    def _set_up(self) -> None:
        with self.lock:
            self.connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a killed process (the WAL survives), which is the
            # crash this bot must survive; FULL would only add power-loss durability.
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.executescript(SCHEMA)
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        for table, column, definition in ADDED_COLUMNS:
            existing = self.connection.execute(f"PRAGMA table_info({table})").fetchall()
            if column not in {row[1] for row in existing}:
                self.connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.connection.execute(sql, params)

    def close(self) -> None:
        with self.lock:
            self.connection.close()
