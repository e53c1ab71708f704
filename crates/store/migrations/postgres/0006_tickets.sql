-- The service desk (DEC-4, CM-*, INC-*, SAV-*, X-1): one table of tickets (requests, incidents,
-- corrective maintenance), each row the ticket's whole state as JSON plus the columns lists
-- filter and order on, and every step of every ticket as an event.

-- `number` follows the order of opening. `next_due_ms` is the earliest running SLA deadline
-- (NULL when none runs): the queue is ordered by it (the most urgent first) and the SLA worker
-- wakes on it.
CREATE TABLE tickets (
    number BIGINT PRIMARY KEY,
    client_ref TEXT NOT NULL,
    site_ref TEXT,
    equipment_ref TEXT,
    alarm_id BIGINT,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('p1', 'p2', 'p3')),
    status TEXT NOT NULL,
    assignee_ref TEXT,
    received_ms BIGINT NOT NULL,
    next_due_ms BIGINT,
    closed_ms BIGINT,
    record TEXT NOT NULL
);
CREATE INDEX tickets_client ON tickets(client_ref, number);
CREATE INDEX tickets_site ON tickets(site_ref, number);
CREATE INDEX tickets_due ON tickets(next_due_ms) WHERE next_due_ms IS NOT NULL;
CREATE INDEX tickets_open ON tickets(number) WHERE closed_ms IS NULL;
-- An alarm opens at most one ticket of each kind (NOT-5, NOT-7), whichever process saves it.
CREATE UNIQUE INDEX tickets_alarm ON tickets(alarm_id, kind) WHERE alarm_id IS NOT NULL;

CREATE TABLE ticket_events (
    id BIGSERIAL PRIMARY KEY,
    ticket_number BIGINT NOT NULL REFERENCES tickets(number),
    at_ms BIGINT NOT NULL,
    by_ref TEXT,
    event TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_number, id);
