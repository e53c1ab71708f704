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
ALTER TABLE check_states ADD COLUMN client_ref TEXT, ADD COLUMN site_ref TEXT;
UPDATE check_states s SET client_ref = e.client_ref, site_ref = e.site_ref
    FROM equipment e WHERE e.ref = s.equipment_ref;
CREATE INDEX check_states_down_by_site ON check_states(client_ref, site_ref, equipment_ref) WHERE status = 'down';
CREATE FUNCTION check_states_follow_equipment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE check_states SET client_ref = NEW.client_ref, site_ref = NEW.site_ref
    WHERE equipment_ref = NEW.ref;
    RETURN NULL;
END;
$$;
CREATE TRIGGER check_states_follow_equipment AFTER UPDATE OF client_ref, site_ref ON equipment
    FOR EACH ROW EXECUTE FUNCTION check_states_follow_equipment();
-- Each site counts its equipment, so that a client's sites are listed with their counts
-- without walking every equipment of every site; the trigger keeps it on every path.
ALTER TABLE sites ADD COLUMN equipment_count BIGINT NOT NULL DEFAULT 0;
UPDATE sites s SET equipment_count = (SELECT COUNT(*) FROM equipment e WHERE e.site_ref = s.ref);
CREATE FUNCTION sites_count_equipment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE sites SET equipment_count = equipment_count - 1 WHERE ref = OLD.site_ref;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE sites SET equipment_count = equipment_count + 1 WHERE ref = NEW.site_ref;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sites_count_equipment_added_removed AFTER INSERT OR DELETE ON equipment
    FOR EACH ROW EXECUTE FUNCTION sites_count_equipment();
CREATE TRIGGER sites_count_equipment_moved AFTER UPDATE OF site_ref ON equipment
    FOR EACH ROW WHEN (OLD.site_ref IS DISTINCT FROM NEW.site_ref)
    EXECUTE FUNCTION sites_count_equipment();
