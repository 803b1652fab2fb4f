ALTER TABLE pc_events DROP COLUMN detail;
ALTER TABLE pcs DROP COLUMN wake_ended_at;
ALTER TABLE pcs DROP COLUMN wake_sent_at;
ALTER TABLE pcs DROP COLUMN wake_state;
