//! The journal: everything the chain from observation to confirmation has written (state
//! changes, alarms and their events and timers, tickets and their events, one-off maintenance
//! windows, messages and pages;
//! not the notices about people's own accounts, which are no part of it),
//! in the order written, without what only says which process or database did it (row ids,
//! leases, the channels' answers). Two runs of one scenario — `vigie simulate` and a real
//! server on a virtual clock — must give the same journal (`docs/simulate.md`).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::System;
use crate::error::StoreError;

/// Most lines of a journal: it is for scenarios, not for a production database.
pub const MAX_JOURNAL_LINES: i64 = 1_000_000;

/// One table's part: its query (ordered as written) and how a row becomes a line.
struct Part {
    table: &'static str,
    sql: &'static str,
    columns: &'static [&'static str],
}

const PARTS: &[Part] = &[
    Part {
        table: "state_changes",
        sql: "SELECT equipment_ref, check_name, client_ref, site_ref, at_ms, from_status, to_status, detail FROM state_changes ORDER BY id",
        columns: &[
            "equipment_ref",
            "check_name",
            "client_ref",
            "site_ref",
            "at_ms",
            "from_status",
            "to_status",
            "detail",
        ],
    },
    Part {
        table: "alarms",
        sql: "SELECT id, client_ref, site_ref, equipment_ref, condition_key, severity, status, raised_ms, resolved_ms, closed_ms, record FROM alarms ORDER BY id",
        columns: &[
            "id",
            "client_ref",
            "site_ref",
            "equipment_ref",
            "condition_key",
            "severity",
            "status",
            "raised_ms",
            "resolved_ms",
            "closed_ms",
            "record",
        ],
    },
    Part {
        table: "alarm_events",
        sql: "SELECT alarm_id, at_ms, by_ref, event, record FROM alarm_events ORDER BY id",
        columns: &["alarm_id", "at_ms", "by_ref", "event", "record"],
    },
    Part {
        table: "escalation_timers",
        sql: "SELECT key, alarm_id, severity, step, round, due_ms, fired_ms, outcome FROM escalation_timers ORDER BY key",
        columns: &[
            "key", "alarm_id", "severity", "step", "round", "due_ms", "fired_ms", "outcome",
        ],
    },
    Part {
        table: "tickets",
        sql: "SELECT number, client_ref, site_ref, equipment_ref, alarm_id, kind, source, priority, status, assignee_ref, received_ms, next_due_ms, closed_ms, record FROM tickets ORDER BY number",
        columns: &[
            "number",
            "client_ref",
            "site_ref",
            "equipment_ref",
            "alarm_id",
            "kind",
            "source",
            "priority",
            "status",
            "assignee_ref",
            "received_ms",
            "next_due_ms",
            "closed_ms",
            "record",
        ],
    },
    Part {
        table: "ticket_events",
        sql: "SELECT ticket_number, at_ms, by_ref, event, record FROM ticket_events ORDER BY id",
        columns: &["ticket_number", "at_ms", "by_ref", "event", "record"],
    },
    Part {
        table: "ticket_alarms",
        sql: "SELECT alarm_id, ticket_number FROM ticket_alarms ORDER BY alarm_id",
        columns: &["alarm_id", "ticket_number"],
    },
    Part {
        table: "one_off_windows",
        sql: "SELECT kind, client_ref, site_ref, equipment_ref, starts_ms, ends_ms, reason, created_by, created_ms, ended_ms, ended_by FROM one_off_windows ORDER BY id",
        columns: &[
            "kind",
            "client_ref",
            "site_ref",
            "equipment_ref",
            "starts_ms",
            "ends_ms",
            "reason",
            "created_by",
            "created_ms",
            "ended_ms",
            "ended_by",
        ],
    },
    // Who saved a version is named as each side's actor is: left out.
    Part {
        table: "policy_versions",
        sql: "SELECT version, text, at_ms, note, restored_from FROM policy_versions ORDER BY version",
        columns: &["version", "text", "at_ms", "note", "restored_from"],
    },
    Part {
        table: "notifications",
        sql: "SELECT key, alarm_id, ticket_number, client_ref, severity, step, recipient, channel, address, status, attempts, due_ms, created_ms, sent_ms, last_error, record FROM notifications WHERE key NOT LIKE 'account/%' ORDER BY id",
        columns: &[
            "key",
            "alarm_id",
            "ticket_number",
            "client_ref",
            "severity",
            "step",
            "recipient",
            "channel",
            "address",
            "status",
            "attempts",
            "due_ms",
            "created_ms",
            "sent_ms",
            "last_error",
            "record",
        ],
    },
];

/// A column's value as JSON: integers, text (a stored JSON record parsed, so that both
/// backends' spellings compare equal) or null.
fn value(row: &AnyRow, column: &str) -> serde_json::Value {
    if let Ok(number) = row.try_get::<Option<i64>, _>(column) {
        return number.map_or(serde_json::Value::Null, serde_json::Value::from);
    }
    match row.try_get::<Option<String>, _>(column) {
        Ok(Some(text)) if column == "record" => {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        }
        Ok(Some(text)) => serde_json::Value::String(text),
        _ => serde_json::Value::Null,
    }
}

impl System {
    /// The journal, one JSON object per line written: `{"table": …, columns…}`.
    pub async fn journal(&self) -> Result<Vec<String>, StoreError> {
        let mut lines = Vec::new();
        for part in PARTS {
            let rows = sqlx::query(&format!("{} LIMIT {MAX_JOURNAL_LINES}", part.sql))
                .fetch_all(&self.read)
                .await?;
            for row in rows {
                let mut object = serde_json::Map::new();
                object.insert("table".into(), part.table.into());
                for column in part.columns {
                    object.insert((*column).into(), value(&row, column));
                }
                lines.push(serde_json::Value::Object(object).to_string());
            }
        }
        Ok(lines)
    }
}
