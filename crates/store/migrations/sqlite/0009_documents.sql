-- The documents of a client's and its sites' files (CM-8: intervention reports; the monthly
-- reports later): each a whole document, its content as bytes, read by whoever sees its client
-- and site (X-2).
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_ref TEXT NOT NULL,
    site_ref TEXT,
    ticket_number BIGINT REFERENCES tickets(number),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content BLOB NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX documents_client ON documents(client_ref, id);
CREATE INDEX documents_site ON documents(site_ref, id);
CREATE INDEX documents_ticket ON documents(ticket_number, id);
