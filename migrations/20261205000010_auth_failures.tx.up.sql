-- Failed PIN and login attempts (models/authfailures.go), so that every server instance on one
-- database counts the same attempts. limit_key is the limit's kind and its key
-- ("pin|10.0.0.5", "login-addr|10.0.0.5", "login-name|<keyed hash of the typed username>");
-- failed_at is Unix nanoseconds, so a window's start compares as a number in both dialects and
-- a wait is exact. Rows older than the window are pruned (handlers/limits.go).
CREATE TABLE auth_failures (
    id {{.ID}},
    limit_key TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures(limit_key, failed_at);
CREATE INDEX auth_failures_failed_at ON auth_failures(failed_at);
