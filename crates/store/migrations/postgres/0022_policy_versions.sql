-- The policy edited in the console (issue 26, item 4): each save is a new version, never
-- changed afterwards; the newest is the policy in force, in every process sharing the base.
-- `text` is the TOML laid over the default policy, as the configuration's policy file is;
-- `restored_from` names the version a restoration copied.
CREATE TABLE policy_versions (
    version BIGINT PRIMARY KEY,
    text TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    note TEXT NOT NULL,
    restored_from BIGINT
);
