DROP TABLE reenrolments;
ALTER TABLE commands DROP COLUMN delivered_to;
ALTER TABLE pcs DROP COLUMN token_used;
DROP INDEX registration_tokens_token_hash;
ALTER TABLE registration_tokens DROP COLUMN token_hash;
ALTER TABLE registration_tokens ADD COLUMN token TEXT NOT NULL DEFAULT '';
CREATE INDEX registration_tokens_token ON registration_tokens(token);
