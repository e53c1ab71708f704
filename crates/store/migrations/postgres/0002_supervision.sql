-- Supervision (SUP-1…SUP-3): the current state of each check of each equipment, the history
-- of state changes (the basis of availability), metric samples with their hourly roll-up,
-- SNMP traps (unknown ones kept), site probes, and the batches already received from agents
-- and probes (so that a batch sent twice is taken once). Instants are UTC epoch milliseconds.

-- An equipment's network address as a column, so that a trap's source finds its equipment
-- through an index rather than by scanning every record.
ALTER TABLE equipment ADD COLUMN address TEXT;
UPDATE equipment SET address = (record::json)->>'address';
CREATE INDEX equipment_address ON equipment(address);

CREATE TABLE check_states (
    equipment_ref TEXT NOT NULL REFERENCES equipment(ref) ON DELETE CASCADE,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('up', 'down', 'unknown')),
    since_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    detail TEXT,
    -- Pushed checks (heartbeat, agent): when the next report is due at the latest.
    expect_by_ms BIGINT,
    PRIMARY KEY (equipment_ref, check_name)
);
CREATE INDEX check_states_expect ON check_states(expect_by_ms) WHERE expect_by_ms IS NOT NULL;

-- History outlives the equipment (no foreign key): a deleted camera's outages stay in the
-- month's report. Client and site are those of the moment.
CREATE TABLE state_changes (
    id BIGSERIAL PRIMARY KEY,
    equipment_ref TEXT NOT NULL,
    check_name TEXT NOT NULL,
    client_ref TEXT NOT NULL,
    site_ref TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX state_changes_equipment ON state_changes(equipment_ref, at_ms);
CREATE INDEX state_changes_site ON state_changes(site_ref, at_ms);

CREATE TABLE samples (
    equipment_ref TEXT NOT NULL,
    metric TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (equipment_ref, metric, at_ms)
);
CREATE INDEX samples_time ON samples(at_ms);

CREATE TABLE samples_hourly (
    equipment_ref TEXT NOT NULL,
    metric TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    count BIGINT NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    minimum DOUBLE PRECISION NOT NULL,
    maximum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (equipment_ref, metric, hour_ms)
);
CREATE INDEX samples_hourly_time ON samples_hourly(hour_ms);

-- How far raw samples have been rolled up into hours.
CREATE TABLE rollups (
    name TEXT PRIMARY KEY,
    watermark_ms BIGINT NOT NULL
);

CREATE TABLE traps (
    id BIGSERIAL PRIMARY KEY,
    received_ms BIGINT NOT NULL,
    source TEXT NOT NULL,
    version TEXT NOT NULL,
    sender TEXT,
    trap_oid TEXT,
    equipment_ref TEXT,
    client_ref TEXT,
    -- The check the template mapped it to; NULL for an unknown trap, kept and shown.
    check_name TEXT,
    error TEXT,
    varbinds TEXT NOT NULL
);
CREATE INDEX traps_received ON traps(received_ms);
CREATE INDEX traps_unknown ON traps(received_ms) WHERE check_name IS NULL;

CREATE TABLE probes (
    name TEXT PRIMARY KEY,
    site_ref TEXT NOT NULL REFERENCES sites(ref) ON DELETE CASCADE,
    last_ms BIGINT,
    expect_by_ms BIGINT,
    link TEXT NOT NULL CHECK (link IN ('up', 'lost', 'new'))
);
CREATE INDEX probes_site ON probes(site_ref);

CREATE TABLE pushed_batches (
    source TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (source, sequence)
);
CREATE INDEX pushed_batches_received ON pushed_batches(received_ms);
