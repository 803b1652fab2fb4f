-- A power command for a whole room, held on the server for a grace period so that any operator
-- can cancel it (fleet/room_actions.go sends it when send_at comes). The row is the record of
-- what was scheduled, by whom, and how it ended.
CREATE TABLE room_actions (
    id {{.ID}},
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    -- Power commands carry no secrets, so their parameters can be kept as sent.
    parameters TEXT NOT NULL,
    priority INTEGER NOT NULL,
    timeout INTEGER NOT NULL,
    state TEXT NOT NULL,
    send_at {{.Time}} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    -- ended_by: who cancelled; '' when it was sent, or when the server ended it.
    ended_by TEXT NOT NULL DEFAULT '',
    ended_at {{.Time}},
    sent_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX room_actions_state_send_at ON room_actions(state, send_at);
CREATE INDEX room_actions_room_id ON room_actions(room_id);
