-- Foundation: inventory, people and access, audit trail (PostgreSQL).
-- Instants are UTC epoch milliseconds (BIGINT). Each inventory row keeps its full record as
-- JSON in `record`; the columns beside it are the references that constraints and filters need.

CREATE TABLE clients (
    ref TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE contacts (
    ref TEXT PRIMARY KEY,
    client_ref TEXT NOT NULL REFERENCES clients(ref),
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (ref, client_ref)
);
CREATE INDEX contacts_client ON contacts(client_ref, ref);

CREATE TABLE contracts (
    ref TEXT PRIMARY KEY,
    client_ref TEXT NOT NULL REFERENCES clients(ref),
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (ref, client_ref)
);
CREATE INDEX contracts_client ON contracts(client_ref, ref);

CREATE TABLE staff (
    ref TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    manager_ref TEXT REFERENCES staff(ref) DEFERRABLE INITIALLY DEFERRED,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE sites (
    ref TEXT PRIMARY KEY,
    client_ref TEXT NOT NULL REFERENCES clients(ref),
    contract_ref TEXT NOT NULL,
    security_manager_ref TEXT,
    technical_contact_ref TEXT,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (ref, client_ref),
    FOREIGN KEY (contract_ref, client_ref) REFERENCES contracts(ref, client_ref),
    FOREIGN KEY (security_manager_ref, client_ref) REFERENCES contacts(ref, client_ref),
    FOREIGN KEY (technical_contact_ref, client_ref) REFERENCES contacts(ref, client_ref)
);
CREATE INDEX sites_client ON sites(client_ref, ref);

CREATE TABLE equipment (
    ref TEXT PRIMARY KEY,
    client_ref TEXT NOT NULL,
    site_ref TEXT NOT NULL,
    parent_ref TEXT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (ref, client_ref),
    FOREIGN KEY (site_ref, client_ref) REFERENCES sites(ref, client_ref),
    FOREIGN KEY (parent_ref, client_ref) REFERENCES equipment(ref, client_ref) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX equipment_client ON equipment(client_ref, ref);
CREATE INDEX equipment_site ON equipment(site_ref, ref);
CREATE INDEX equipment_parent ON equipment(parent_ref);

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'client')),
    display_name TEXT NOT NULL,
    staff_ref TEXT REFERENCES staff(ref),
    client_ref TEXT REFERENCES clients(ref),
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    password_changed_ms BIGINT NOT NULL,
    CHECK ((kind = 'client') = (client_ref IS NOT NULL)),
    CHECK (kind = 'staff' OR staff_ref IS NULL)
);
CREATE INDEX users_client ON users(client_ref);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(username);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('agent', 'probe', 'integration', 'read_only')),
    secret_hash TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    revoked_ms BIGINT,
    last_used_ms BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(username);

CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(throttle_key, at_ms);

CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    object_kind TEXT NOT NULL,
    object_ref TEXT NOT NULL,
    client_ref TEXT,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_object ON audit(object_kind, object_ref, id);
CREATE INDEX audit_client ON audit(client_ref, id);

-- X-1: the audit trail is append-only, whatever code or person touches the database.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit trail is append-only';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
