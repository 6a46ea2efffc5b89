-- Outbox rows that change a message the bot already sent (a hidden image replaced by a
-- placeholder) rather than send a new one. `step` is the next request of the row: 'edit'
-- (editMessageMedia), 'delete' (the edit was refused: deleteMessage), 'send' (the parts, which
-- for an edit row are the text re-sent after a successful delete). Recording the step is what
-- keeps a restart from editing again after the delete, or deleting again after the edit.

ALTER TABLE outbox ADD COLUMN step TEXT NOT NULL DEFAULT 'send'
    CHECK (step IN ('send', 'edit', 'delete'));
ALTER TABLE outbox ADD COLUMN edit_message_id INTEGER;  -- the message to change (edit rows)
ALTER TABLE outbox ADD COLUMN edit_caption TEXT;        -- Telegram-HTML caption to keep
