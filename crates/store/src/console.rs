//! What the staff console's pages read in one query where the API reads alarm by alarm: who
//! was paged about each alarm of the wall, by which channels, and when it must be
//! acknowledged (NOT-3, NOT-5).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::lifecycle::AlarmId;
use vigie_domain::availability::{
    CheckTrack, down_ms_per_period, equipment_down_intervals, equipment_down_ms, rate,
};
use vigie_domain::inventory::{EquipmentKind, ObjectKind, Record};

use crate::System;
use crate::inventory::{Arg, build, require};
use crate::supervision::{CurrentState, current_state, visibility_condition};
use crate::{Backend, MAX_ALARM_PAGE, Store, StoreError};

/// The most pages read for one wall: re-notifications until acknowledged can make many rows
/// per alarm, and the wall only names who was told.
const MAX_WALL_PAGES: i64 = 10_000;

/// One person or address told about one alarm of the wall, by one channel: the alarm, the
/// channel, who, the earliest acknowledgement deadline, the first page's id (for the order).
type WallPageRow = (i64, String, Option<String>, Option<i64>, i64);

/// Who was paged about one alarm, and its acknowledgement deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WallPages {
    /// Each person or address told, with the channels used (`sms`, `email`, `webhook`), in
    /// the order they were first told.
    pub told: Vec<(String, BTreeSet<String>)>,
    /// The earliest acknowledgement deadline of its pages, if any page carries one.
    pub acknowledge_by: Option<i64>,
}

/// The key of the running windows' count among the counts' rows.
const RUNNING_WINDOWS: &str = "~windows";

/// Open alarms (not closed) counted by severity and status, within the actor's walls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenCounts {
    /// `(severity key, status key)` → count.
    pub counts: BTreeMap<(String, String), i64>,
    /// The one-off maintenance windows and silences running now (issue 25, item 7): the wall
    /// reads them only when there are some.
    pub running_windows: i64,
}

impl OpenCounts {
    pub fn of_severity(&self, severity: &str) -> i64 {
        self.counts
            .iter()
            .filter(|((s, _), _)| s == severity)
            .map(|(_, n)| n)
            .sum()
    }

    /// Alarms of `severity` still to handle (not resolved).
    pub fn to_handle_of_severity(&self, severity: &str) -> i64 {
        self.counts
            .iter()
            .filter(|((s, status), _)| s == severity && status != "resolved")
            .map(|(_, n)| n)
            .sum()
    }

    /// Alarms that need a person: open and not resolved.
    pub fn to_handle(&self) -> i64 {
        self.counts
            .iter()
            .filter(|((_, status), _)| status != "resolved")
            .map(|(_, n)| n)
            .sum()
    }

    pub fn of_status(&self, status: &str) -> i64 {
        self.counts
            .iter()
            .filter(|((_, s), _)| s == status)
            .map(|(_, n)| n)
            .sum()
    }
}

impl System {
    /// Refreshes the database's statistics, so that its planner knows the tables' sizes after
    /// a bulk load (an import of a large inventory, a benchmark's fleet), and its tables'
    /// visibility maps (`VACUUM`). PostgreSQL only: on
    /// SQLite (built with STAT4), statistics make every statement whose plan a bound value
    /// might change be compiled again at each execution, which cost the pages more than any
    /// better plan gave back; its plans follow the indexes without them.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        // VACUUM too, as autovacuum would after a load: index-only scans need the tables'
        // visibility maps.
        sqlx::query("VACUUM ANALYZE").execute(&self.write).await?;
        Ok(())
    }
}

impl Store {
    /// How many alarms are open, by severity and status (the wall's headline figures).
    pub async fn open_alarm_counts(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<OpenCounts, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let mut args = Vec::new();
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        args.push(Arg::Int(now));
        let at = args.len();
        let windows =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        // The windows running now count in the same row, under a key no alarm has.
        let inner = format!(
            "SELECT severity AS c0, status AS c1, COUNT(*) AS c2 FROM alarms WHERE closed_ms IS NULL{condition} GROUP BY severity, status \
             UNION ALL SELECT '{RUNNING_WINDOWS}' AS c0, '' AS c1, COUNT(*) AS c2 FROM one_off_windows \
             WHERE ended_ms IS NULL AND ends_ms > ${at} AND starts_ms <= ${at}{windows}"
        );
        // One row for all the counts: each row costs a hand-over between threads on SQLite.
        let rows: Vec<(String, String, i64)> =
            crate::page::fetch_unordered(&self.read, self.backend, &inner, 3, args).await?;
        let mut counts = OpenCounts::default();
        for (severity, status, count) in rows {
            if severity == RUNNING_WINDOWS {
                counts.running_windows = count;
            } else {
                counts.counts.insert((severity, status), count);
            }
        }
        Ok(counts)
    }

    /// Who was paged about each of `alarms` (at most one wall page of them), for the staff.
    pub async fn pages_for_wall(
        &self,
        actor: &Actor,
        alarms: &[AlarmId],
    ) -> Result<BTreeMap<AlarmId, WallPages>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let ids: Vec<i64> = alarms
            .iter()
            .take(MAX_ALARM_PAGE as usize)
            .filter_map(|id| i64::try_from(*id).ok())
            .collect();
        let mut wall: BTreeMap<AlarmId, WallPages> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(wall);
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        // Only two fields of each notice: read by the database, not by parsing every notice.
        let (name, deadline) = match self.backend {
            Backend::Sqlite => (
                "json_extract(record, '$.page.name')",
                "json_extract(record, '$.acknowledge_by')",
            ),
            Backend::Postgres => (
                "(record::jsonb -> 'page' ->> 'name')",
                "((record::jsonb ->> 'acknowledge_by')::BIGINT)",
            ),
        };
        let inner = format!(
            "SELECT alarm_id AS c0, channel AS c1, {name} AS c2, MIN({deadline}) AS c3, MIN(id) AS c4 \
             FROM notifications \
             WHERE alarm_id IN ({}) AND channel <> 'console' AND ticket_number IS NULL \
             GROUP BY alarm_id, channel, {name} ORDER BY MIN(id) LIMIT {MAX_WALL_PAGES}",
            placeholders.join(", ")
        );
        let args = ids.iter().map(|id| Arg::Int(*id)).collect();
        let rows: Vec<WallPageRow> =
            crate::page::fetch(&self.read, self.backend, &inner, 5, "c4", args).await?;
        for (alarm, channel, name, deadline, _) in rows {
            let (Ok(alarm), Some(name)) = (AlarmId::try_from(alarm), name) else {
                continue;
            };
            let pages = wall.entry(alarm).or_default();
            match pages.told.iter_mut().find(|(told, _)| *told == name) {
                Some((_, channels)) => {
                    channels.insert(channel);
                }
                None => pages.told.push((name, BTreeSet::from([channel]))),
            }
            if let Some(deadline) = deadline {
                pages.acknowledge_by = Some(
                    pages
                        .acknowledge_by
                        .map_or(deadline, |known| known.min(deadline)),
                );
            }
        }
        Ok(wall)
    }
}

/// What the client portal's dashboard heads with: the client's name, whether a contract of
/// its includes the dashboard (DSH-1), its equipment down now and its open alarms, counted
/// whole (whatever page of its sites is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOverview {
    pub name: String,
    pub dashboard: bool,
    pub down: i64,
    /// Alarms that need a person (open and not resolved): a resolved alarm waiting for its
    /// report is not "in progress" for the client.
    pub open_alarms: i64,
    /// Of each kind of equipment with some down now: (kind, down, how many the client has).
    pub down_by_kind: Vec<(EquipmentKind, i64, i64)>,
    /// The open tickets about an equipment down now, lowest number first (a few).
    pub tickets_on_down: Vec<u64>,
}

/// Most tickets a dashboard's headline names.
const HEADLINE_TICKETS: i64 = 3;

impl Store {
    /// [`ClientOverview`] of `client`, in one read; `NotFound` for a client the actor does not
    /// see, as for one that does not exist.
    pub async fn client_overview(
        &self,
        actor: &Actor,
        client: &Reference,
    ) -> Result<ClientOverview, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut args = vec![Arg::Text(Some(client.to_string()))];
        let walls = crate::inventory::visibility_clause(
            vigie_domain::inventory::ObjectKind::Client,
            &actor.visibility(),
            &mut args,
        )?
        .map(|clause| format!(" AND {clause}"))
        .unwrap_or_default();
        let dashboard = match self.backend {
            Backend::Sqlite => {
                "SELECT 1 FROM contracts k, json_each(k.record, '$.options') o \
                 WHERE k.client_ref = c.ref AND o.value = 'dashboard'"
            }
            Backend::Postgres => {
                "SELECT 1 FROM contracts k \
                 WHERE k.client_ref = c.ref AND jsonb_exists(k.record::jsonb -> 'options', 'dashboard')"
            }
        };
        // What is down, by kind, with how many of each kind the client has, and the open
        // tickets on what is down: empty lists while everything works, and read in the same
        // query (each query costs hand-overs between threads on SQLite).
        let down_by_kind = crate::page::one_row(
            self.backend,
            "SELECT d.kind AS c0, d.down AS c1, \
             COALESCE((SELECT n.count FROM equipment_counts n WHERE n.client_ref = $1 AND n.kind = d.kind), 0) AS c2 \
             FROM (SELECT e.kind AS kind, COUNT(DISTINCT s.equipment_ref) AS down FROM check_states s \
                   JOIN equipment e ON e.ref = s.equipment_ref \
                   WHERE s.status = 'down' AND s.client_ref = $1 GROUP BY e.kind) d",
            3,
            "c0",
        );
        let tickets_on_down = crate::page::one_row(
            self.backend,
            &format!(
                "SELECT t.number AS c0 FROM tickets t WHERE t.client_ref = $1 AND t.closed_ms IS NULL \
                 AND t.equipment_ref IN (SELECT s.equipment_ref FROM check_states s WHERE s.status = 'down' AND s.client_ref = $1) \
                 ORDER BY t.number LIMIT {HEADLINE_TICKETS}"
            ),
            1,
            "c0",
        );
        let row = build(
            &format!(
                "SELECT c.name, CASE WHEN EXISTS ({dashboard}) THEN 1 ELSE 0 END, \
                 (SELECT COUNT(DISTINCT s.equipment_ref) FROM check_states s \
                  WHERE s.status = 'down' AND s.client_ref = c.ref), \
                 (SELECT COUNT(*) FROM alarms a WHERE a.closed_ms IS NULL AND a.resolved_ms IS NULL AND a.client_ref = c.ref), \
                 ({down_by_kind}), ({tickets_on_down}) \
                 FROM clients c WHERE c.ref = $1{walls}"
            ),
            args,
        )
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let down: i64 = row.try_get(2)?;
        let unreadable =
            |e: serde_json::Error| StoreError::other(anyhow::anyhow!("résumé illisible : {e}"));
        let kinds: Vec<(String, i64, i64)> =
            serde_json::from_str(&row.try_get::<String, _>(4)?).map_err(unreadable)?;
        let down_by_kind = kinds
            .into_iter()
            .filter_map(|(kind, down, total)| {
                let kind = serde_json::from_value(serde_json::Value::String(kind)).ok()?;
                Some((kind, down, total))
            })
            .collect();
        let numbers: Vec<(i64,)> =
            serde_json::from_str(&row.try_get::<String, _>(5)?).map_err(unreadable)?;
        let tickets_on_down = numbers
            .into_iter()
            .filter_map(|(n,)| u64::try_from(n).ok())
            .collect();
        Ok(ClientOverview {
            name: row.try_get(0)?,
            dashboard: row.try_get::<i64, _>(1)? == 1,
            down,
            open_alarms: row.try_get(3)?,
            down_by_kind,
            tickets_on_down,
        })
    }

    /// One page of equipment (by reference, as `list` pages them) with the current state of
    /// each of its checks, in one read.
    pub async fn equipment_page(
        &self,
        actor: &Actor,
        filter: &crate::ListFilter,
    ) -> Result<Vec<(Record, Vec<CurrentState>)>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let visibility = actor.visibility();
        let (page, args) = crate::inventory::page_of(
            ObjectKind::Equipment,
            crate::inventory::PageColumn::Record,
            &visibility,
            filter,
        )?;
        let inner = format!(
            "SELECT e.ref AS c0, e.record AS c1, s.check_name AS c2, s.status AS c3, \
             s.since_ms AS c4, s.last_ms AS c5, s.detail AS c6, s.expect_by_ms AS c7 \
             FROM ({page}) AS e LEFT JOIN check_states s ON s.equipment_ref = e.ref"
        );
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> =
            crate::page::fetch(&self.read, self.backend, &inner, 8, "c0, c2", args).await?;
        let mut equipment: Vec<(Record, Vec<CurrentState>)> = Vec::new();
        let mut last: Option<String> = None;
        for (reference, record, check, status, since, last_ms, detail, expect_by) in rows {
            if last.as_deref() != Some(reference.as_str()) {
                let record = self
                    .opened_record(crate::inventory::parse_record(
                        ObjectKind::Equipment,
                        &record,
                    )?)?
                    .for_visibility(&visibility);
                equipment.push((record, Vec::new()));
                last = Some(reference.clone());
            }
            let (Some(check), Some(status), Some(since), Some(last_ms)) =
                (check, status, since, last_ms)
            else {
                // An equipment never observed: no check state.
                continue;
            };
            if let Some((_, states)) = equipment.last_mut() {
                states.push(current_state((
                    reference, check, status, since, last_ms, detail, expect_by,
                ))?);
            }
        }
        Ok(equipment)
    }
}

/// Where an availability rate is measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Client(Reference),
    Site(Reference),
    Equipment(Reference),
}

impl Place {
    fn reference(&self) -> &Reference {
        match self {
            Place::Client(reference) | Place::Site(reference) | Place::Equipment(reference) => {
                reference
            }
        }
    }

    /// The column that names the place in `state_changes`, and in `equipment`.
    fn columns(&self) -> (&'static str, &'static str) {
        match self {
            Place::Client(_) => ("client_ref", "client_ref"),
            Place::Site(_) => ("site_ref", "site_ref"),
            Place::Equipment(_) => ("equipment_ref", "ref"),
        }
    }
}

/// Availability of a client's, a site's or an equipment's equipment over a period (DSH-1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Availability {
    pub equipment: u64,
    /// Total time equipment were down, summed over equipment (ms).
    pub down_ms: i64,
    /// None when there is no equipment.
    pub rate: Option<f64>,
    /// The period had more state changes than are read for a page: the rate is a floor.
    pub partial: bool,
}

/// The most state changes read for one rate.
const MAX_AVAILABILITY_CHANGES: i64 = 500_000;
/// The most periods of one chart read at once (a day each, for a month and a little more).
pub const MAX_AVAILABILITY_PERIODS: usize = 62;

/// What the state changes of a place say over a period: how many equipment it has, each
/// equipment's checks' tracks, and whether there were too many changes to read them all.
struct Tracks {
    equipment: u64,
    /// equipment → check → its track over the period.
    tracks: BTreeMap<String, BTreeMap<String, CheckTrack>>,
    partial: bool,
}

impl Tracks {
    /// Each equipment's checks, for the domain's reckoning.
    fn per_equipment(&self) -> impl Iterator<Item = Vec<CheckTrack>> + '_ {
        self.tracks
            .values()
            .map(|checks| checks.values().cloned().collect())
    }
}

impl Store {
    /// The availability of `place` over `[from, to)`, from its state changes, within the
    /// actor's walls (another client's place is `NotFound`).
    pub async fn availability(
        &self,
        actor: &Actor,
        place: &Place,
        from: i64,
        to: i64,
    ) -> Result<Availability, StoreError> {
        let read = self.tracks(actor, place, from, to).await?;
        let down_ms: i64 = read
            .per_equipment()
            .map(|checks| equipment_down_ms(from, to, &checks))
            .sum();
        Ok(Availability {
            equipment: read.equipment,
            down_ms,
            rate: rate(read.equipment, to - from, down_ms),
            partial: read.partial,
        })
    }

    /// The availability of `place` over each period between consecutive `bounds` (in
    /// increasing order; a day each for a chart), from one reading of its state changes rather
    /// than one per period. At most [`MAX_AVAILABILITY_PERIODS`] periods.
    pub async fn availability_by_period(
        &self,
        actor: &Actor,
        place: &Place,
        bounds: &[i64],
    ) -> Result<Vec<Availability>, StoreError> {
        if bounds.len() < 2 || bounds.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err(StoreError::Invalid(
                "périodes de disponibilité : au moins deux bornes, dans l'ordre".into(),
            ));
        }
        if bounds.len() - 1 > MAX_AVAILABILITY_PERIODS {
            return Err(StoreError::Invalid(format!(
                "périodes de disponibilité : {MAX_AVAILABILITY_PERIODS} au plus"
            )));
        }
        let (from, to) = (bounds[0], bounds[bounds.len() - 1]);
        let read = self.tracks(actor, place, from, to).await?;
        let mut down = vec![0; bounds.len() - 1];
        for checks in read.per_equipment() {
            let intervals = equipment_down_intervals(from, to, &checks);
            for (total, part) in down.iter_mut().zip(down_ms_per_period(&intervals, bounds)) {
                *total += part;
            }
        }
        Ok(bounds
            .windows(2)
            .zip(down)
            .map(|(period, down_ms)| Availability {
                equipment: read.equipment,
                down_ms,
                rate: rate(read.equipment, period[1] - period[0], down_ms),
                partial: read.partial,
            })
            .collect())
    }

    /// Reads the state changes of `place` within `[from, to)` and the checks down since
    /// before it, within the actor's walls: three queries, whatever the length of the period.
    async fn tracks(
        &self,
        actor: &Actor,
        place: &Place,
        from: i64,
        to: i64,
    ) -> Result<Tracks, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let reference = place.reference();
        let (column, equipment_column) = place.columns();
        // The place itself must be visible: the same answer for another client's as for none.
        let (table, key, site_column) = match place {
            Place::Client(_) => ("sites", "client_ref", "ref"),
            Place::Site(_) => ("sites", "ref", "ref"),
            Place::Equipment(_) => ("equipment", "ref", "site_ref"),
        };
        let mut visible_args = vec![Arg::Text(Some(reference.to_string()))];
        let visible_condition = visibility_condition(
            &actor.visibility(),
            "client_ref",
            site_column,
            &mut visible_args,
        );
        let visible = build(
            &format!("SELECT COUNT(*) FROM {table} WHERE {key} = $1{visible_condition}"),
            visible_args,
        )
        .fetch_one(&self.read)
        .await?;
        if visible.try_get::<i64, _>(0)? == 0 {
            return Err(StoreError::NotFound);
        }
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        let equipment: i64 = build(
            &format!("SELECT COUNT(*) FROM equipment WHERE {equipment_column} = $1{condition}"),
            args.clone(),
        )
        .fetch_one(&self.read)
        .await?
        .try_get(0)?;
        let mut change_args = args;
        change_args.push(Arg::Int(from));
        change_args.push(Arg::Int(to));
        let n = change_args.len();
        let rows = build(
            &format!(
                "SELECT equipment_ref, check_name, at_ms, from_status, to_status FROM state_changes \
                 WHERE {column} = $1{condition} AND at_ms >= ${} AND at_ms < ${n} \
                 ORDER BY equipment_ref, check_name, at_ms, id LIMIT {MAX_AVAILABILITY_CHANGES}",
                n - 1
            ),
            change_args,
        )
        .fetch_all(&self.read)
        .await?;
        let partial = rows.len() as i64 >= MAX_AVAILABILITY_CHANGES;
        let mut tracks: BTreeMap<String, BTreeMap<String, CheckTrack>> = BTreeMap::new();
        for row in &rows {
            let equipment: String = row.try_get(0)?;
            let check: String = row.try_get(1)?;
            let at: i64 = row.try_get(2)?;
            let before: Option<String> = row.try_get(3)?;
            let after: String = row.try_get(4)?;
            let track = tracks
                .entry(equipment)
                .or_default()
                .entry(check)
                .or_insert_with(|| CheckTrack {
                    down_at_start: before.as_deref() == Some("down"),
                    changes: Vec::new(),
                });
            track.changes.push((at, after == "down"));
        }
        // Checks down since before the period, with no change in it.
        let mut down_args = vec![Arg::Text(Some(reference.to_string()))];
        let joined = visibility_condition(
            &actor.visibility(),
            "e.client_ref",
            "e.site_ref",
            &mut down_args,
        );
        down_args.push(Arg::Int(from));
        let n = down_args.len();
        let down_rows = build(
            &format!(
                "SELECT s.equipment_ref, s.check_name FROM check_states s JOIN equipment e ON e.ref = s.equipment_ref \
                 WHERE e.{equipment_column} = $1{joined} AND s.status = 'down' AND s.since_ms < ${n} LIMIT {MAX_AVAILABILITY_CHANGES}"
            ),
            down_args,
        )
        .fetch_all(&self.read)
        .await?;
        for row in &down_rows {
            let equipment: String = row.try_get(0)?;
            let check: String = row.try_get(1)?;
            tracks
                .entry(equipment)
                .or_default()
                .entry(check)
                .or_insert_with(|| CheckTrack {
                    down_at_start: true,
                    changes: Vec::new(),
                });
        }
        Ok(Tracks {
            equipment: u64::try_from(equipment).unwrap_or(0),
            tracks,
            partial,
        })
    }
}

/// One site as the portal and the console list it: its equipment, those down now, its open
/// alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSummary {
    pub reference: Reference,
    pub name: String,
    pub client: Reference,
    pub contract: Reference,
    pub equipment: i64,
    pub down: i64,
    pub open_alarms: i64,
}

impl Store {
    /// One page of sites (by reference, after `after`), of `client` if given, within the
    /// actor's walls, with their counts.
    pub async fn site_summaries(
        &self,
        actor: &Actor,
        client: Option<&Reference>,
        after: Option<&Reference>,
        limit: i64,
    ) -> Result<Vec<SiteSummary>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut args = Vec::new();
        let mut condition =
            visibility_condition(&actor.visibility(), "s.client_ref", "s.ref", &mut args);
        if let Some(client) = client {
            args.push(Arg::Text(Some(client.to_string())));
            condition.push_str(&format!(" AND s.client_ref = ${}", args.len()));
        }
        if let Some(after) = after {
            args.push(Arg::Text(Some(after.to_string())));
            condition.push_str(&format!(" AND s.ref > ${}", args.len()));
        }
        args.push(Arg::Int(limit.clamp(1, crate::MAX_PAGE_SIZE)));
        let inner = format!(
            "SELECT s.ref AS c0, s.name AS c1, s.client_ref AS c2, s.contract_ref AS c3, \
             s.equipment_count AS c4, \
             (SELECT COUNT(DISTINCT c.equipment_ref) FROM check_states c \
              WHERE c.status = 'down' AND c.client_ref = s.client_ref AND c.site_ref = s.ref) AS c5, \
             (SELECT COUNT(*) FROM alarms a WHERE a.site_ref = s.ref AND a.closed_ms IS NULL) AS c6 \
             FROM sites s WHERE 1 = 1{condition} ORDER BY s.ref LIMIT ${}",
            args.len()
        );
        let rows: Vec<(String, String, String, String, i64, i64, i64)> =
            crate::page::fetch(&self.read, self.backend, &inner, 7, "c0", args).await?;
        let reference = |text: &str| -> Result<Reference, StoreError> {
            Reference::parse(text)
                .map_err(|e| StoreError::other(anyhow::anyhow!("référence stockée invalide : {e}")))
        };
        rows.into_iter()
            .map(
                |(site, name, client, contract, equipment, down, open_alarms)| {
                    Ok(SiteSummary {
                        reference: reference(&site)?,
                        name,
                        client: reference(&client)?,
                        contract: reference(&contract)?,
                        equipment,
                        down,
                        open_alarms,
                    })
                },
            )
            .collect()
    }
}

impl Store {
    /// The metrics an equipment reported since `since` (for its page's sparklines), at most
    /// `limit`, by name.
    pub async fn metric_names(
        &self,
        actor: &Actor,
        equipment: &Reference,
        since: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut args = vec![Arg::Text(Some(equipment.to_string()))];
        let condition =
            visibility_condition(&actor.visibility(), "e.client_ref", "e.site_ref", &mut args);
        args.push(Arg::Int(since));
        let n = args.len();
        args.push(Arg::Int(limit.clamp(1, 100)));
        let rows = build(
            &format!(
                "SELECT DISTINCT s.metric FROM samples s JOIN equipment e ON e.ref = s.equipment_ref \
                 WHERE s.equipment_ref = $1{condition} AND s.at_ms >= ${n} ORDER BY s.metric LIMIT ${}",
                n + 1
            ),
            args,
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }
}

/// Where a page of the wall starts: after this (rank in its view's order, alarm number).
pub type WallCursor = (i64, AlarmId);

/// The rank of a severity on the wall: Critical first.
const SEVERITY_RANK: &str = "(CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END)";
/// The order of the alarms to handle: unacknowledged first, then by severity. The same text as
/// the index `alarms_to_handle` (migration 0016), so that the database reads that index.
const URGENCY_RANK: &str = "((CASE status WHEN 'raised' THEN 0 ELSE 3 END) + (CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END))";

/// Which of the wall's two lists (issue 25): what needs a person, or what waits for its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WallView {
    /// Not resolved: unacknowledged, acknowledged or in charge. Unacknowledged first, then
    /// the gravest, then the longest waiting (whose deadline comes first).
    #[default]
    ToHandle,
    /// Resolved, waiting for the closure report: the gravest first, then the oldest.
    ToClose,
}

/// Which page of the wall: its list, its filters, where it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WallFilter {
    pub view: WallView,
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub after: Option<WallCursor>,
}

impl Store {
    /// One page of the wall's list, in its order, within the actor's walls and the filters;
    /// the cursor of the next page when there may be one.
    pub async fn wall_alarms(
        &self,
        actor: &Actor,
        filter: &WallFilter,
        limit: i64,
        now_ms: i64,
    ) -> Result<(Vec<crate::StoredAlarm>, Option<WallCursor>), StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let (view, client, site, after) = (
            filter.view,
            filter.client.as_ref(),
            filter.site.as_ref(),
            filter.after,
        );
        let mut args = Vec::new();
        let mut condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        for (column, value) in [("client_ref", client), ("site_ref", site)] {
            if let Some(value) = value {
                args.push(Arg::Text(Some(value.to_string())));
                condition.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        let (rank, resolved) = match view {
            WallView::ToHandle => (URGENCY_RANK, "resolved_ms IS NULL"),
            WallView::ToClose => (SEVERITY_RANK, "resolved_ms IS NOT NULL"),
        };
        if let Some((after_rank, id)) = after {
            args.push(Arg::Int(after_rank));
            let r = args.len();
            args.push(Arg::Int(i64::try_from(id).unwrap_or(i64::MAX)));
            let i = args.len();
            condition.push_str(&format!(
                " AND ({rank} > ${r} OR ({rank} = ${r} AND id > ${i}))"
            ));
        }
        let limit = limit.clamp(1, MAX_ALARM_PAGE);
        args.push(Arg::Int(limit));
        let inner = format!(
            "SELECT client_ref AS c0, record AS c1, {rank} AS c2, id AS c3, {} FROM alarms WHERE closed_ms IS NULL AND {resolved}{condition} \
             ORDER BY {rank}, id LIMIT ${}",
            crate::alarms::named_columns(4),
            args.len()
        );
        type Row = (
            String,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> =
            crate::page::fetch(&self.read, self.backend, &inner, 7, "c2, c3", args).await?;
        let mut alarms = Vec::with_capacity(rows.len());
        let mut last = None;
        let count = rows.len();
        for (client, record, rank, _, client_name, site, equipment) in rows {
            let alarm = crate::stored::alarm::decode(&record)?;
            last = Some((rank, alarm.id));
            alarms.push(crate::StoredAlarm {
                client: Reference::parse(&client).ok(),
                status: alarm.status(),
                duration_ms: alarm.duration_ms(now_ms),
                alarm,
                names: crate::alarms::AlarmNames {
                    client: client_name,
                    site,
                    equipment,
                },
            });
        }
        let next = if count as i64 == limit { last } else { None };
        Ok((alarms, next))
    }
}

/// Most references whose names one page asks for at once, per kind.
pub const MAX_NAMES: usize = 1_000;

impl Store {
    /// The names of these objects of one kind, by reference, within the actor's walls: what a
    /// page shows first, the reference second (issue 25). Staff names are read by anyone who
    /// reads the pages (a client sees who handles its ticket); the objects of other clients,
    /// and the unknown ones, are absent.
    pub async fn names(
        &self,
        actor: &Actor,
        kind: ObjectKind,
        references: &[&Reference],
    ) -> Result<BTreeMap<Reference, String>, StoreError> {
        let mut names = self.names_of_kinds(actor, &[(kind, references)]).await?;
        Ok(names.pop().unwrap_or_default())
    }

    /// [`Store::names`] of several kinds in one query (a `UNION ALL` of one part per kind), so
    /// that a page pays one round trip for all the names it shows; the maps come back in the
    /// order of `wanted`.
    pub async fn names_of_kinds(
        &self,
        actor: &Actor,
        wanted: &[(ObjectKind, &[&Reference])],
    ) -> Result<Vec<BTreeMap<Reference, String>>, StoreError> {
        let mut names = vec![BTreeMap::new(); wanted.len()];
        let mut args = Vec::new();
        let mut parts = Vec::new();
        for (position, (kind, references)) in wanted.iter().enumerate() {
            let references: BTreeSet<&str> = references
                .iter()
                .take(MAX_NAMES)
                .map(|r| r.as_str())
                .collect();
            if references.is_empty() {
                continue;
            }
            args.push(Arg::Text(Some(
                serde_json::to_string(&references).map_err(StoreError::other)?,
            )));
            let list = args.len();
            let walls = if !kind.belongs_to_a_client() {
                None
            } else {
                crate::inventory::visibility_clause(*kind, &actor.visibility(), &mut args)?
            };
            let values = match self.backend {
                Backend::Sqlite => format!("(SELECT value FROM json_each(${list}))"),
                Backend::Postgres => format!("(SELECT jsonb_array_elements_text(${list}::jsonb))"),
            };
            parts.push(format!(
                "SELECT CAST({position} AS BIGINT) AS c0, ref AS c1, name AS c2 FROM {} WHERE ref IN {values}{}",
                crate::inventory::table(*kind),
                walls.map(|w| format!(" AND {w}")).unwrap_or_default()
            ));
        }
        if parts.is_empty() {
            return Ok(names);
        }
        // One row for all the names (`page::fetch_unordered`): a row each would cost a
        // hand-over between threads each on SQLite.
        let inner = parts.join(" UNION ALL ");
        let rows: Vec<(i64, String, String)> =
            crate::page::fetch_unordered(&self.read, self.backend, &inner, 3, args).await?;
        for (part, reference, name) in rows {
            if let (Some(map), Ok(reference)) = (
                usize::try_from(part).ok().and_then(|p| names.get_mut(p)),
                Reference::parse(&reference),
            ) {
                map.insert(reference, name);
            }
        }
        Ok(names)
    }
}

/// Most characters of a search's text.
pub const MAX_SEARCH_TEXT: usize = 100;
/// Most matches of one kind a search returns.
pub const MAX_SEARCH_PER_KIND: i64 = 50;

/// One object the console's search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: ObjectKind,
    pub reference: Reference,
    pub name: String,
}

impl Store {
    /// The console's search (issue 25): the clients, sites, equipment, staff and contacts whose
    /// name or reference contains `text` (letters in either case), within the actor's walls,
    /// at most `per_kind` of each, in order of reference. One indexed-or-scanned query per
    /// kind; the text is matched literally (`%` and `_` are not wildcards).
    pub async fn search(
        &self,
        actor: &Actor,
        text: &str,
        per_kind: i64,
    ) -> Result<Vec<Found>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let text: String = text.trim().chars().take(MAX_SEARCH_TEXT).collect();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{}%", escaped.to_lowercase());
        let per_kind = per_kind.clamp(1, MAX_SEARCH_PER_KIND);
        let visibility = actor.visibility();
        let mut found = Vec::new();
        for kind in [
            ObjectKind::Client,
            ObjectKind::Site,
            ObjectKind::Equipment,
            ObjectKind::Staff,
            ObjectKind::Contact,
        ] {
            if !visibility.sees_kind(kind) {
                continue;
            }
            let mut args = vec![Arg::Text(Some(pattern.clone()))];
            let walls = crate::inventory::visibility_clause(kind, &visibility, &mut args)?
                .map(|w| format!(" AND {w}"))
                .unwrap_or_default();
            args.push(Arg::Int(per_kind));
            let sql = format!(
                "SELECT ref, name FROM {} WHERE (lower(name) LIKE $1 ESCAPE '\\' OR lower(ref) LIKE $1 ESCAPE '\\'){walls} ORDER BY ref LIMIT ${}",
                crate::inventory::table(kind),
                args.len()
            );
            for row in build(&sql, args).fetch_all(&self.read).await? {
                let reference: String = row.try_get(0)?;
                if let Ok(reference) = Reference::parse(&reference) {
                    found.push(Found {
                        kind,
                        reference,
                        name: row.try_get(1)?,
                    });
                }
            }
        }
        Ok(found)
    }
}
