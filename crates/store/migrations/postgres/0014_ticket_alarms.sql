-- NOT-6 (issue 22): a day's Minor alarms of one site are one ticket. Each alarm a ticket
-- handles besides the one that opened it (`tickets.alarm_id`) is listed here, so that the
-- ticket follows every one of its alarms (taken in charge, closed).
CREATE TABLE ticket_alarms (
    alarm_id BIGINT PRIMARY KEY,
    ticket_number BIGINT NOT NULL REFERENCES tickets(number)
);
CREATE INDEX ticket_alarms_ticket ON ticket_alarms(ticket_number);
