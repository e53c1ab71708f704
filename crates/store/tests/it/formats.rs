//! The JSON records the store keeps (issue 24, item 7): rows written by earlier versions must
//! read as the same values, and this build must write them as they are written today. Each
//! file under `data/stored/` holds records as this store wrote them in the scenarios' runs —
//! one of each kind of alarm event, ticket event and outgoing message. Each is read through
//! its format-1 type of `vigie_store::stored`, converted to the domain's value and back, and
//! must be written as it was stored; `decode` must give the value the domain's own serde gave
//! before the store had types of its own. A change of the stored types that alters a format
//! fails here; it then needs a format 2 beside format 1 (`vigie_store::stored`).

use std::fmt::{Debug, Display};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use vigie_domain::alarm::escalation::Notice;
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent};
use vigie_domain::ticket::desk::{Ticket, TicketEvent};
use vigie_domain::ticket::message::TicketNotice;
use vigie_store::stored::alarm::AlarmV1;
use vigie_store::stored::alarm_event::AlarmEventV1;
use vigie_store::stored::outgoing::OutgoingV1;
use vigie_store::stored::ticket::TicketV1;
use vigie_store::stored::ticket_event::TicketEventV1;
use vigie_store::stored::{alarm, alarm_event, outgoing, ticket, ticket_event};
use vigie_store::{Outgoing, StoreError};

fn golden(table: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/it/data/stored/{table}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One family of records: its format-1 type `V`, the domain's `D`, and the store's functions.
struct Family<D> {
    table: &'static str,
    encode: fn(&D) -> Result<String, StoreError>,
    decode: fn(&str) -> Result<D, StoreError>,
}

/// Each stored record of the family reads as its `V`, becomes the domain's `D`, and that `D`
/// is written back — by `V` and by `encode` — as the same JSON; `decode` reads the record as
/// the same `D`. The records and their values, in order.
fn reads_and_writes_back<V, D>(family: &Family<D>) -> Vec<(Value, D)>
where
    V: DeserializeOwned + Serialize + for<'a> From<&'a D>,
    D: TryFrom<V> + PartialEq + Debug,
    <D as TryFrom<V>>::Error: Display,
{
    let table = family.table;
    let records = golden(table);
    assert!(!records.is_empty(), "{table}: no record");
    records
        .into_iter()
        .enumerate()
        .map(|(index, stored)| {
            let read: V = serde_json::from_value(stored.clone())
                .unwrap_or_else(|e| panic!("{table}[{index}] no longer reads: {e}\n{stored:#}"));
            let value = D::try_from(read)
                .unwrap_or_else(|e| panic!("{table}[{index}] is refused: {e}\n{stored:#}"));
            let written = serde_json::to_value(V::from(&value)).unwrap();
            assert_eq!(
                written, stored,
                "{table}[{index}] is no longer written as it was stored"
            );
            let encoded: Value = serde_json::from_str(&(family.encode)(&value).unwrap()).unwrap();
            assert_eq!(encoded, stored, "{table}[{index}]: encode writes otherwise");
            let decoded = (family.decode)(&stored.to_string())
                .unwrap_or_else(|e| panic!("{table}[{index}]: decode refuses it: {e}"));
            assert_eq!(decoded, value, "{table}[{index}]: decode reads otherwise");
            (stored, value)
        })
        .collect()
}

/// The domain's own serde reads `stored` as `value`: what the store read before it had types
/// of its own.
fn as_before<D: DeserializeOwned + PartialEq + Debug>(table: &str, stored: &Value, value: &D) {
    let before: D = serde_json::from_value(stored.clone())
        .unwrap_or_else(|e| panic!("{table}: the domain's serde refuses it: {e}\n{stored:#}"));
    assert_eq!(&before, value, "{table}: read otherwise than before");
}

const ALARMS: Family<Alarm> = Family {
    table: "alarms",
    encode: alarm::encode,
    decode: alarm::decode,
};
const ALARM_EVENTS: Family<AlarmEvent> = Family {
    table: "alarm_events",
    encode: alarm_event::encode,
    decode: alarm_event::decode,
};
const TICKETS: Family<Ticket> = Family {
    table: "tickets",
    encode: ticket::encode,
    decode: ticket::decode,
};
const TICKET_EVENTS: Family<TicketEvent> = Family {
    table: "ticket_events",
    encode: ticket_event::encode,
    decode: ticket_event::decode,
};
const NOTIFICATIONS: Family<Outgoing> = Family {
    table: "notifications",
    encode: outgoing::encode,
    decode: outgoing::decode,
};

#[test]
fn stored_alarms_read_and_are_written_as_before() {
    let alarms = reads_and_writes_back::<AlarmV1, _>(&ALARMS);
    for (stored, alarm) in &alarms {
        as_before("alarms", stored, alarm);
    }
    assert!(alarms.iter().all(|(_, a)| a.equipment.is_some()));
}

#[test]
fn stored_alarm_events_of_each_kind_read_and_are_written_as_before() {
    let events = reads_and_writes_back::<AlarmEventV1, _>(&ALARM_EVENTS);
    for (stored, event) in &events {
        as_before("alarm_events", stored, event);
    }
    assert!(events.len() >= 5, "{events:?}");
}

#[test]
fn stored_tickets_read_and_are_written_as_before() {
    let tickets = reads_and_writes_back::<TicketV1, _>(&TICKETS);
    for (stored, ticket) in &tickets {
        as_before("tickets", stored, ticket);
    }
    assert_eq!(tickets.len(), 3);
}

#[test]
fn stored_ticket_events_of_each_kind_read_and_are_written_as_before() {
    let events = reads_and_writes_back::<TicketEventV1, _>(&TICKET_EVENTS);
    for (stored, event) in &events {
        as_before("ticket_events", stored, event);
    }
    assert!(events.len() >= 15, "{events:?}");
}

/// The outbox's records are untagged: each must still read as what it was, a page as a page
/// and a ticket's message as a ticket's message.
#[test]
fn stored_pages_and_ticket_messages_read_as_what_they_were() {
    let outgoing = reads_and_writes_back::<OutgoingV1, _>(&NOTIFICATIONS);
    let kinds: Vec<&str> = outgoing
        .iter()
        .map(|(stored, o)| match o {
            Outgoing::Page(notice) => {
                as_before::<Notice>("notifications", stored, notice);
                "page"
            }
            Outgoing::Ticket(message) => {
                as_before::<TicketNotice>("notifications", stored, message);
                "ticket"
            }
            Outgoing::Report(_) => "report",
            Outgoing::Account(_) => "account",
        })
        .collect();
    assert_eq!(kinds, ["ticket", "page"]);
}

/// `decode`'s value written with `{:?}`, so that the five families compare alike.
fn decoded<D: Debug>(
    decode: fn(&str) -> Result<D, StoreError>,
    record: &str,
) -> Result<String, StoreError> {
    decode(record).map(|value| format!("{value:?}"))
}

/// A family's `decode`, its value written as [`decoded`] does.
type Decode = fn(&str) -> Result<String, StoreError>;

/// Each golden record of each family, with its family's `decode`.
fn every_record() -> Vec<(&'static str, Value, Decode)> {
    let families: [(&str, Decode); 5] = [
        (ALARMS.table, |record| decoded(alarm::decode, record)),
        (ALARM_EVENTS.table, |record| {
            decoded(alarm_event::decode, record)
        }),
        (TICKETS.table, |record| decoded(ticket::decode, record)),
        (TICKET_EVENTS.table, |record| {
            decoded(ticket_event::decode, record)
        }),
        (NOTIFICATIONS.table, |record| {
            decoded(outgoing::decode, record)
        }),
    ];
    families
        .into_iter()
        .flat_map(|(table, decode)| {
            golden(table)
                .into_iter()
                .map(move |record| (table, record, decode))
        })
        .collect()
}

/// The text of `record` with a `format` field, as a later version might write it.
fn with_format(record: &Value, format: Value) -> String {
    let mut record = record.clone();
    record
        .as_object_mut()
        .expect("a record is an object")
        .insert("format".into(), format);
    record.to_string()
}

/// A record without `format` is format 1; one that says so reads the same.
#[test]
fn a_record_of_format_1_reads_with_or_without_its_format() {
    for (table, record, decode) in every_record() {
        let without = decode(&record.to_string()).unwrap();
        let with = decode(&with_format(&record, json!(1)))
            .unwrap_or_else(|e| panic!("{table}: format 1 refused: {e}"));
        assert_eq!(with, without, "{table}");
    }
    // The word as a value is no format.
    let mut record = golden("tickets").remove(0);
    record["symptom"] = json!("format");
    assert_eq!(
        ticket::decode(&record.to_string()).unwrap().report.symptom,
        "format"
    );
}

/// A record of a later format is refused with a message that names it, never read field by
/// field as if it were format 1.
#[test]
fn a_record_of_a_later_format_is_refused_by_name() {
    for (table, record, decode) in every_record() {
        let error = decode(&with_format(&record, json!(2)))
            .map(|_| ())
            .expect_err(table)
            .to_string();
        assert!(
            error.contains(
                "enregistrement au format 2 : cette version de Vigie lit le format 1 ; mettez Vigie à jour"
            ),
            "{table}: {error}"
        );
    }
}

/// A stored value the domain refuses (a malformed reference) is an error naming the field,
/// not a value.
#[test]
fn a_stored_value_the_domain_refuses_is_an_error() {
    let mut record = golden("alarms").remove(0);
    record["site"] = json!("AGENCE OPÉRA");
    let error = alarm::decode(&record.to_string()).unwrap_err().to_string();
    assert!(
        error.contains("alarme stockée illisible : site : la référence"),
        "{error}"
    );
}
