-- Subscriptions, digest schedules, what each chat already received, and small bot settings.

-- A chat's own time zone (an IANA name); NULL means the configured default.
ALTER TABLE chats ADD COLUMN timezone TEXT;

-- A private chat's subscription. topics / instant_topics / include_words / exclude_words are
-- JSON lists; no topics means every topic.
CREATE TABLE subscriptions (
    chat_id        INTEGER PRIMARY KEY,
    topics         TEXT    NOT NULL DEFAULT '[]',
    instant_topics TEXT    NOT NULL DEFAULT '[]',
    include_words  TEXT    NOT NULL DEFAULT '[]',
    exclude_words  TEXT    NOT NULL DEFAULT '[]',
    created_at     INTEGER NOT NULL
);

-- When a chat gets a digest: daily times (times, "HH:MM" comma-separated, on days, APScheduler
-- day names, NULL for every day) or a cron expression. last_slot is the last fire time (epoch)
-- handled, so a restart never sends a slot twice; last_article_id bounds "since the previous".
CREATE TABLE schedules (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    thread_id       INTEGER,
    times           TEXT,
    days            TEXT,
    cron            TEXT,
    topics          TEXT    NOT NULL DEFAULT '[]',
    item_count      INTEGER NOT NULL,
    created_by      INTEGER,
    created_at      INTEGER NOT NULL,
    paused_reason   TEXT,
    last_slot       INTEGER,
    last_article_id INTEGER
);

CREATE INDEX schedules_by_chat ON schedules (chat_id, id);

-- Articles a chat received (in a digest or an instant push): never sent to it twice.
CREATE TABLE deliveries (
    chat_id      INTEGER NOT NULL,
    article_id   INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    delivered_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, article_id)
) WITHOUT ROWID;

-- The channel an admin picked in a private chat by forwarding one of its posts.
CREATE TABLE admin_targets (
    user_chat_id   INTEGER PRIMARY KEY,
    target_chat_id INTEGER NOT NULL,
    chosen_at      INTEGER NOT NULL
);

-- Small named values: the bot's username (for deep links written by the CLI), the instant
-- push watermark.
CREATE TABLE bot_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
