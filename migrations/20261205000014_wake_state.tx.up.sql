-- A PC's last Wake-on-LAN (models/wake.go): sent, then ended awake (its first heartbeat came)
-- or failed (none within the limit). pc_events.detail says more about an event, such as how
-- long a wake took.
ALTER TABLE pcs ADD COLUMN wake_state TEXT NOT NULL DEFAULT '';
ALTER TABLE pcs ADD COLUMN wake_sent_at {{.Time}};
ALTER TABLE pcs ADD COLUMN wake_ended_at {{.Time}};
ALTER TABLE pc_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';
