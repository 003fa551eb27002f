-- The schema bot/store/database.py created before migrations (main at 1ce15dd), as it was:
-- tests/test_migrations.py builds a file with it and checks that the bot adopts it in place.
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
