-- The support mailbox (SAV-1): every message read from it, once, whatever became of it — a
-- ticket opened, a reply threaded into one, or set aside with why — and the attachments the
-- messages carried, within their bounds.

-- `mail_key` is the hex SHA-256 of the message's bytes: a message read twice (the process
-- stopped before filing it in the mailbox) is recorded once.
CREATE TABLE mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mail_key TEXT NOT NULL UNIQUE,
    received_ms BIGINT NOT NULL,
    from_address TEXT,
    subject TEXT NOT NULL,
    disposition TEXT NOT NULL CHECK (disposition IN ('opened', 'threaded', 'set_aside')),
    ticket_number BIGINT REFERENCES tickets(number),
    client_ref TEXT,
    record TEXT NOT NULL
);
-- Tickets a sender opened by mail lately (the flood bound), and the messages set aside.
CREATE INDEX mails_from ON mails(from_address, received_ms);
CREATE INDEX mails_set_aside ON mails(id) WHERE disposition = 'set_aside';

-- An attachment belongs to its message, and to the ticket the message opened or joined.
CREATE TABLE mail_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mail_id BIGINT NOT NULL REFERENCES mails(id),
    ticket_number BIGINT REFERENCES tickets(number),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT,
    content BLOB
);
CREATE INDEX mail_attachments_mail ON mail_attachments(mail_id, id);
CREATE INDEX mail_attachments_ticket ON mail_attachments(ticket_number, id);
