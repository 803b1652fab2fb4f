-- Room timetables (fleet/timetables.go): each room's weekly plan, the dates that change it, and
-- the record of every step the server ran.
CREATE TABLE timetable_entries (
    id {{.ID}},
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    -- days: bit 1 << weekday, Sunday 0 (timetable.Weekdays)
    days INTEGER NOT NULL,
    action TEXT NOT NULL,
    -- minutes after midnight in the server's time zone (-timezone)
    at_minute INTEGER NOT NULL,
    warn_minutes INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    retry_minutes INTEGER NOT NULL DEFAULT 0,
    final_minute INTEGER NOT NULL DEFAULT 0,
    force_off BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL
);
CREATE INDEX timetable_entries_room_id ON timetable_entries(room_id);

-- A date whose plan changes: a holiday skips everything, an exam day the shutdowns. room_id
-- NULL: every room.
CREATE TABLE timetable_exceptions (
    id {{.ID}},
    room_id BIGINT REFERENCES rooms(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    skip TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL
);
CREATE INDEX timetable_exceptions_day ON timetable_exceptions(day);

-- One row per step run, written with the commands it queued in one transaction: the unique
-- step_key makes a step run once however many instances try it. outcomes: a JSON array of
-- {pc_id, hostname, outcome, user}.
CREATE TABLE timetable_runs (
    id {{.ID}},
    step_key TEXT NOT NULL UNIQUE,
    room_id BIGINT NOT NULL,
    room_name TEXT NOT NULL,
    entry_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    planned_at {{.Time}} NOT NULL,
    ran_at {{.Time}} NOT NULL,
    outcomes TEXT NOT NULL
);
CREATE INDEX timetable_runs_room_id ON timetable_runs(room_id);
