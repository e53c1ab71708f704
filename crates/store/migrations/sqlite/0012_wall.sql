-- What the pages count under load (issue 8).
-- The alarm wall reads the open alarms gravest first, newest first within a severity, 50 at a
-- time; its headline counts the open alarms by severity and status. Both read an index alone
-- instead of sorting every open alarm at each load.
CREATE INDEX alarms_wall ON alarms((CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END), id DESC) WHERE closed_ms IS NULL;
CREATE INDEX alarms_open_counts ON alarms(severity, status) WHERE closed_ms IS NULL;
-- Open alarms per site and per client, without reading the closed ones, which accumulate.
CREATE INDEX alarms_site_open ON alarms(site_ref) WHERE closed_ms IS NULL;
CREATE INDEX alarms_client_open ON alarms(client_ref) WHERE closed_ms IS NULL;
-- A check's state carries its equipment's client and site, so that the equipment down per
-- site of a client are counted from the few checks down of that client, not by looking up
-- every equipment of its sites. Kept by the observations' writer, and by this trigger when
-- an equipment moves to another site.
ALTER TABLE check_states ADD COLUMN client_ref TEXT;
ALTER TABLE check_states ADD COLUMN site_ref TEXT;
UPDATE check_states SET
    client_ref = (SELECT e.client_ref FROM equipment e WHERE e.ref = check_states.equipment_ref),
    site_ref = (SELECT e.site_ref FROM equipment e WHERE e.ref = check_states.equipment_ref);
CREATE INDEX check_states_down_by_site ON check_states(client_ref, site_ref, equipment_ref) WHERE status = 'down';
CREATE TRIGGER check_states_follow_equipment AFTER UPDATE OF client_ref, site_ref ON equipment
BEGIN
    UPDATE check_states SET client_ref = NEW.client_ref, site_ref = NEW.site_ref
    WHERE equipment_ref = NEW.ref;
END;
