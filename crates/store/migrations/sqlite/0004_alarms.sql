-- Alarms (ALR-1…ALR-9, NOT-8, CLO-1, CLO-2): one row per alarm, its whole state as JSON
-- beside the columns that queries filter and sort on, and every step of its life in
-- alarm_events, with who and when (X-1). History outlives the equipment (no foreign key to
-- it); client and site are those of the moment the alarm was raised. Instants are UTC epoch
-- milliseconds; `resolved_ms` is NULL while the condition is present.
CREATE TABLE alarms (
    id BIGINT PRIMARY KEY,
    client_ref TEXT NOT NULL,
    site_ref TEXT NOT NULL,
    equipment_ref TEXT,
    condition_key TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
    status TEXT NOT NULL,
    raised_ms BIGINT NOT NULL,
    resolved_ms BIGINT,
    closed_ms BIGINT,
    record TEXT NOT NULL
);
-- Lists go newest first (by number, which follows the order of raising) per client, site or
-- equipment, keeping those present in the period asked (raised before its end, not resolved
-- before its start): walking these indexes backwards stops at the first page.
CREATE INDEX alarms_client ON alarms(client_ref, id);
CREATE INDEX alarms_site ON alarms(site_ref, id);
CREATE INDEX alarms_equipment ON alarms(equipment_ref, id);
CREATE INDEX alarms_open ON alarms(id) WHERE closed_ms IS NULL;

CREATE TABLE alarm_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id BIGINT NOT NULL REFERENCES alarms(id),
    at_ms BIGINT NOT NULL,
    by_ref TEXT,
    event TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX alarm_events_alarm ON alarm_events(alarm_id, id);
