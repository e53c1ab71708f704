-- One-off maintenance windows and silences (issue 25, item 7; ALR-9): opened from the console
-- on a site or one of its equipment, from an instant to an end, with a reason; ended early by a
-- person (ended_ms). A maintenance is taken out of availability, a silence only holds back the
-- notifications. Kept after they end: the monthly reports and the audit read them.
CREATE TABLE one_off_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    client_ref TEXT NOT NULL,
    site_ref TEXT NOT NULL,
    equipment_ref TEXT,
    starts_ms BIGINT NOT NULL,
    ends_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    ended_by TEXT
);
-- The alarm worker's and the pages' windows not ended, by their end.
CREATE INDEX one_off_windows_live ON one_off_windows(ends_ms) WHERE ended_ms IS NULL;
-- A site's windows, and a client's of a period.
CREATE INDEX one_off_windows_site ON one_off_windows(site_ref, starts_ms);
CREATE INDEX one_off_windows_client ON one_off_windows(client_ref, starts_ms);
