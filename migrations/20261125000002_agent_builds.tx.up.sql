-- Agent builds handed out for self-update and installs. The file lives next to the database, in
-- agent-builds/<sha256>; the hash names exactly one build.
CREATE TABLE agent_builds (
    id {{.ID}},
    version TEXT NOT NULL,
    os TEXT NOT NULL,
    arch TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    changelog TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX agent_builds_platform ON agent_builds(os, arch);
