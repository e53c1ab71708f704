//! The PDF of each intervention report (CM-8). The service desk files the report as an HTML
//! page in the transaction of the resolution; this loop then lays the same sections out as a
//! PDF (Typst is long work, kept out of that transaction) and files it beside, once per ticket
//! whichever process makes it first.

use std::time::Duration;
use vigie_store::System;

use vigie_domain::access::Actor;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::ticket::desk::TicketNumber;
use vigie_domain::ticket::report::{Names, intervention_report};
use vigie_report::{Block, Document};
use vigie_store::documents::NewDocument;

use super::{REPORTS_ACTOR, generated_label, organisation, records_of};
use crate::AppState;

/// How often reports without their PDF are looked for.
const EVERY: Duration = Duration::from_secs(5);
/// PDFs made per pass at most.
const BATCH: i64 = 10;

/// The PDF of ticket `number`'s intervention report, filed; None when it had one already.
pub async fn file_pdf(
    state: &AppState,
    number: TicketNumber,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    let actor = Actor::console(REPORTS_ACTOR);
    let (ticket, events) = state.store.ticket(&actor, number).await?;
    let client = match state
        .store
        .get(&actor, ObjectKind::Client, &ticket.report.client)
        .await?
    {
        Record::Client(client) => client.name.as_str().to_string(),
        _ => ticket.report.client.to_string(),
    };
    let (site, zone) = match &ticket.report.site {
        Some(site) => match state.store.get(&actor, ObjectKind::Site, site).await {
            Ok(Record::Site(site)) => (Some(site.name.as_str().to_string()), site.time_zone),
            _ => (Some(site.to_string()), Default::default()),
        },
        None => (None, Default::default()),
    };
    let equipment = match &ticket.report.equipment {
        Some(equipment) => match state
            .store
            .get(&actor, ObjectKind::Equipment, equipment)
            .await
        {
            Ok(Record::Equipment(e)) => Some(e.name.as_str().to_string()),
            _ => Some(equipment.to_string()),
        },
        None => None,
    };
    let staff: Vec<(String, String)> = records_of(state, ObjectKind::Staff, None)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Staff(s) => Some((s.reference.to_string(), s.name.as_str().to_string())),
            _ => None,
        })
        .collect();
    let report = intervention_report(
        &ticket,
        &events,
        Names {
            client: &client,
            site: site.as_deref(),
            equipment: equipment.as_deref(),
            zone: &zone,
            staff: &staff,
        },
    );
    let mut blocks = Vec::new();
    for (title, lines) in &report.sections {
        blocks.push(Block::Heading {
            level: 1,
            text: title.clone(),
        });
        blocks.push(Block::List(lines.clone()));
    }
    let created = ticket.resolved_at.unwrap_or(now);
    let document = Document {
        title: report.title.clone(),
        organisation: organisation(state),
        recipient: client,
        period: format!("Ticket n°{number}"),
        generated: generated_label(created),
        created_ms: created,
        blocks,
    };
    let pdf = tokio::task::spawn_blocking(move || vigie_report::pdf(&document)).await??;
    Ok(state
        .store
        .add_document(
            &actor,
            &NewDocument {
                client: &ticket.report.client,
                site: ticket.report.site.as_ref(),
                ticket: Some(number),
                kind: "intervention_report",
                title: &report.title,
                content_type: "application/pdf",
                content: &pdf.bytes,
            },
            now,
        )
        .await?)
}

/// The loop every process runs: the reports filed without their PDF get it.
pub async fn run(state: AppState, system: System) {
    loop {
        match system.intervention_reports_without_pdf(BATCH).await {
            Ok(pending) => {
                for (number, _) in pending {
                    let now = state.clock.now_ms();
                    if let Err(error) = file_pdf(&state, number, now).await {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            ticket = number,
                            "PDF du rapport d'intervention"
                        );
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "rapports d'intervention sans PDF"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
