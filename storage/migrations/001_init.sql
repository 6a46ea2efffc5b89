-- Articles, their topics and full-text index; chats and their settings; source fetch state.

-- Small columns first, title and body last: reading sort_at or url of a row with a long body
-- then stays on the row's first page instead of walking the body's overflow pages.
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    url          TEXT    UNIQUE,
    guid         TEXT,
    fingerprint  TEXT    NOT NULL UNIQUE,
    published_at INTEGER,
    fetched_at   INTEGER NOT NULL,
    sort_at      INTEGER NOT NULL,
    language     TEXT    NOT NULL,
    topics       TEXT    NOT NULL DEFAULT '[]',
    image_url    TEXT,
    title        TEXT    NOT NULL,
    body         TEXT,
    UNIQUE (source, guid)
);

CREATE INDEX articles_newest ON articles (sort_at DESC, id DESC);

CREATE TABLE article_topics (
    topic      TEXT    NOT NULL,
    sort_at    INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, sort_at, article_id)
) WITHOUT ROWID;

-- Counts kept by the trigger below, because count(*) reads a whole index (10 ms at a million
-- articles) and /latest shows the number of pages.
CREATE TABLE article_total (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    articles INTEGER NOT NULL
);
INSERT INTO article_total (id, articles) VALUES (1, 0);

CREATE TABLE topic_counts (
    topic    TEXT    PRIMARY KEY,
    articles INTEGER NOT NULL
) WITHOUT ROWID;

-- Contentless: the index holds only normalised, stemmed terms produced by the application's
-- akhbar_terms() function; titles and bodies are read from `articles`. Those terms are already
-- folded and split into word characters separated by single spaces (queries go through the
-- same function), so the `ascii` tokenizer only has to split at the spaces; unicode61 would
-- look up every Arabic character again and made indexing 2.5 times slower.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body, content = '', tokenize = 'ascii'
);

-- The full-text rows are written by storage.articles.insert_many, one INSERT ... SELECT per
-- batch, not by this trigger: FTS5 flushes its pending terms to a new segment at every
-- savepoint, and a trigger statement is one, so indexing from here wrote a segment per
-- article and ran 2.5 times slower.
CREATE TRIGGER articles_indexed AFTER INSERT ON articles BEGIN
    INSERT INTO article_topics (topic, sort_at, article_id)
    SELECT value, new.sort_at, new.id FROM json_each(new.topics);
    UPDATE article_total SET articles = articles + 1;
    INSERT INTO topic_counts (topic, articles)
    SELECT DISTINCT value, 1 FROM json_each(new.topics) WHERE true
    ON CONFLICT (topic) DO UPDATE SET articles = articles + 1;
END;

CREATE TABLE chats (
    chat_id    INTEGER PRIMARY KEY,
    type       TEXT    NOT NULL,
    title      TEXT,
    language   TEXT,
    created_at INTEGER NOT NULL,
    is_active  INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE sources (
    name            TEXT PRIMARY KEY,
    etag            TEXT,
    last_modified   TEXT,
    last_fetched_at INTEGER,
    last_error      TEXT
);
