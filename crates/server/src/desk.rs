//! The service desk's SLA worker (INC-3: SLA follow-up is automated): every second it breaches
//! the ticket deadlines that have passed, each ticket in its own transaction, so that a
//! breach is written at its deadline (the event carries the deadline as its instant) even after
//! a restart. Several processes may run it: a ticket is re-read under a lock before it changes.

use std::time::Duration;
use vigie_store::System;

use crate::AppState;

/// How often due deadlines are looked for.
const EVERY: Duration = Duration::from_secs(1);
/// Tickets breached per pass at most; the rest wait for the next pass.
pub(crate) const BATCH: i64 = 200;

/// One pass: the deadlines due now.
pub async fn step(state: &AppState, system: &System) -> Result<usize, vigie_store::StoreError> {
    let now = state.clock.now_ms();
    let changes = system
        .ticket_timers_due(&state.escalation().policy, now, BATCH)
        .await?;
    for change in &changes {
        state.live.publish(
            crate::web::Topic::Tickets,
            Some(change.ticket.report.client.clone()),
        );
        for event in &change.events {
            if let vigie_domain::ticket::desk::EventKind::SlaBreached { timer, due } = &event.kind {
                tracing::warn!(
                    ticket = change.ticket.number,
                    ?timer,
                    due,
                    "délai SLA dépassé"
                );
            }
        }
    }
    Ok(changes.len())
}

/// The worker's loop.
pub async fn run(state: AppState, system: System) {
    loop {
        match step(&state, &system).await {
            Ok(count) if count as i64 >= BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "délais SLA des tickets"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
