ALTER TABLE commands DROP COLUMN expires_at;
