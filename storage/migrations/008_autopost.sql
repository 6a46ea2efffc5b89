-- Auto-posting to channels and groups, outbox rows that open with a photo, and inline shares.

-- An admin's standing order for a chat (or one forum topic): post each new article of these
-- topics through these filters, in this style, at most hourly_cap an hour (NULL: the
-- configured default), nothing between quiet_start and quiet_end (minutes after midnight in the
-- chat's time zone; may wrap past midnight).
CREATE TABLE autopost_rules (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    thread_id     INTEGER,
    topics        TEXT    NOT NULL DEFAULT '[]',
    include_words TEXT    NOT NULL DEFAULT '[]',
    exclude_words TEXT    NOT NULL DEFAULT '[]',
    style         TEXT    NOT NULL DEFAULT 'headline'
        CHECK (style IN ('headline', 'summary', 'photo')),
    link_preview  INTEGER NOT NULL DEFAULT 0,
    hourly_cap    INTEGER,
    quiet_start   INTEGER,
    quiet_end     INTEGER,
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    paused_reason TEXT
);

CREATE INDEX autopost_rules_by_chat ON autopost_rules (chat_id, id);

-- What auto-posting decided for each article a chat's rule matched: posted at once, held for
-- the "more news" digest due at due_at (over the cap, or in quiet hours), folded into that
-- digest once queued, or left out as a story the chat already had. One row per chat and
-- article: an article is posted once per chat whatever rule matched it. url and title_key (the
-- normalised title) find the same story from another source within a day.
CREATE TABLE autopost_items (
    chat_id    INTEGER NOT NULL,
    article_id INTEGER NOT NULL,
    rule_id    INTEGER NOT NULL,
    url        TEXT,
    title_key  TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('posted', 'held', 'folded', 'duplicate')),
    decided_at INTEGER NOT NULL,
    due_at     INTEGER,
    PRIMARY KEY (chat_id, article_id)
) WITHOUT ROWID;

CREATE INDEX autopost_items_recent ON autopost_items (chat_id, decided_at);
CREATE INDEX autopost_items_held ON autopost_items (due_at) WHERE state = 'held';

-- A row that opens with a photo: parts[0] is the caption; image_id is the moderation record
-- (the message is registered under it once sent); report_button is the button's label.
ALTER TABLE outbox ADD COLUMN photo_url TEXT;
ALTER TABLE outbox ADD COLUMN image_id INTEGER;
ALTER TABLE outbox ADD COLUMN report_button TEXT;
ALTER TABLE outbox ADD COLUMN link_preview INTEGER NOT NULL DEFAULT 0;

-- An article someone sent into a chat through inline mode (chosen_inline_result).
CREATE TABLE inline_shares (
    article_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    shared_at  INTEGER NOT NULL
);

CREATE INDEX inline_shares_recent ON inline_shares (shared_at, article_id);
