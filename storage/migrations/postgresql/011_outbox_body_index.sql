-- Which outbox rows use a message body: deleting old bodies (history retention) checks each
-- one's foreign key, and without this index the database reads the whole outbox for every body.
CREATE INDEX outbox_body ON outbox (body_id);
