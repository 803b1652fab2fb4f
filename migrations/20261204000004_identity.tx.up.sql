-- Issue 10: an agent identity that a PIN cannot take over.

-- PINs are kept as keyed hashes (HMAC-SHA256 with the server's pin.key), like agent tokens: the
-- value is shown once at creation. PINs stored in clear before this cannot be hashed here, so
-- they end now; operators issue new ones.
DROP INDEX registration_tokens_token;
ALTER TABLE registration_tokens DROP COLUMN token;
ALTER TABLE registration_tokens ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';
UPDATE registration_tokens SET expires_at = created_at WHERE expires_at > created_at;
CREATE INDEX registration_tokens_token_hash ON registration_tokens(token_hash);

-- token_used: the PC's agent has called with its token, so it is never served without it again.
ALTER TABLE pcs ADD COLUMN token_used BOOLEAN NOT NULL DEFAULT FALSE;

-- delivered_to: the address the command was handed to; a tokenless result must come from it.
ALTER TABLE commands ADD COLUMN delivered_to TEXT NOT NULL DEFAULT '';

-- A fresh install asking to take over an enrolled PC's identity with a PIN but without its token:
-- it waits for an operator (approve or refuse). One per PC; token_hash becomes the PC's token on
-- approval.
CREATE TABLE reenrolments (
    id {{.ID}},
    pc_id BIGINT NOT NULL UNIQUE REFERENCES pcs(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    mac_address TEXT NOT NULL,
    ip_address TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL,
    refused_at {{.Time}},
    refused_by TEXT NOT NULL DEFAULT ''
);
