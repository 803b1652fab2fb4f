-- Read-only links for wall displays: the token in the URL opens one room's live tiles without a
-- login. Only its SHA-256 is stored; revoking sets revoked_at.
CREATE TABLE wall_links (
    id {{.ID}},
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    revoked_at {{.Time}}
);
CREATE INDEX wall_links_room ON wall_links(room_id);
