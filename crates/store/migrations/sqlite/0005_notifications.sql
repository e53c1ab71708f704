-- Notifications and escalation (NOT-1…NOT-7, DEC-3, X-1): the durable timers of every
-- alarm's escalation chain, the outbox of pages to deliver, the on-call rotations, and the
-- settings the server processes share. A timer and the pages it implies are written in the
-- transaction that saves the alarm change arming it; workers of any process claim due work.

-- One row per (alarm, chain, step, round): `key` makes arming twice arm once. `fired_ms` is
-- NULL while pending; `outcome` is 'fired' or why the step did not (acknowledged, resolved…).
CREATE TABLE escalation_timers (
    key TEXT PRIMARY KEY,
    alarm_id BIGINT NOT NULL REFERENCES alarms(id),
    severity TEXT NOT NULL,
    step TEXT NOT NULL,
    round BIGINT NOT NULL,
    due_ms BIGINT NOT NULL,
    fired_ms BIGINT,
    outcome TEXT
);
CREATE INDEX escalation_timers_due ON escalation_timers(due_ms) WHERE fired_ms IS NULL;
CREATE INDEX escalation_timers_alarm ON escalation_timers(alarm_id);

-- The outbox: one row per page, `key` = (alarm, step, round, recipient, channel), so a page
-- is never queued twice. A worker claims a due row by setting a lease; a row whose lease ran
-- out (its process died) is claimed again. `record` is the notice (who, what, the alarm as it
-- was) from which the message is written.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    alarm_id BIGINT,
    client_ref TEXT,
    severity TEXT NOT NULL,
    step TEXT NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    due_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    sent_ms BIGINT,
    answer TEXT,
    last_error TEXT,
    record TEXT NOT NULL
);
CREATE INDEX notifications_due ON notifications(due_ms) WHERE status = 'pending';
CREATE INDEX notifications_alarm ON notifications(alarm_id, id);
CREATE INDEX notifications_address ON notifications(address, created_ms);
CREATE INDEX notifications_console ON notifications(channel, id);

-- On-call rotations (astreintes), each kept whole as JSON.
CREATE TABLE rotations (
    name TEXT PRIMARY KEY,
    duty TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- Values every server process must share (the key that signs acknowledgement links).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
