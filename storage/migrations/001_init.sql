-- Articles, their topics and full-text index; chats and their settings; source fetch state.

CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT,
    url          TEXT    UNIQUE,
    guid         TEXT,
    fingerprint  TEXT    NOT NULL UNIQUE,
    published_at INTEGER,
    fetched_at   INTEGER NOT NULL,
    sort_at      INTEGER NOT NULL,
    language     TEXT    NOT NULL,
    topics       TEXT    NOT NULL DEFAULT '[]',
    image_url    TEXT,
    UNIQUE (source, guid)
);

CREATE INDEX articles_newest ON articles (sort_at DESC, id DESC);

CREATE TABLE article_topics (
    topic      TEXT    NOT NULL,
    sort_at    INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, sort_at, article_id)
) WITHOUT ROWID;

-- Contentless: the index holds only normalised, stemmed terms produced by the application's
-- akhbar_terms() function; titles and bodies are read from `articles`.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body, content = '', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER articles_indexed AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body)
    VALUES (new.id, akhbar_terms(new.title), akhbar_terms(new.body));
    INSERT INTO article_topics (topic, sort_at, article_id)
    SELECT value, new.sort_at, new.id FROM json_each(new.topics);
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
