-- Monthly reports (issue 9; DSH-2, CLO-3, SAV-7) are documents of the clients' and sites'
-- files, each for a period: one report of a kind per client, site and month in each of its
-- formats (PDF, HTML), whichever process generates it first (the others find it there). The
-- integrator's own reports (the satisfaction analysis) have no client: an empty reference,
-- which no client user's walls let through.
ALTER TABLE documents ADD COLUMN period TEXT;
CREATE UNIQUE INDEX documents_period ON documents(kind, client_ref, COALESCE(site_ref, ''), period, content_type) WHERE period IS NOT NULL;
-- The month's alarms of a client or site, by when they were raised.
CREATE INDEX alarms_client_raised ON alarms(client_ref, raised_ms);
CREATE INDEX alarms_site_raised ON alarms(site_ref, raised_ms);
-- The month's tickets of a client, by when they were received; the surveys answered in a
-- month, by the events that record them.
CREATE INDEX tickets_client_received ON tickets(client_ref, received_ms);
CREATE INDEX ticket_events_kind ON ticket_events(event, at_ms);
-- An intervention report (CM-8) gets its PDF once, beside its HTML, whichever process makes it.
CREATE UNIQUE INDEX documents_ticket_pdf ON documents(ticket_number, kind) WHERE ticket_number IS NOT NULL AND content_type = 'application/pdf';
