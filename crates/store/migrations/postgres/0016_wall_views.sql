-- The alarm wall in two lists (issue 25): the alarms to handle (not resolved: unacknowledged
-- first, then by severity, the longest waiting first) and the alarms to close (resolved,
-- waiting for their report), each read from an index of its own 50 at a time. The single
-- gravest-then-newest order of every open alarm is no longer read.
DROP INDEX alarms_wall;
CREATE INDEX alarms_to_handle ON alarms(((CASE status WHEN 'raised' THEN 0 ELSE 3 END) + (CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END)), id) WHERE closed_ms IS NULL AND resolved_ms IS NULL;
CREATE INDEX alarms_to_close ON alarms((CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END), id) WHERE closed_ms IS NULL AND resolved_ms IS NOT NULL;
-- The client dashboard's first sentence counts, for each kind of equipment with some down,
-- how many of that kind the client has: from this index alone, not from its equipment rows.
CREATE INDEX equipment_client_kind ON equipment(client_ref, kind);
