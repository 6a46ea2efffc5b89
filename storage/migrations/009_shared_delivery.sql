-- Several `akhbar run` processes drain one outbox within one bot's flood limits (issue 13).

-- A row is claimed only once every earlier queued row of its chat is done, and only after the
-- chat's gap since its last finished row (real time, whatever clock schedules the rows):
-- these two lookups by chat make the claim cheap.
CREATE INDEX IF NOT EXISTS outbox_chat_queued ON outbox (chat_id, id) WHERE status = 'queued';
-- When a row finishes: the real time of its last answer plus its chat's gap.
ALTER TABLE outbox ADD COLUMN chat_free_at REAL;
CREATE INDEX outbox_chat_free ON outbox (chat_id, chat_free_at) WHERE chat_free_at IS NOT NULL;

-- The bot-wide send rate, shared by every process: a schedule of evenly spaced send slots
-- (a token bucket without burst). A process takes a few slots at a time (about 50 ms worth)
-- from `next_slot_at` on; a 429 sets `paused_until`, and no process gets a slot before it.
-- Times are Unix seconds on the database's clock.
CREATE TABLE send_budget (
    name         TEXT PRIMARY KEY,
    rate         REAL NOT NULL DEFAULT 0,  -- messages per second the last draw asked for
    next_slot_at REAL NOT NULL DEFAULT 0,  -- the first slot no process holds
    paused_until REAL NOT NULL DEFAULT 0
);
INSERT INTO send_budget (name) VALUES ('overall');
