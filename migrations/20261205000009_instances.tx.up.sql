-- The server instances sharing this database (app/instances.go): each writes its row every few
-- seconds, so the status page can show every instance, which one leads the cluster's timed work
-- and which stopped answering. id is new at every start; rows a day old are deleted.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at {{.Time}} NOT NULL,
    seen_at {{.Time}} NOT NULL,
    leader BOOLEAN NOT NULL DEFAULT FALSE,
    pcs_here INTEGER NOT NULL DEFAULT 0,
    polls_per_second DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- tokens.PINHasher.KeyCheck: instances must share the PIN key (app.New checks).
    pin_key_check TEXT NOT NULL DEFAULT ''
);
