-- Schedules are data, not jobs: each row keeps the next time it fires (epoch seconds), and one
-- scheduler loop claims the rows whose time has come. 0 means "not computed yet": the loop
-- computes it at its next run, serving a slot missed within the grace period once (rows that
-- existed before this migration); NULL means the rule never fires again.
ALTER TABLE schedules ADD COLUMN next_fire_at INTEGER DEFAULT 0;

CREATE INDEX schedules_due ON schedules (next_fire_at, id);
