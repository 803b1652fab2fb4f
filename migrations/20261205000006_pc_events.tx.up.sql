-- The fleet's events for the event log: PCs registered, re-enrolled, their re-enrolment requests
-- and the operators' decisions, deletions. pc_id has no foreign key: the record of a PC outlives
-- its deletion. actor is the operator, or for a registration the PIN used (its id and who made
-- it; never the PIN itself).
CREATE TABLE pc_events (
    id {{.ID}},
    kind TEXT NOT NULL,
    pc_id BIGINT NOT NULL,
    hostname TEXT NOT NULL DEFAULT '',
    machine_id TEXT NOT NULL DEFAULT '',
    ip_address TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL
);
CREATE INDEX pc_events_pc_id ON pc_events(pc_id);
