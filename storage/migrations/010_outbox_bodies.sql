-- A message's texts stored once, however many chats it goes to: the 08:00 digest that 100,000
-- subscribers of the same topics share is one body of ~2 KB, not 100,000 copies of it. Rows
-- queued from now on point at their body and keep '' in `parts`; rows queued before keep
-- their own texts.
CREATE TABLE outbox_bodies (
    id     INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,  -- SHA-256 of `parts`: alike messages find one body
    parts  TEXT NOT NULL          -- JSON array of Telegram-HTML texts
);
ALTER TABLE outbox ADD COLUMN body_id INTEGER REFERENCES outbox_bodies (id);
