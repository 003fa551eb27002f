"""The database schema as numbered migrations, one SQL text per backend.

Version 1 is the schema the bot had before migrations existed, statement for statement, so a
file made by that code is adopted in place: its tables exist already (`IF NOT EXISTS`), the
runner records version 1 and applies what follows.

Adding a table or a column later is one new `Migration` at the end of `MIGRATIONS`, with the
next number and the SQL for both backends (docs/deployment.md, "Changing the schema"). A
released migration is never edited: databases out there have already applied it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: str
    postgresql: str
    # SQLite columns (table, column, definition) added only where missing, after `sqlite`
    # runs: a file made before migrations by code that already had them keeps its own.
    sqlite_columns: tuple[tuple[str, str, str], ...] = ()

    def sql(self, dialect: str) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def statements(script: str) -> list[str]:
    """The statements of a migration script: split at `;` ending a line, comments dropped.
    (The scripts hold no `;` inside a string, so this is exact for them.)"""
    lines = [line.split("--", 1)[0].rstrip() for line in script.splitlines()]
    text = "\n".join(line for line in lines if line.strip())
    return [part.strip() for part in text.split(";\n") if part.strip().rstrip(";")]


_V1_SQLITE = """
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
"""

# The same tables on PostgreSQL: Telegram ids exceed 32 bits (BIGINT), times are
# DOUBLE PRECISION (seconds since the epoch, as in SQLite), row ids are identities that accept
# explicit values (`db copy` keeps a county's ids, then moves the sequences past them).
_V1_POSTGRESQL = """
CREATE TABLE user_language (
    user_id BIGINT PRIMARY KEY,
    lang TEXT NOT NULL
);
CREATE TABLE subscribers (
    chat_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    lang TEXT NOT NULL,
    topics TEXT NOT NULL,
    area TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX subscribers_user ON subscribers (user_id);
CREATE TABLE broadcasts (
    alert_id TEXT PRIMARY KEY,
    alert_json TEXT NOT NULL,
    started_by BIGINT,
    status TEXT NOT NULL,
    enqueued BIGINT NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION
);
CREATE TABLE outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    alert_id TEXT NOT NULL,
    chat_id BIGINT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    sent_at DOUBLE PRECISION,
    UNIQUE (alert_id, chat_id)
);
CREATE INDEX outbox_pending ON outbox (alert_id, status, id);
CREATE TABLE insight_questions (
    at DOUBLE PRECISION NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX insight_questions_at ON insight_questions (at);
CREATE TABLE insight_hits (
    day TEXT NOT NULL,
    intent TEXT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (day, intent)
);
CREATE TABLE group_guard (
    chat_id BIGINT PRIMARY KEY,
    enabled INTEGER NOT NULL
);
CREATE TABLE report_drafts (
    user_id BIGINT PRIMARY KEY,
    draft TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE report_consent (
    user_id BIGINT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL
);
CREATE TABLE reports (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    lang TEXT NOT NULL,
    details TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    delivery TEXT NOT NULL DEFAULT 'queued',
    review_messages TEXT NOT NULL DEFAULT '[]',
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    decided_at DOUBLE PRECISION,
    decided_by TEXT
);
CREATE INDEX reports_user ON reports (user_id, created_at);
CREATE TABLE report_quota (
    user_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX reports_delivery ON reports (delivery, id);
"""

# Several replicas send one broadcast: a replica claims outbox rows for a lease before sending
# them (another skips them), and all replicas draw send slots from one shared bucket.
_V2_SQLITE = """
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
CREATE TABLE send_rate (
    name TEXT PRIMARY KEY,
    next_at REAL NOT NULL
);
"""
_V2_POSTGRESQL = """
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until DOUBLE PRECISION;
CREATE TABLE send_rate (
    name TEXT PRIMARY KEY,
    next_at DOUBLE PRECISION NOT NULL
);
"""

# Each chat's conversation state and the "was this helpful?" counts (bot.store.conversations).
# `IF NOT EXISTS` on SQLite: a file made by the bot before migrations but after these tables
# (they were then created at every opening) already has them, and is adopted as it is.
_V3_SQLITE = """
CREATE TABLE IF NOT EXISTS conversations (        -- per chat, never the resident's words
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
_V3_POSTGRESQL = """
CREATE TABLE conversations (
    chat_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE feedback (
    day TEXT NOT NULL,
    intent TEXT NOT NULL,
    up BIGINT NOT NULL DEFAULT 0,
    down BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, intent)
);
"""

# Issue 19: audience groups on subscribers, campaign-link visits, residents' suggestions with
# the officers' answers. On SQLite these came before migrations (created at every opening), so
# a file of that time has them: `IF NOT EXISTS`, and the column only where missing. Answers get
# an `id` (they are listed in the order given; PostgreSQL has no rowid): an SQLite table made
# without it is rebuilt, its rowids kept as ids.
_V4_SQLITE = """
CREATE TABLE IF NOT EXISTS campaign_visits (
    day TEXT NOT NULL,                -- YYYY-MM-DD (UTC), as insight_hits
    code TEXT NOT NULL,               -- a campaign code from content/campaigns.yaml
    visits INTEGER NOT NULL,
    PRIMARY KEY (day, code)
);
CREATE TABLE IF NOT EXISTS suggestions (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,               -- S261202-K7Q2, what both sides quote
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,                     -- where the answers go
    lang TEXT NOT NULL,
    text TEXT NOT NULL,                           -- personal numbers masked
    status TEXT NOT NULL DEFAULT 'open',          -- open | answered | resolved | referred
    delivery TEXT NOT NULL DEFAULT 'queued',      -- queued | delivered | refused
    bureau_message INTEGER,                       -- its message in the suggestions chat
    bureau_messages TEXT NOT NULL DEFAULT '[]',   -- every bot message about it there
    delivery_attempts INTEGER NOT NULL DEFAULT 0, -- deliveries that failed by the bot's fault
    created_at REAL NOT NULL,
    decided_by TEXT                               -- who marked it resolved or referred
);
CREATE INDEX IF NOT EXISTS suggestions_user ON suggestions (user_id, created_at);
CREATE INDEX IF NOT EXISTS suggestions_delivery ON suggestions (delivery, id);
CREATE INDEX IF NOT EXISTS suggestions_bureau ON suggestions (bureau_message);
CREATE TABLE IF NOT EXISTS suggestion_answers (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    text TEXT NOT NULL,
    officer TEXT NOT NULL
);
CREATE TABLE suggestion_answers_v4 (
    id INTEGER PRIMARY KEY,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    text TEXT NOT NULL,
    officer TEXT NOT NULL
);
INSERT INTO suggestion_answers_v4 (id, suggestion_id, at, text, officer)
    SELECT rowid, suggestion_id, at, text, officer FROM suggestion_answers;
DROP TABLE suggestion_answers;
ALTER TABLE suggestion_answers_v4 RENAME TO suggestion_answers;
CREATE INDEX suggestion_answers_of ON suggestion_answers (suggestion_id, at, id);
CREATE TABLE IF NOT EXISTS suggestion_waiting (   -- asked for their text, not yet sent
    user_id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS suggestion_quota (     -- suggestions sent today, for the daily
    user_id INTEGER NOT NULL,                     -- limit; kept through /forget until the day
    day TEXT NOT NULL,                            -- is over, or forgetting would reset it
    submitted INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
"""
_V4_POSTGRESQL = """
ALTER TABLE subscribers ADD COLUMN audiences TEXT NOT NULL DEFAULT ',';
CREATE TABLE campaign_visits (
    day TEXT NOT NULL,
    code TEXT NOT NULL,
    visits BIGINT NOT NULL,
    PRIMARY KEY (day, code)
);
CREATE TABLE suggestions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    lang TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    delivery TEXT NOT NULL DEFAULT 'queued',
    bureau_message BIGINT,
    bureau_messages TEXT NOT NULL DEFAULT '[]',
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    decided_by TEXT
);
CREATE INDEX suggestions_user ON suggestions (user_id, created_at);
CREATE INDEX suggestions_delivery ON suggestions (delivery, id);
CREATE INDEX suggestions_bureau ON suggestions (bureau_message);
CREATE TABLE suggestion_answers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    suggestion_id BIGINT NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    at DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    officer TEXT NOT NULL
);
CREATE INDEX suggestion_answers_of ON suggestion_answers (suggestion_id, at, id);
CREATE TABLE suggestion_waiting (
    user_id BIGINT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL
);
CREATE TABLE suggestion_quota (
    user_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
"""

# Alerts an administrator typed after /broadcast, until confirmed or cancelled: in the
# database, so the confirmation may reach any replica behind the load balancer.
_V5_SQLITE = """
CREATE TABLE alert_drafts (
    alert_id TEXT PRIMARY KEY,
    alert_json TEXT NOT NULL,                     -- as broadcasts.alert_json
    created_at REAL NOT NULL
);
"""
_V5_POSTGRESQL = """
CREATE TABLE alert_drafts (
    alert_id TEXT PRIMARY KEY,
    alert_json TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
"""

# Columns added to version 1's tables before migrations existed: a file made by that older
# code lacks them, and `IF NOT EXISTS` leaves its table as it was, so adopting such a file
# adds them (SQLite only: no PostgreSQL database predates migrations).
PRE_MIGRATION_COLUMNS = (("reports", "delivery_attempts", "INTEGER NOT NULL DEFAULT 0"),)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1_SQLITE, _V1_POSTGRESQL, PRE_MIGRATION_COLUMNS),
    Migration(2, "outbox claims and a shared send rate", _V2_SQLITE, _V2_POSTGRESQL),
    Migration(3, "conversation state and card feedback", _V3_SQLITE, _V3_POSTGRESQL),
    Migration(
        4,
        "audience groups, campaign visits, suggestions",
        _V4_SQLITE,
        _V4_POSTGRESQL,
        (("subscribers", "audiences", "TEXT NOT NULL DEFAULT ','"),),  # ",merchants,students,"
    ),
    Migration(5, "typed alerts awaiting confirmation", _V5_SQLITE, _V5_POSTGRESQL),
)
