-- Per-minute and hourly history of each PC (models/telemetry.go): load averages and maxima, how
-- many heartbeats came, how long the PC was online, who was logged in (the console user of its
-- last full heartbeat), its address. minute and hour are Unix seconds of the period's start, so
-- ranges compare as numbers in both dialects. No foreign key: the fleet writes a minute after
-- the fact, when its PC may be gone; a deleted PC's rows go with it (DeletePC) and retention
-- prunes the rest.
CREATE TABLE pc_minutes (
    pc_id BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    samples INTEGER NOT NULL,
    online_seconds INTEGER NOT NULL,
    cpu_avg DOUBLE PRECISION,
    cpu_max DOUBLE PRECISION,
    ram_avg DOUBLE PRECISION,
    ram_max DOUBLE PRECISION,
    user_name TEXT NOT NULL DEFAULT '',
    ip_address TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (pc_id, minute)
);
CREATE INDEX pc_minutes_minute ON pc_minutes(minute);

-- in_use_minutes: minutes someone was logged in.
CREATE TABLE pc_hours (
    pc_id BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    samples INTEGER NOT NULL,
    online_seconds INTEGER NOT NULL,
    cpu_avg DOUBLE PRECISION,
    cpu_max DOUBLE PRECISION,
    ram_avg DOUBLE PRECISION,
    ram_max DOUBLE PRECISION,
    in_use_minutes INTEGER NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    ip_address TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (pc_id, hour)
);
CREATE INDEX pc_hours_hour ON pc_hours(hour);
