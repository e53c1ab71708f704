//! What the monthly reports read (issue 9; DSH-2, CLO-3, SAV-7) and how a report is filed: a
//! client's or a site's equipment with each check's history over a period (its status when
//! the period began and its changes within it), its metrics' daily figures, the period's
//! alarms, tickets and survey answers; then the report's documents, once per kind, place,
//! period and format, with the emails that send it, in one transaction (outbox). Large reads
//! come back as one row each (`page.rs`), within named bounds.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::lifecycle::Alarm;
use vigie_domain::supervision::CheckStatus;
use vigie_domain::ticket::desk::{SurveyAnswers, Ticket, TicketEvent};

use crate::System;
use crate::console::Place;
use crate::inventory::{Arg, build, require};
use crate::supervision::visibility_condition;
use crate::{Backend, Store, StoreError};

/// The most state changes one report reads for one place: a month of a 5,000-equipment client
/// is about 250,000. Beyond, the report is refused (a shorter period, or a site at a time).
pub const MAX_REPORT_CHANGES: usize = 3_000_000;
/// The most equipment one report covers.
pub const MAX_REPORT_EQUIPMENT: usize = 200_000;
/// The most alarms, tickets or survey answers one report lists.
pub const MAX_REPORT_ROWS: i64 = 100_000;

pub use vigie_domain::report::availability::CheckHistory;

/// One equipment over a period: as the inventory names it now (or its reference alone, for
/// an equipment deleted since), with each of its checks' histories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EquipmentHistory {
    pub reference: String,
    pub name: String,
    /// The inventory's kind (`camera`, `nvr`…), None for an equipment deleted since.
    pub kind: Option<String>,
    pub site: String,
    pub checks: BTreeMap<String, CheckHistory>,
}

/// One day of a metric: the day's start, mean and maximum.
pub type DailyPoint = (i64, f64, f64);

/// One metric of one equipment, day by day (UTC days, from the hourly roll-up).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyMetric {
    pub equipment: String,
    pub metric: String,
    pub days: Vec<DailyPoint>,
}

/// A ticket of the period with its SLA outcomes: each deadline met, breached (INC-3), or
/// waived when no visit was needed (SAV-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketOfPeriod {
    pub ticket: Ticket,
    pub sla: Vec<TicketEvent>,
}

/// A survey answered in the period (SAV-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyOfPeriod {
    pub ticket: u64,
    pub client: String,
    pub client_name: String,
    /// The technician in charge of the ticket, by reference.
    pub technician: Option<String>,
    pub answered_at: i64,
    pub answers: SurveyAnswers,
}

fn status(text: &str) -> Result<CheckStatus, StoreError> {
    CheckStatus::parse(text)
        .ok_or_else(|| StoreError::other(anyhow::anyhow!("état stocké inconnu : {text}")))
}

impl Store {
    /// `NotFound` unless `place` exists and the actor sees it; the column of the place's
    /// tables that names it.
    async fn report_place(
        &self,
        actor: &Actor,
        place: &Place,
    ) -> Result<(&'static str, String), StoreError> {
        require(actor, Permission::ReadInventory)?;
        let (key, column, reference) = match place {
            Place::Client(client) => ("client_ref", "client_ref", client),
            Place::Site(site) => ("ref", "site_ref", site),
            Place::Equipment(_) => {
                return Err(StoreError::Invalid(
                    "un rapport porte sur un client ou un site".into(),
                ));
            }
        };
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let condition = visibility_condition(&actor.visibility(), "client_ref", "ref", &mut args);
        let row = build(
            &format!("SELECT COUNT(*) FROM sites WHERE {key} = $1{condition}"),
            args,
        )
        .fetch_one(&self.read)
        .await?;
        if row.try_get::<i64, _>(0)? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok((column, reference.to_string()))
    }

    /// Every equipment of `place` over `[from, to)` with its checks' histories: those in the
    /// inventory now, and those deleted since that changed state within the period.
    pub async fn equipment_histories(
        &self,
        actor: &Actor,
        place: &Place,
        from: i64,
        to: i64,
    ) -> Result<Vec<EquipmentHistory>, StoreError> {
        let (column, reference) = self.report_place(actor, place).await?;
        let place_arg = || vec![Arg::Text(Some(reference.clone()))];
        let inventory: Vec<(String, String, String, String)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT ref AS c0, name AS c1, kind AS c2, site_ref AS c3 FROM equipment \
                 WHERE {column} = $1 LIMIT {MAX_REPORT_EQUIPMENT}"
            ),
            4,
            place_arg(),
        )
        .await?;
        let mut equipment: BTreeMap<String, EquipmentHistory> = inventory
            .into_iter()
            .map(|(reference, name, kind, site)| {
                (
                    reference.clone(),
                    EquipmentHistory {
                        reference,
                        name,
                        kind: Some(kind),
                        site,
                        checks: BTreeMap::new(),
                    },
                )
            })
            .collect();

        // The period's changes, in no order: sorted here by check, instant and number.
        let mut args = place_arg();
        args.push(Arg::Int(from));
        args.push(Arg::Int(to));
        type ChangeRow = (String, String, i64, i64, Option<String>, String, String);
        let mut changes: Vec<ChangeRow> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT equipment_ref AS c0, check_name AS c1, at_ms AS c2, id AS c3, \
                 from_status AS c4, to_status AS c5, site_ref AS c6 FROM state_changes \
                 WHERE {column} = $1 AND at_ms >= $2 AND at_ms < $3 LIMIT {}",
                MAX_REPORT_CHANGES + 1
            ),
            7,
            args,
        )
        .await?;
        if changes.len() > MAX_REPORT_CHANGES {
            return Err(StoreError::Invalid(format!(
                "plus de {MAX_REPORT_CHANGES} changements d'état sur la période : choisissez une période plus courte, ou un site à la fois"
            )));
        }
        changes.sort_unstable_by(|a, b| (&a.0, &a.1, a.2, a.3).cmp(&(&b.0, &b.1, b.2, b.3)));
        for (equipment_ref, check, at, _, before, after, site) in changes {
            let item = equipment
                .entry(equipment_ref.clone())
                .or_insert_with(|| EquipmentHistory {
                    reference: equipment_ref.clone(),
                    name: equipment_ref.clone(),
                    kind: None,
                    site,
                    checks: BTreeMap::new(),
                });
            let history = match item.checks.get_mut(&check) {
                Some(history) => history,
                None => item.checks.entry(check).or_insert(CheckHistory {
                    // The first change of the period says what came before it.
                    at_start: before.as_deref().map(status).transpose()?,
                    changes: Vec::new(),
                }),
            };
            history.changes.push((at, status(&after)?));
        }

        // Checks that did not change within the period: their status then is their current
        // one if it began before the period, else the one their first later change left.
        let current: Vec<(String, String, String, i64)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT equipment_ref AS c0, check_name AS c1, status AS c2, since_ms AS c3 \
                 FROM check_states WHERE {column} = $1"
            ),
            4,
            place_arg(),
        )
        .await?;
        let mut changed_since: Vec<(String, String)> = Vec::new();
        for (equipment_ref, check, now_status, since) in current {
            let Some(item) = equipment.get_mut(&equipment_ref) else {
                continue;
            };
            if item.checks.contains_key(&check) {
                continue;
            }
            if since < from {
                item.checks.insert(
                    check,
                    CheckHistory {
                        at_start: Some(status(&now_status)?),
                        changes: Vec::new(),
                    },
                );
            } else if since >= to {
                changed_since.push((equipment_ref, check));
            }
        }
        if !changed_since.is_empty() {
            let mut args = place_arg();
            args.push(Arg::Int(to));
            let first_after = match self.backend {
                Backend::Sqlite => format!(
                    "SELECT equipment_ref AS c0, check_name AS c1, from_status AS c2, MIN(at_ms) AS c3 \
                     FROM state_changes WHERE {column} = $1 AND at_ms >= $2 \
                     GROUP BY equipment_ref, check_name"
                ),
                Backend::Postgres => format!(
                    "SELECT DISTINCT ON (equipment_ref, check_name) equipment_ref AS c0, \
                     check_name AS c1, from_status AS c2, at_ms AS c3 FROM state_changes \
                     WHERE {column} = $1 AND at_ms >= $2 ORDER BY equipment_ref, check_name, at_ms, id"
                ),
            };
            let rows: Vec<(String, String, Option<String>, i64)> =
                crate::page::fetch_unordered(&self.read, self.backend, &first_after, 4, args)
                    .await?;
            let before: HashMap<(String, String), Option<String>> = rows
                .into_iter()
                .map(|(equipment, check, before, _)| ((equipment, check), before))
                .collect();
            for key in changed_since {
                if let Some(Some(text)) = before.get(&key)
                    && let Some(item) = equipment.get_mut(&key.0)
                {
                    item.checks.insert(
                        key.1,
                        CheckHistory {
                            at_start: Some(status(text)?),
                            changes: Vec::new(),
                        },
                    );
                }
            }
        }
        Ok(equipment.into_values().collect())
    }

    /// The daily figures of `place`'s metrics whose name is one of `metrics` (or one of them
    /// followed by `:` and a part, such as `disk_used_percent:/data`) over `[from, to)`, from
    /// the hourly roll-up, by UTC day.
    pub async fn daily_metrics(
        &self,
        actor: &Actor,
        place: &Place,
        metrics: &[&str],
        from: i64,
        to: i64,
    ) -> Result<Vec<DailyMetric>, StoreError> {
        let (column, reference) = self.report_place(actor, place).await?;
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![Arg::Text(Some(reference)), Arg::Int(from), Arg::Int(to)];
        let mut names = Vec::new();
        for metric in metrics.iter().take(20) {
            args.push(Arg::Text(Some((*metric).to_string())));
            let exact = args.len();
            args.push(Arg::Text(Some(format!("{metric}:%"))));
            names.push(format!(
                "h.metric = ${exact} OR h.metric LIKE ${}",
                args.len()
            ));
        }
        let rows: Vec<(String, String, i64, f64, f64)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT h.equipment_ref AS c0, h.metric AS c1, (h.hour_ms / 86400000) * 86400000 AS c2, \
                 SUM(h.total) / SUM(h.count) AS c3, MAX(h.maximum) AS c4 \
                 FROM samples_hourly h JOIN equipment e ON e.ref = h.equipment_ref \
                 WHERE e.{column} = $1 AND h.hour_ms >= $2 AND h.hour_ms < $3 AND ({}) \
                 GROUP BY h.equipment_ref, h.metric, (h.hour_ms / 86400000) * 86400000 LIMIT {MAX_REPORT_ROWS}",
                names.join(" OR ")
            ),
            5,
            args,
        )
        .await?;
        // (equipment, metric) → its days.
        let mut series: BTreeMap<(String, String), Vec<DailyPoint>> = BTreeMap::new();
        for (equipment, metric, day, mean, maximum) in rows {
            series
                .entry((equipment, metric))
                .or_default()
                .push((day, mean, maximum));
        }
        Ok(series
            .into_iter()
            .map(|((equipment, metric), mut days)| {
                days.sort_by_key(|(day, _, _)| *day);
                DailyMetric {
                    equipment,
                    metric,
                    days,
                }
            })
            .collect())
    }

    /// How many times each equipment of `place` went down within `[from, to)` (a check
    /// changing to down), for the equipment that did.
    pub async fn down_transitions(
        &self,
        actor: &Actor,
        place: &Place,
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, u32>, StoreError> {
        let (column, reference) = self.report_place(actor, place).await?;
        let rows: Vec<(String, i64)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT equipment_ref AS c0, COUNT(*) AS c1 FROM state_changes \
                 WHERE {column} = $1 AND at_ms >= $2 AND at_ms < $3 AND to_status = 'down' \
                 GROUP BY equipment_ref LIMIT {MAX_REPORT_EQUIPMENT}"
            ),
            2,
            vec![Arg::Text(Some(reference)), Arg::Int(from), Arg::Int(to)],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(equipment, count)| (equipment, u32::try_from(count).unwrap_or(u32::MAX)))
            .collect())
    }

    /// The alarms of `place` raised within `[from, to)`, oldest first.
    pub async fn alarms_raised(
        &self,
        actor: &Actor,
        place: &Place,
        from: i64,
        to: i64,
    ) -> Result<Vec<Alarm>, StoreError> {
        require(actor, Permission::ReadAlarms)?;
        let (column, reference) = self.report_place(actor, place).await?;
        let rows: Vec<(String, i64, i64)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT record AS c0, raised_ms AS c1, id AS c2 FROM alarms \
                 WHERE {column} = $1 AND raised_ms >= $2 AND raised_ms < $3 LIMIT {MAX_REPORT_ROWS}"
            ),
            3,
            vec![Arg::Text(Some(reference)), Arg::Int(from), Arg::Int(to)],
        )
        .await?;
        let mut alarms: Vec<(i64, i64, Alarm)> = rows
            .into_iter()
            .map(|(record, raised, id)| Ok((raised, id, crate::stored::alarm::decode(&record)?)))
            .collect::<Result<_, StoreError>>()?;
        alarms.sort_by_key(|(raised, id, _)| (*raised, *id));
        Ok(alarms.into_iter().map(|(_, _, alarm)| alarm).collect())
    }

    /// The tickets of `client` alive during `[from, to)` (received before its end, not closed
    /// before its start), by number, with their SLA outcomes.
    pub async fn tickets_of_period(
        &self,
        actor: &Actor,
        client: &Reference,
        from: i64,
        to: i64,
    ) -> Result<Vec<TicketOfPeriod>, StoreError> {
        require(actor, Permission::ReadTickets)?;
        self.report_place(actor, &Place::Client(client.clone()))
            .await?;
        let rows: Vec<(String, i64)> = crate::page::fetch_unordered(
            &self.read,
            self.backend,
            &format!(
                "SELECT record AS c0, number AS c1 FROM tickets WHERE client_ref = $1 \
                 AND received_ms < $3 AND (closed_ms IS NULL OR closed_ms >= $2) LIMIT {MAX_REPORT_ROWS}"
            ),
            2,
            vec![
                Arg::Text(Some(client.to_string())),
                Arg::Int(from),
                Arg::Int(to),
            ],
        )
        .await?;
        let mut tickets: BTreeMap<i64, TicketOfPeriod> = BTreeMap::new();
        for (record, number) in rows {
            tickets.insert(
                number,
                TicketOfPeriod {
                    ticket: crate::stored::ticket::decode(&record)?,
                    sla: Vec::new(),
                },
            );
        }
        if !tickets.is_empty() {
            let events: Vec<(i64, String)> = crate::page::fetch_unordered(
                &self.read,
                self.backend,
                &format!(
                    "SELECT e.ticket_number AS c0, e.record AS c1 FROM ticket_events e \
                     JOIN tickets t ON t.number = e.ticket_number \
                     WHERE t.client_ref = $1 AND t.received_ms < $3 AND (t.closed_ms IS NULL OR t.closed_ms >= $2) \
                     AND e.event IN ('sla_met', 'sla_breached', 'sla_waived') LIMIT {MAX_REPORT_ROWS}"
                ),
                2,
                vec![
                    Arg::Text(Some(client.to_string())),
                    Arg::Int(from),
                    Arg::Int(to),
                ],
            )
            .await?;
            for (number, record) in events {
                if let Some(ticket) = tickets.get_mut(&number) {
                    ticket
                        .sla
                        .push(crate::stored::ticket_event::decode(&record)?);
                }
            }
            for ticket in tickets.values_mut() {
                ticket.sla.sort_by_key(|event| event.at);
            }
        }
        Ok(tickets.into_values().collect())
    }

    /// The surveys answered within `[from, to)` (SAV-7), for the integrator's analysis.
    pub async fn surveys_answered(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<Vec<SurveyOfPeriod>, StoreError> {
        require(actor, Permission::ReadTickets)?;
        if !actor.is_staff() {
            return Err(StoreError::Forbidden(
                "réservé au personnel de l'intégrateur".into(),
            ));
        }
        let rows: Vec<(i64, i64, String, String, Option<String>, String)> =
            crate::page::fetch_unordered(
                &self.read,
                self.backend,
                &format!(
                    "SELECT e.ticket_number AS c0, e.at_ms AS c1, e.record AS c2, t.client_ref AS c3, \
                     t.assignee_ref AS c4, COALESCE(c.name, t.client_ref) AS c5 \
                     FROM ticket_events e JOIN tickets t ON t.number = e.ticket_number \
                     LEFT JOIN clients c ON c.ref = t.client_ref \
                     WHERE e.event = 'survey_answered' AND e.at_ms >= $1 AND e.at_ms < $2 LIMIT {MAX_REPORT_ROWS}"
                ),
                6,
                vec![Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        let mut surveys = Vec::with_capacity(rows.len());
        for (number, at, record, client, technician, client_name) in rows {
            let event = crate::stored::ticket_event::decode(&record)?;
            let vigie_domain::ticket::desk::EventKind::SurveyAnswered { answers } = event.kind
            else {
                continue;
            };
            surveys.push(SurveyOfPeriod {
                ticket: u64::try_from(number).unwrap_or_default(),
                client,
                client_name,
                technician,
                answered_at: at,
                answers,
            });
        }
        surveys.sort_by_key(|s| (s.answered_at, s.ticket));
        Ok(surveys)
    }
}

/// One format of a report to file.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub title: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A report to file: its kind (`rapport_supervision`, `revue_alarmes`, `analyse_satisfaction`),
/// place and period, its formats, and the emails that send its PDF.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub kind: String,
    /// None for the integrator's own report.
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    /// `2026-11`, or `2026-11-01/2026-11-15` for a period on demand.
    pub period: String,
    pub files: Vec<ReportFile>,
    pub mails: Vec<ReportMail>,
}

/// An email that sends a report's PDF (an attachment), written when the report is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMail {
    /// The idempotency key: `report/<kind>/<client>/<site>/<period>/<recipient>[/…]`.
    pub key: String,
    /// A reference (contact, staff).
    pub recipient: String,
    pub name: String,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The attachment's file name.
    pub file_name: String,
}

/// A report's email as the outbox keeps it (its record: [`crate::stored::outgoing`]): the
/// mail and the document it attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportNotice {
    pub mail: ReportMail,
    /// The document attached (its PDF).
    pub report_document: i64,
}

/// What filing a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// Each format's document, in the order given.
    pub documents: Vec<i64>,
    /// Whether this call filed it (false: it was there already and is left as it was).
    pub new: bool,
    /// Emails queued.
    pub queued: usize,
}

impl Store {
    /// Files `report` in its client's and site's files and queues its emails, in one
    /// transaction. A report of the same kind, place and period already there is left as it
    /// was (and nothing is queued) unless `replace`, which writes the new content over it and
    /// queues its emails (whose keys say whether they were sent already).
    pub async fn file_report(
        &self,
        actor: &Actor,
        report: &NewReport,
        replace: bool,
        now: i64,
    ) -> Result<Filed, StoreError> {
        require(actor, Permission::WriteInventory)?;
        let client = report.client.as_ref().map_or_else(
            || crate::alarms::NO_REFERENCE.to_owned(),
            ToString::to_string,
        );
        let site = report.site.as_ref().map(ToString::to_string);
        let mut transaction = self.write.begin().await?;
        let mut documents = Vec::new();
        let mut new = true;
        for file in &report.files {
            let existing = build(
                "SELECT id FROM documents WHERE kind = $1 AND client_ref = $2 \
                 AND COALESCE(site_ref, '') = $3 AND period = $4 AND content_type = $5",
                vec![
                    Arg::Text(Some(report.kind.clone())),
                    Arg::Text(Some(client.clone())),
                    Arg::Text(Some(site.clone().unwrap_or_default())),
                    Arg::Text(Some(report.period.clone())),
                    Arg::Text(Some(file.content_type.clone())),
                ],
            )
            .fetch_optional(&mut *transaction)
            .await?;
            let id = match existing {
                Some(row) => {
                    let id: i64 = row.try_get(0)?;
                    if !replace {
                        new = false;
                        documents.push(id);
                        continue;
                    }
                    sqlx::query(
                        "UPDATE documents SET title = $1, content = $2, created_ms = $3 WHERE id = $4",
                    )
                    .bind(file.title.clone())
                    .bind(file.content.clone())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
                    id
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO documents (client_ref, site_ref, ticket_number, kind, title, content_type, content, created_ms, period) \
                         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(client.clone())
                    .bind(site.clone())
                    .bind(report.kind.clone())
                    .bind(file.title.clone())
                    .bind(file.content_type.clone())
                    .bind(file.content.clone())
                    .bind(now)
                    .bind(report.period.clone())
                    .fetch_one(&mut *transaction)
                    .await?;
                    id
                }
            };
            documents.push(id);
        }
        let mut queued = 0;
        if new || replace {
            let attached = report
                .files
                .iter()
                .position(|f| f.content_type == "application/pdf")
                .and_then(|i| documents.get(i).copied());
            if let Some(attached) = attached {
                for mail in &report.mails {
                    let notice = ReportNotice {
                        mail: mail.clone(),
                        report_document: attached,
                    };
                    let record = crate::stored::outgoing::encode(
                        &crate::notifications::Outgoing::Report(Box::new(notice)),
                    )?;
                    let done = build(
                        "INSERT INTO notifications (key, alarm_id, ticket_number, client_ref, severity, step, recipient, channel, address, status, attempts, due_ms, created_ms, record) \
                         VALUES ($1, NULL, NULL, $2, 'report', $3, $4, 'email', $5, 'pending', 0, $6, $6, $7) ON CONFLICT (key) DO NOTHING",
                        vec![
                            Arg::Text(Some(mail.key.clone())),
                            Arg::Text(Some(client.clone())),
                            Arg::Text(Some(report.kind.clone())),
                            Arg::Text(Some(mail.recipient.clone())),
                            Arg::Text(Some(mail.address.clone())),
                            Arg::Int(now),
                            Arg::Text(Some(record)),
                        ],
                    )
                    .execute(&mut *transaction)
                    .await?;
                    queued += usize::try_from(done.rows_affected()).unwrap_or(0);
                }
            }
        }
        crate::audit::append(
            &mut transaction,
            &crate::audit::AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: if new {
                    vigie_domain::audit::AuditAction::Create
                } else {
                    vigie_domain::audit::AuditAction::Update
                },
                object_kind: "report",
                object_ref: format!(
                    "{}/{}/{}",
                    report.kind,
                    site.as_deref().unwrap_or(&client),
                    report.period
                ),
                client: report.client.as_ref().map(ToString::to_string),
                before: None,
                after: Some(serde_json::json!({
                    "documents": documents,
                    "replaced": replace && !new,
                    "queued": queued,
                })),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(Filed {
            documents,
            new,
            queued,
        })
    }
}

impl System {
    /// Whether a report of this kind, place and period is filed already (the scheduler's
    /// question before computing it).
    pub async fn report_filed(
        &self,
        kind: &str,
        client: Option<&Reference>,
        site: Option<&Reference>,
        period: &str,
    ) -> Result<bool, StoreError> {
        let row = build(
            "SELECT COUNT(*) FROM documents WHERE kind = $1 AND client_ref = $2 \
             AND COALESCE(site_ref, '') = $3 AND period = $4",
            vec![
                Arg::Text(Some(kind.to_owned())),
                Arg::Text(Some(client.map_or_else(
                    || crate::alarms::NO_REFERENCE.to_owned(),
                    ToString::to_string,
                ))),
                Arg::Text(Some(site.map(ToString::to_string).unwrap_or_default())),
                Arg::Text(Some(period.to_owned())),
            ],
        )
        .fetch_one(&self.read)
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }
}
