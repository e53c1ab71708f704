//! Alarms and their events (ALR-*, NOT-8, CLO-1, CLO-2, X-1): the alarm worker saves what its
//! book changed, each alarm's whole state and every step, in one transaction; people read
//! them per client, site or equipment over any period, within their visibility.

use serde::Serialize;
use sqlx::Row;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent, AlarmId, Status};

use crate::System;
use crate::inventory::{Arg, build, require};
use crate::notifications::{Escalation, FiredTimer, arm_and_fire, insert_events, insert_rows};
use crate::supervision::visibility_condition;
use crate::{Store, StoreError};

/// What a `client_ref` or `site_ref` column holds for an alarm about no site (a rotation with
/// nobody on call) and its pages: no client's visibility matches it.
pub(crate) const NO_REFERENCE: &str = "";

/// The most alarms one page returns.
pub const MAX_ALARM_PAGE: i64 = 1000;
/// The most events returned with one alarm (an alarm that flaps for weeks has many).
pub const MAX_ALARM_EVENTS: i64 = 1000;

/// Which alarms a list asks for. Every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub equipment: Option<Reference>,
    /// Alarms present during `[from, to)`: raised before `to`, not resolved before `from`.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only alarms not closed (true) or only closed ones (false).
    pub open: Option<bool>,
    /// Keyset paging: alarms numbered below this one (the list is newest first).
    pub before: Option<AlarmId>,
    pub limit: Option<i64>,
}

/// What saving alarms did besides saving them.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    /// The escalation timers that fell due and were fired (or skipped).
    pub fired: Vec<FiredTimer>,
    /// The tickets of these alarms that followed a step (taken in charge, resolved).
    pub tickets: Vec<crate::tickets::TicketChange>,
}

/// An alarm as people read it: its state, its client, where it stands and how long it lasted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAlarm {
    /// None for an alarm about no site (only the integrator's staff see those).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Reference>,
    pub status: Status,
    /// Until its resolution, or until now if it is not resolved (ms).
    pub duration_ms: i64,
    #[serde(flatten)]
    pub alarm: Alarm,
    /// The names of its client, site and equipment, read with it for the pages (never in
    /// the API's JSON, which gives references).
    #[serde(skip)]
    pub names: AlarmNames,
}

/// The names of what an alarm is about, read in the same query as the alarm (issue 25: a
/// page shows names first, and one more query for them cost more than the page itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmNames {
    pub client: Option<String>,
    pub site: Option<String>,
    pub equipment: Option<String>,
}

/// The columns that read an alarm's names beside it, from its row in `alarms`, named `c<first>`
/// and the two after it (client, site, equipment).
pub(crate) fn named_columns(first: usize) -> String {
    format!(
        "(SELECT c.name FROM clients c WHERE c.ref = alarms.client_ref) AS c{}, \
         (SELECT s.name FROM sites s WHERE s.ref = alarms.site_ref) AS c{}, \
         (SELECT e.name FROM equipment e WHERE e.ref = alarms.equipment_ref) AS c{}",
        first,
        first + 1,
        first + 2
    )
}

fn stored_reference(text: &str) -> Result<Option<Reference>, StoreError> {
    if text == NO_REFERENCE {
        return Ok(None);
    }
    Reference::parse(text)
        .map(Some)
        .map_err(|e| StoreError::other(anyhow::anyhow!("référence stockée invalide : {e}")))
}

fn id_arg(id: AlarmId) -> Arg {
    Arg::Int(i64::try_from(id).unwrap_or(i64::MAX))
}

impl System {
    /// Saves alarms as they now stand (each with its client, None for an alarm about no site)
    /// and their new events, all or
    /// nothing; with `escalation`, in the same transaction, arms the escalation timers the
    /// events imply and fires those due at `now`, queueing their pages (DESIGN §3: the alarm
    /// change, its notifications and its timers are written together), and makes the tickets
    /// of alarms taken in charge or closed follow them (CLO-1). Only the alarm worker calls
    /// this.
    pub async fn save_alarms(
        &self,
        alarms: &[(Option<Reference>, Alarm)],
        events: &[AlarmEvent],
        escalation: Option<&Escalation>,
        now: i64,
    ) -> Result<Saved, StoreError> {
        let mut transaction = self.write.begin().await?;
        // One row per alarm (the last state given wins), a few hundred per statement.
        let mut latest: std::collections::BTreeMap<AlarmId, (&Option<Reference>, &Alarm)> =
            std::collections::BTreeMap::new();
        for (client, alarm) in alarms {
            latest.insert(alarm.id, (client, alarm));
        }
        let mut rows = Vec::with_capacity(latest.len());
        for (client, alarm) in latest.values() {
            let record = crate::stored::alarm::encode(alarm)?;
            rows.push(vec![
                id_arg(alarm.id),
                Arg::Text(Some(
                    client
                        .as_ref()
                        .map_or_else(|| NO_REFERENCE.to_owned(), ToString::to_string),
                )),
                Arg::Text(Some(
                    alarm
                        .site
                        .as_ref()
                        .map_or_else(|| NO_REFERENCE.to_owned(), ToString::to_string),
                )),
                Arg::Text(alarm.equipment.as_ref().map(ToString::to_string)),
                Arg::Text(Some(alarm.condition.to_string())),
                Arg::Text(Some(alarm.severity.key().to_owned())),
                Arg::Text(Some(alarm.status().key().to_owned())),
                Arg::Int(alarm.raised_at),
                Arg::OptionalInt(alarm.resolved_at),
                Arg::OptionalInt(alarm.closure.as_ref().map(|c| c.at)),
                Arg::Text(Some(record)),
            ]);
        }
        insert_rows(
            &mut transaction,
            "INSERT INTO alarms (id, client_ref, site_ref, equipment_ref, condition_key, severity, status, raised_ms, resolved_ms, closed_ms, record) VALUES",
            "ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, status = excluded.status, resolved_ms = excluded.resolved_ms, closed_ms = excluded.closed_ms, record = excluded.record",
            11,
            rows,
        )
        .await?;
        insert_events(&mut transaction, events).await?;
        let (fired, tickets) = match escalation {
            Some(setup) => (
                arm_and_fire(&mut transaction, setup, alarms, events, now).await?,
                crate::tickets::follow_alarms(&mut transaction, &setup.policy, events).await?,
            ),
            None => (Vec::new(), Vec::new()),
        };
        transaction.commit().await?;
        Ok(Saved { fired, tickets })
    }
}

impl System {
    /// The number the next alarm takes: one more than any stored.
    pub async fn next_alarm_id(&self) -> Result<AlarmId, StoreError> {
        let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM alarms")
            .fetch_one(&self.write)
            .await?;
        Ok(row.0.map_or(1, |max| u64::try_from(max).unwrap_or(0) + 1))
    }
}

impl System {
    /// Every alarm not closed, oldest first, for the alarm worker to take back at start.
    pub async fn open_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let rows = sqlx::query("SELECT record FROM alarms WHERE closed_ms IS NULL ORDER BY id")
            .fetch_all(&self.write)
            .await?;
        rows.iter()
            .map(|row| crate::stored::alarm::decode(&row.try_get::<String, _>(0)?))
            .collect()
    }
}

impl Store {
    /// One page of the alarms `actor` sees, newest first.
    pub async fn list_alarms(
        &self,
        actor: &Actor,
        filter: &AlarmFilter,
        now_ms: i64,
    ) -> Result<Vec<StoredAlarm>, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = Vec::new();
        let mut condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        for (column, value) in [
            ("client_ref", &filter.client),
            ("site_ref", &filter.site),
            ("equipment_ref", &filter.equipment),
        ] {
            if let Some(value) = value {
                args.push(Arg::Text(Some(value.to_string())));
                condition.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        if let Some(to) = filter.to {
            args.push(Arg::Int(to));
            condition.push_str(&format!(" AND raised_ms < ${}", args.len()));
        }
        if let Some(from) = filter.from {
            args.push(Arg::Int(from));
            condition.push_str(&format!(
                " AND (resolved_ms IS NULL OR resolved_ms >= ${})",
                args.len()
            ));
        }
        match filter.open {
            Some(true) => condition.push_str(" AND closed_ms IS NULL"),
            Some(false) => condition.push_str(" AND closed_ms IS NOT NULL"),
            None => {}
        }
        if let Some(before) = filter.before {
            args.push(id_arg(before));
            condition.push_str(&format!(" AND id < ${}", args.len()));
        }
        args.push(Arg::Int(
            filter
                .limit
                .unwrap_or(crate::DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_ALARM_PAGE),
        ));
        let inner = format!(
            "SELECT client_ref AS c0, record AS c1, id AS c2, {} FROM alarms WHERE 1 = 1{condition} ORDER BY id DESC LIMIT ${}",
            named_columns(3),
            args.len()
        );
        type Row = (
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> =
            crate::page::fetch(&self.read, self.backend, &inner, 6, "c2 DESC", args).await?;
        rows.into_iter()
            .map(|(client, record, _, client_name, site, equipment)| {
                let alarm = crate::stored::alarm::decode(&record)?;
                Ok(StoredAlarm {
                    client: stored_reference(&client)?,
                    status: alarm.status(),
                    duration_ms: alarm.duration_ms(now_ms),
                    alarm,
                    names: AlarmNames {
                        client: client_name,
                        site,
                        equipment,
                    },
                })
            })
            .collect()
    }

    /// One alarm `actor` sees, with its events in order (at most [`MAX_ALARM_EVENTS`]).
    pub async fn alarm(
        &self,
        actor: &Actor,
        id: AlarmId,
        now_ms: i64,
    ) -> Result<(StoredAlarm, Vec<AlarmEvent>), StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = vec![id_arg(id)];
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        let row = build(
            &format!(
                "SELECT client_ref, record, {} FROM alarms WHERE id = $1{condition}",
                named_columns(2)
            ),
            args,
        )
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let alarm = crate::stored::alarm::decode(&row.try_get::<String, _>(1)?)?;
        let stored = StoredAlarm {
            client: stored_reference(&row.try_get::<String, _>(0)?)?,
            status: alarm.status(),
            duration_ms: alarm.duration_ms(now_ms),
            alarm,
            names: AlarmNames {
                client: row.try_get(2)?,
                site: row.try_get(3)?,
                equipment: row.try_get(4)?,
            },
        };
        let rows = build(
            "SELECT record FROM alarm_events WHERE alarm_id = $1 ORDER BY id LIMIT $2",
            vec![id_arg(id), Arg::Int(MAX_ALARM_EVENTS)],
        )
        .fetch_all(&self.read)
        .await?;
        let events = rows
            .iter()
            .map(|row| crate::stored::alarm_event::decode(&row.try_get::<String, _>(0)?))
            .collect::<Result<Vec<AlarmEvent>, StoreError>>()?;
        Ok((stored, events))
    }
}
