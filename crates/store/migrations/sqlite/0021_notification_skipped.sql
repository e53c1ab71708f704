-- A later entry of a person's channel order (issue 26, item 3: an SMS at once, a call 5
-- minutes later) is not sent when the alarm was acknowledged meanwhile: its page ends
-- 'skipped', with the reason in `answer`. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and indexes.
CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    alarm_id BIGINT,
    client_ref TEXT,
    severity TEXT NOT NULL,
    step TEXT NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts BIGINT NOT NULL DEFAULT 0,
    due_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    sent_ms BIGINT,
    answer TEXT,
    last_error TEXT,
    record TEXT NOT NULL,
    ticket_number BIGINT
);
INSERT INTO notifications_new (id, key, alarm_id, client_ref, severity, step, recipient, channel,
    address, status, attempts, due_ms, created_ms, lease_owner, lease_until_ms, sent_ms, answer,
    last_error, record, ticket_number)
SELECT id, key, alarm_id, client_ref, severity, step, recipient, channel, address, status,
    attempts, due_ms, created_ms, lease_owner, lease_until_ms, sent_ms, answer, last_error,
    record, ticket_number
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_due ON notifications(due_ms) WHERE status = 'pending';
CREATE INDEX notifications_alarm ON notifications(alarm_id, id);
CREATE INDEX notifications_address ON notifications(address, created_ms);
CREATE INDEX notifications_console ON notifications(channel, id);
CREATE INDEX notifications_ticket ON notifications(ticket_number, id);
