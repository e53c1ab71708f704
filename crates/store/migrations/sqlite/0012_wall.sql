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
-- Each site counts its equipment, so that a client's sites are listed with their counts
-- without walking every equipment of every site; the triggers keep it on every path.
ALTER TABLE sites ADD COLUMN equipment_count BIGINT NOT NULL DEFAULT 0;
UPDATE sites SET equipment_count = (SELECT COUNT(*) FROM equipment e WHERE e.site_ref = sites.ref);
CREATE TRIGGER sites_count_equipment_added AFTER INSERT ON equipment
BEGIN
    UPDATE sites SET equipment_count = equipment_count + 1 WHERE ref = NEW.site_ref;
END;
CREATE TRIGGER sites_count_equipment_removed AFTER DELETE ON equipment
BEGIN
    UPDATE sites SET equipment_count = equipment_count - 1 WHERE ref = OLD.site_ref;
END;
CREATE TRIGGER sites_count_equipment_moved AFTER UPDATE OF site_ref ON equipment
WHEN OLD.site_ref <> NEW.site_ref
BEGIN
    UPDATE sites SET equipment_count = equipment_count - 1 WHERE ref = OLD.site_ref;
    UPDATE sites SET equipment_count = equipment_count + 1 WHERE ref = NEW.site_ref;
END;
