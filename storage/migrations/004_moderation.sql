-- Image moderation: what an image is (keys, perceptual hash), reports against it, where the bot
-- showed it, and what moderators did. Times are Unix seconds (REAL). Uses only tables of 001.

CREATE TABLE images (
    id              INTEGER PRIMARY KEY,
    phash           INTEGER,                 -- 64-bit pHash, stored signed (SQLite has no u64)
    sha256          TEXT,
    source_url      TEXT,
    preview_file_id TEXT,                    -- a Telegram file_id to show moderators a preview
    status          TEXT    NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'hidden')),
    -- Restoring an image bumps its epoch: only reports of the current epoch count.
    report_epoch    INTEGER NOT NULL DEFAULT 0,
    copy_of         INTEGER REFERENCES images (id),   -- hidden because it matched this image
    created_at      REAL    NOT NULL,
    hidden_at       REAL,
    restored_at     REAL,
    cooldown_until  REAL                     -- not hidden by reports again before this
);

-- Near-duplicates are found by reading every hidden hash and comparing in Python: each hidden
-- image took several people's reports, so they stay few, and this partial index is the scan.
CREATE INDEX images_hidden ON images (id, phash) WHERE status = 'hidden';
CREATE INDEX images_copies ON images (copy_of) WHERE copy_of IS NOT NULL;

-- Every way an image is recognised: each size of a Telegram photo has its own file_unique_id;
-- an article image has its source URL and the SHA-256 of its bytes.
CREATE TABLE image_keys (
    kind     TEXT    NOT NULL CHECK (kind IN ('telegram', 'url', 'sha256')),
    value    TEXT    NOT NULL,
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX image_keys_image ON image_keys (image_id);

CREATE TABLE article_images (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    image_id   INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE
);
CREATE INDEX article_images_image ON article_images (image_id);

-- The unique key is what makes "one counted report per person per image per epoch" hold
-- whatever the interleaving.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    image_id    INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    epoch       INTEGER NOT NULL,
    reporter_id INTEGER NOT NULL,
    chat_id     INTEGER,
    weight      INTEGER NOT NULL CHECK (weight > 0),
    created_at  REAL    NOT NULL,
    UNIQUE (image_id, epoch, reporter_id)
);
-- The rate limit counts one person's reports of the last hour.
CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at);

CREATE TABLE ignored_reporters (
    user_id    INTEGER PRIMARY KEY,
    ignored_by INTEGER,
    ignored_at REAL    NOT NULL
);

-- No foreign key to chats: an admin may set a threshold before the bot has recorded the chat.
CREATE TABLE chat_thresholds (
    chat_id   INTEGER PRIMARY KEY,
    threshold INTEGER NOT NULL CHECK (threshold >= 1),
    set_by    INTEGER,
    set_at    REAL    NOT NULL
);

CREATE TABLE image_messages (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    image_id     INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    sent_at      REAL    NOT NULL,
    caption_html TEXT,
    UNIQUE (chat_id, message_id)
);
-- Hiding walks an image's messages in id order, one batch at a time.
CREATE INDEX image_messages_image ON image_messages (image_id, id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         REAL    NOT NULL,
    actor_id   INTEGER,                      -- NULL: the bot itself (reports, copies)
    action     TEXT    NOT NULL,
    image_id   INTEGER,
    subject_id INTEGER,                      -- the reporter or chat an action was about
    details    TEXT    NOT NULL DEFAULT '{}' -- JSON
);
