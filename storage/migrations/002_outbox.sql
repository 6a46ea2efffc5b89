-- The broadcast outbox: one row per chat and message (a digest may have several parts), written
-- before anything is sent. Workers claim rows with a lease; `next_part` records progress so a
-- restart resumes at the first unsent part. Times are Unix seconds (REAL).

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    chat_id     INTEGER NOT NULL,
    thread_id   INTEGER,
    kind        TEXT    NOT NULL,
    parts       TEXT    NOT NULL,            -- JSON array of Telegram-HTML texts
    part_count  INTEGER NOT NULL,
    next_part   INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL    NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    lease_until REAL,
    last_error  TEXT,
    created_at  REAL    NOT NULL,
    started_at  REAL,                        -- first part accepted by Telegram
    finished_at REAL
);

-- Claiming scans only what is still to send, in arrival order.
CREATE INDEX outbox_queued ON outbox (id) WHERE status = 'queued';
-- Lease renewal and release touch only the rows a worker holds.
CREATE INDEX outbox_claims ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX outbox_created ON outbox (created_at);
