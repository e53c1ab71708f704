-- The client portal's availability rate (DSH-1) reads one client's state changes over the
-- last 30 days: by client and time, as the site's and equipment's already are.
CREATE INDEX state_changes_client ON state_changes(client_ref, at_ms);
