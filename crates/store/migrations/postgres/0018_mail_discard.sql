-- The support mailbox's triage (issue 25, item 8): a message set aside that a person read and
-- judged of no use is discarded, kept with who did it and when, and no longer waits for anyone.
ALTER TABLE mails ADD COLUMN discarded_ms BIGINT;
ALTER TABLE mails ADD COLUMN discarded_by TEXT;
