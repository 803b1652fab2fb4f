CREATE TABLE admins (
    id {{.ID}},
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'admin',
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{.Time}} NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    expires_at {{.Time}} NOT NULL
);
CREATE INDEX sessions_admin_id ON sessions(admin_id);

CREATE TABLE registration_tokens (
    id {{.ID}},
    token TEXT NOT NULL,
    usage_type TEXT NOT NULL,
    used_count INTEGER NOT NULL DEFAULT 0,
    expires_at {{.Time}} NOT NULL,
    revoked_at {{.Time}},
    created_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL
);
CREATE INDEX registration_tokens_token ON registration_tokens(token);

CREATE TABLE rooms (
    id {{.ID}},
    name TEXT NOT NULL UNIQUE,
    seat_rows INTEGER NOT NULL,
    seat_cols INTEGER NOT NULL,
    created_at {{.Time}} NOT NULL
);

CREATE TABLE pcs (
    id {{.ID}},
    machine_id TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    mac_address TEXT NOT NULL,
    ip_address TEXT NOT NULL DEFAULT '',
    is_verified BOOLEAN NOT NULL DEFAULT FALSE,
    room_id BIGINT REFERENCES rooms(id) ON DELETE RESTRICT,
    seat_row INTEGER,
    seat_col INTEGER,
    agent_token_hash TEXT NOT NULL DEFAULT '',
    cpu_model TEXT NOT NULL DEFAULT '',
    cpu_cores INTEGER NOT NULL DEFAULT 0,
    cpu_threads INTEGER NOT NULL DEFAULT 0,
    ram_total DOUBLE PRECISION NOT NULL DEFAULT 0,
    os_edition TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    is_online BOOLEAN NOT NULL DEFAULT FALSE,
    last_seen {{.Time}},
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL,
    UNIQUE (room_id, seat_row, seat_col)
);
CREATE INDEX pcs_room_id ON pcs(room_id);

-- Latest reported state. Light heartbeats touch only the cpu/ram columns and light_at.
CREATE TABLE pc_state (
    pc_id BIGINT PRIMARY KEY REFERENCES pcs(id) ON DELETE CASCADE,
    cpu_usage DOUBLE PRECISION,
    ram_usage_percent DOUBLE PRECISION,
    ram_used DOUBLE PRECISION,
    logged_in_user TEXT,
    uptime BIGINT,
    processes TEXT,
    light_at {{.Time}},
    full_at {{.Time}}
);

CREATE TABLE pc_disks (
    pc_id BIGINT NOT NULL REFERENCES pcs(id) ON DELETE CASCADE,
    mount TEXT NOT NULL,
    total_gb DOUBLE PRECISION,
    fstype TEXT NOT NULL DEFAULT '',
    used_gb DOUBLE PRECISION,
    free_gb DOUBLE PRECISION,
    percent DOUBLE PRECISION,
    updated_at {{.Time}} NOT NULL,
    PRIMARY KEY (pc_id, mount)
);

CREATE TABLE pc_ip_history (
    id {{.ID}},
    pc_id BIGINT NOT NULL REFERENCES pcs(id) ON DELETE CASCADE,
    ip_address TEXT NOT NULL,
    seen_at {{.Time}} NOT NULL
);
CREATE INDEX pc_ip_history_pc_id ON pc_ip_history(pc_id, id);

CREATE TABLE pc_outages (
    id {{.ID}},
    pc_id BIGINT NOT NULL REFERENCES pcs(id) ON DELETE CASCADE,
    started_at {{.Time}} NOT NULL,
    ended_at {{.Time}},
    duration_seconds BIGINT,
    reason TEXT NOT NULL
);
CREATE INDEX pc_outages_pc_id ON pc_outages(pc_id, id);

CREATE TABLE commands (
    id {{.ID}},
    pc_id BIGINT NOT NULL REFERENCES pcs(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    parameters TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    timeout INTEGER NOT NULL,
    output TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    exit_code INTEGER,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL,
    started_at {{.Time}},
    completed_at {{.Time}},
    result_at {{.Time}},
    deadline_at {{.Time}} NOT NULL
);
-- The queue: next pending command of a PC by priority, then age.
CREATE INDEX commands_queue ON commands(pc_id, status, priority, id);
-- The timeout sweep.
CREATE INDEX commands_deadline ON commands(status, deadline_at);
