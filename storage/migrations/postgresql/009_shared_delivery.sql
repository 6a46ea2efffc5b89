-- Several `akhbar run` processes drain one outbox within one bot's flood limits (issue 13).
-- The same as SQLite's 009 (see there); the baseline already has outbox_chat_queued.

CREATE INDEX IF NOT EXISTS outbox_chat_queued ON outbox (chat_id, id) WHERE status = 'queued';
ALTER TABLE outbox ADD COLUMN chat_free_at DOUBLE PRECISION;
CREATE INDEX outbox_chat_free ON outbox (chat_id, chat_free_at) WHERE chat_free_at IS NOT NULL;

CREATE TABLE send_budget (
    name         TEXT PRIMARY KEY,
    rate         DOUBLE PRECISION NOT NULL DEFAULT 0,
    next_slot_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    paused_until DOUBLE PRECISION NOT NULL DEFAULT 0
);
INSERT INTO send_budget (name) VALUES ('overall');
