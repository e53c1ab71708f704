//! The JSON records the store keeps (issue 24, item 7): rows written by earlier versions must
//! read as the same values, and this build must write them as they are written today. Each
//! file under `data/stored/` holds records as this store wrote them in the scenarios' runs —
//! one of each kind of alarm event, ticket event and outgoing message. A change of the
//! domain's types that alters a stored format fails here; it then needs a migration that
//! rewrites the rows, or a reading that accepts the old form.

use serde::Serialize;
use serde::de::DeserializeOwned;
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent};
use vigie_domain::ticket::desk::{Ticket, TicketEvent};
use vigie_store::Outgoing;

fn golden(table: &str) -> Vec<serde_json::Value> {
    let path = format!(
        "{}/tests/it/data/stored/{table}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Each stored record of `table` reads as a `T`, and that `T` is written back as the same JSON.
fn reads_and_writes_back<T: DeserializeOwned + Serialize>(table: &str) -> Vec<T> {
    let records = golden(table);
    assert!(!records.is_empty(), "{table}: no record");
    records
        .into_iter()
        .enumerate()
        .map(|(index, stored)| {
            let value: T = serde_json::from_value(stored.clone())
                .unwrap_or_else(|e| panic!("{table}[{index}] no longer reads: {e}\n{stored:#}"));
            let written = serde_json::to_value(&value).unwrap();
            assert_eq!(
                written, stored,
                "{table}[{index}] is no longer written as it was stored"
            );
            value
        })
        .collect()
}

#[test]
fn stored_alarms_read_and_are_written_as_before() {
    let alarms: Vec<Alarm> = reads_and_writes_back("alarms");
    assert!(alarms.iter().all(|a| a.equipment.is_some()));
}

#[test]
fn stored_alarm_events_of_each_kind_read_and_are_written_as_before() {
    let events: Vec<AlarmEvent> = reads_and_writes_back("alarm_events");
    assert!(events.len() >= 5, "{events:?}");
}

#[test]
fn stored_tickets_read_and_are_written_as_before() {
    let tickets: Vec<Ticket> = reads_and_writes_back("tickets");
    assert_eq!(tickets.len(), 3);
}

#[test]
fn stored_ticket_events_of_each_kind_read_and_are_written_as_before() {
    let events: Vec<TicketEvent> = reads_and_writes_back("ticket_events");
    assert!(events.len() >= 15, "{events:?}");
}

/// The outbox's records are untagged: each must still read as what it was, a page as a page
/// and a ticket's message as a ticket's message.
#[test]
fn stored_pages_and_ticket_messages_read_as_what_they_were() {
    let outgoing: Vec<Outgoing> = reads_and_writes_back("notifications");
    let kinds: Vec<&str> = outgoing
        .iter()
        .map(|o| match o {
            Outgoing::Page(_) => "page",
            Outgoing::Ticket(_) => "ticket",
            Outgoing::Report(_) => "report",
            Outgoing::Account(_) => "account",
        })
        .collect();
    assert_eq!(kinds, ["ticket", "page"]);
}
