-- Sources live in the database (config.toml seeds them once): what to fetch, when next, and
-- how healthy each one is. Rows written before this migration hold only fetch validators;
-- they get their address when the configuration seeds them.
ALTER TABLE sources ADD COLUMN url TEXT;
-- The address's host name: the polling loop skips hosts already fetched as often as allowed.
ALTER TABLE sources ADD COLUMN host TEXT;
ALTER TABLE sources ADD COLUMN kind TEXT NOT NULL DEFAULT 'rss';
ALTER TABLE sources ADD COLUMN language TEXT NOT NULL DEFAULT 'ar';
ALTER TABLE sources ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sources ADD COLUMN poll_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE sources ADD COLUMN added_at INTEGER;
-- 'operator' (/pausesource) or 'gone' (the site answered 410); NULL = polled.
ALTER TABLE sources ADD COLUMN paused_reason TEXT;
ALTER TABLE sources ADD COLUMN next_poll_at INTEGER;
ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN failing_since INTEGER;
ALTER TABLE sources ADD COLUMN error_kind TEXT;
ALTER TABLE sources ADD COLUMN last_success_at INTEGER;
-- 1 once the operators were told the source is failing; cleared (and told) on recovery.
ALTER TABLE sources ADD COLUMN alerted INTEGER NOT NULL DEFAULT 0;

-- The polling loop's one query: the earliest due source that is not paused.
CREATE INDEX sources_due ON sources (next_poll_at)
    WHERE paused_reason IS NULL AND url IS NOT NULL;

-- New articles per source per UTC day: /sources shows a rate, /stats charts 14 days.
CREATE TABLE source_days (
    source   TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    articles INTEGER NOT NULL,
    PRIMARY KEY (source, day)
) WITHOUT ROWID;
