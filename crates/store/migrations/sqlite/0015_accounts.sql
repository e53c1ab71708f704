-- Issue 23, item 11: accounts can be disabled (kept for history: audit entries, tickets and
-- notes still name them), and users see and end their own sessions.
ALTER TABLE users ADD COLUMN disabled_ms BIGINT;
-- A session's opaque id, shown to its user to end it (never the hash of its secret), when it
-- was last seen, and where from.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET id = lower(hex(randomblob(8))), last_seen_ms = created_ms;
CREATE UNIQUE INDEX sessions_id ON sessions(id);
