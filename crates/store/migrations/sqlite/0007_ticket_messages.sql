-- Messages about tickets (SAV-2 acknowledgements, INC-3 breach alerts) go through the same
-- outbox as the alarms' pages: such a row has no alarm and names its ticket.
ALTER TABLE notifications ADD COLUMN ticket_number BIGINT;
CREATE INDEX notifications_ticket ON notifications(ticket_number, id);
