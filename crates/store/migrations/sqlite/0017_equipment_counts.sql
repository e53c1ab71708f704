-- How many equipment of each kind each client has (issue 25): the client dashboard's first
-- sentence says « 2 caméras hors service sur 118 », and counting the 118 from an index on
-- every load cost a third of the page. The triggers keep the counts on every path (added,
-- removed, moved to another client or changed kind).
DROP INDEX equipment_client_kind;
CREATE TABLE equipment_counts (
    client_ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (client_ref, kind)
);
INSERT INTO equipment_counts (client_ref, kind, count)
    SELECT client_ref, kind, COUNT(*) FROM equipment GROUP BY client_ref, kind;
CREATE TRIGGER equipment_counts_added AFTER INSERT ON equipment
BEGIN
    INSERT INTO equipment_counts (client_ref, kind, count) VALUES (NEW.client_ref, NEW.kind, 1)
        ON CONFLICT (client_ref, kind) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER equipment_counts_removed AFTER DELETE ON equipment
BEGIN
    UPDATE equipment_counts SET count = count - 1
        WHERE client_ref = OLD.client_ref AND kind = OLD.kind;
END;
CREATE TRIGGER equipment_counts_changed AFTER UPDATE OF client_ref, kind ON equipment
WHEN OLD.client_ref <> NEW.client_ref OR OLD.kind <> NEW.kind
BEGIN
    UPDATE equipment_counts SET count = count - 1
        WHERE client_ref = OLD.client_ref AND kind = OLD.kind;
    INSERT INTO equipment_counts (client_ref, kind, count) VALUES (NEW.client_ref, NEW.kind, 1)
        ON CONFLICT (client_ref, kind) DO UPDATE SET count = count + 1;
END;
