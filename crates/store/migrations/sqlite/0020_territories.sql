-- Territories (issue 26, item 1): the sites and clients some on-call rotations answer for, an
-- inventory object like the others (its record is the JSON of `Territory`). The integrator's
-- own: no client column, no client sees them.
CREATE TABLE territories (
    ref TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
