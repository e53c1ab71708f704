//! The histories of an alarm and of a ticket in the viewer's language. The French is the
//! domain's own account of each event (the same lines as the post-mortem's timeline); the
//! English is written here beside it, by exhaustive `match`es, so that a new kind of event
//! cannot reach a page without its English. What people typed (a cause, a reason, a subject)
//! and the escalation steps' names (the policy's) stay as written.

use vigie_domain::alarm::lifecycle::{EventKind as AlarmEventKind, SeverityCause};
use vigie_domain::text::shorten;
use vigie_domain::ticket::Action;
use vigie_domain::ticket::desk::{EventKind as TicketEventKind, Note, TicketEvent};
use vigie_domain::ticket::post_mortem::timeline;

use crate::web::i18n::Lang;
use crate::web::labels;

/// One line of an alarm's history.
pub fn alarm_event(lang: Lang, kind: &AlarmEventKind) -> String {
    if lang == Lang::Fr {
        return kind.describe();
    }
    let severity = |s| labels::severity(lang, s);
    match kind {
        AlarmEventKind::Raised {
            condition,
            severity: raised,
            ..
        } => format!(
            "Alarm raised ({}): {}",
            severity(*raised),
            labels::condition(lang, condition.condition)
        ),
        AlarmEventKind::Suppressed { suppression } => format!(
            "Recorded without notification: {}",
            labels::suppression(lang, suppression)
        ),
        AlarmEventKind::Notified { severity: notified } => {
            format!("Passed on to notification ({})", severity(*notified))
        }
        AlarmEventKind::SeverityChanged { to, cause, .. } => match cause {
            SeverityCause::Worsened => format!("Severity changed: {}", severity(*to)),
            SeverityCause::Unresolved => format!(
                "Severity changed: {} (unresolved 8 h after its notification)",
                severity(*to)
            ),
        },
        AlarmEventKind::FlappingStarted => "Flapping: the state keeps changing".into(),
        AlarmEventKind::FlappingEnded => "Stable again".into(),
        AlarmEventKind::CamerasChanged { cameras } => {
            format!("Cameras offline: {}", cameras.len())
        }
        AlarmEventKind::Acknowledged => "Alarm acknowledged".into(),
        AlarmEventKind::TakenInCharge => "Alarm taken in charge".into(),
        AlarmEventKind::Resolved { .. } => "Condition gone".into(),
        AlarmEventKind::Closed { report } => {
            format!("Alarm closed: {}", shorten(&report.root_cause, 300))
        }
        AlarmEventKind::Escalated { step, told, .. } => {
            let names: Vec<&str> = told.iter().map(|t| t.name.as_str()).collect();
            format!("Escalation “{step}”: {}", shorten(&names.join(", "), 300))
        }
        AlarmEventKind::NotificationFailed { recipient, .. } => {
            format!("Notification to {recipient} failed")
        }
    }
}

/// One line of a ticket's history: when, by whom, what.
#[derive(Debug)]
pub struct Line {
    pub at: i64,
    pub by: Option<String>,
    pub what: String,
}

/// A ticket's history, in order of time, without the bookkeeping events the timeline leaves
/// out (status changes, deadlines set, paused or warned of).
pub fn ticket_lines(lang: Lang, events: &[TicketEvent]) -> Vec<Line> {
    if lang == Lang::Fr {
        return timeline(events, &[])
            .into_iter()
            .map(|entry| Line {
                at: entry.at,
                by: entry.by,
                what: entry.what,
            })
            .collect();
    }
    let mut lines: Vec<Line> = events
        .iter()
        .filter_map(|event| {
            ticket_event_english(&event.kind).map(|what| Line {
                at: event.at,
                by: event.by.as_ref().map(ToString::to_string),
                what,
            })
        })
        .collect();
    // Stable, as the domain's timeline: events of one instant keep their recorded order.
    lines.sort_by_key(|line| line.at);
    lines
}

fn ticket_event_english(kind: &TicketEventKind) -> Option<String> {
    let lang = Lang::En;
    let priority = |p| labels::priority(lang, p);
    let measure = |m| labels::measure(lang, m);
    Some(match kind {
        TicketEventKind::Opened { priority: p, .. } => {
            format!("Ticket opened, priority {}", priority(*p))
        }
        TicketEventKind::Requalified { from, to, reason } => format!(
            "Priority re-evaluated from {} to {}: {}",
            priority(*from),
            priority(*to),
            shorten(reason, 300)
        ),
        TicketEventKind::Assigned { to } => format!("Assigned to {to}"),
        TicketEventKind::SlaWaived { timer } => {
            format!("Deadline waived, no visit needed: {}", measure(*timer))
        }
        TicketEventKind::Located { site, equipment } => match (site, equipment) {
            (Some(site), Some(equipment)) => {
                format!("Attached to site {site}, equipment {equipment}")
            }
            (Some(site), None) => format!("Attached to site {site}"),
            _ => "Attachment changed".into(),
        },
        TicketEventKind::Action { action } => format!("Step: {}", action_english(*action)),
        TicketEventKind::Status { .. }
        | TicketEventKind::SlaDue { .. }
        | TicketEventKind::SlaPaused { .. }
        | TicketEventKind::SlaWarning { .. } => return None,
        TicketEventKind::SlaMet { timer, .. } => format!("Deadline met: {}", measure(*timer)),
        TicketEventKind::SlaBreached { timer, .. } => {
            format!("Deadline missed: {}", measure(*timer))
        }
        TicketEventKind::MessageQueued { recipient, .. } => format!("Message to {recipient}"),
        TicketEventKind::MessageFailed {
            recipient, error, ..
        } => format!("Message to {recipient} failed: {}", shorten(error, 200)),
        TicketEventKind::ClosureReminder { .. } => "Closure reminder to the client".into(),
        TicketEventKind::AutoClosed => "Closed without an answer from the client".into(),
        TicketEventKind::FollowUp { relapses, .. } => match relapses.len() {
            0 => "Follow-up: no relapse".into(),
            1 => "Follow-up: 1 relapse".into(),
            n => format!("Follow-up: {n} relapses"),
        },
        TicketEventKind::Noted { note } => match note {
            Note::Message { with, text, .. } => {
                format!("Message with {with}: {}", shorten(text, 300))
            }
            Note::Call { with, summary, .. } => {
                format!("Call with {with}: {}", shorten(summary, 300))
            }
            Note::Diagnosis { result, .. } => format!("Diagnosis: {}", shorten(result, 300)),
            Note::Intervention { technician, .. } => {
                format!("Intervention planned with {technician}")
            }
            Note::Escalation { to, reason } => {
                format!("Escalated to {to}: {}", shorten(reason, 300))
            }
        },
        TicketEventKind::SurveyAnswered { .. } => "Satisfaction survey answered".into(),
        TicketEventKind::Recurrence { review, .. } => {
            format!("Recurring incident: technical review #{review}")
        }
        TicketEventKind::ClosedWithoutConfirmation { reason } => {
            format!(
                "Closed without the client's written confirmation: {}",
                shorten(reason, 300)
            )
        }
        TicketEventKind::AlarmGrouped { alarm, .. } => {
            format!("Minor alarm #{alarm} grouped into this ticket")
        }
        TicketEventKind::AlarmEscalated {
            alarm,
            step,
            from,
            to,
        } => {
            if from == to {
                format!("Alarm #{alarm} escalated ({step})")
            } else {
                format!("Alarm #{alarm} escalated ({step}): the ticket becomes an intervention")
            }
        }
        TicketEventKind::AlarmClosed { alarm, report } => format!(
            "Alarm #{alarm} closed: {}",
            shorten(&report.root_cause, 300)
        ),
        TicketEventKind::MailReceived { from, subject, .. } => {
            format!("Email from {from}: {}", shorten(subject, 200))
        }
        TicketEventKind::Resolved { resolution, .. } => format!(
            "Resolved: {} ({} min of intervention)",
            shorten(&resolution.root_cause, 300),
            resolution.intervention_minutes
        ),
        TicketEventKind::GdprInformed => "Client informed of the data lost (GDPR)".into(),
        TicketEventKind::GdprOverdue { .. } => "GDPR information overdue".into(),
        TicketEventKind::PostMortemDue { .. } => "Post-mortem to write".into(),
        TicketEventKind::PostMortemWritten => "Post-mortem written".into(),
        TicketEventKind::PostMortemPublished => "Post-mortem shared with the client".into(),
        TicketEventKind::PostMortemOverdue { .. } => "Post-mortem overdue".into(),
    })
}

fn action_english(action: Action) -> &'static str {
    match action {
        Action::Acknowledge => "acknowledgement",
        Action::TakeCharge => "taking in charge",
        Action::PlanIntervention => "intervention planned",
        Action::ArriveOnSite => "arrival on site",
        Action::UpdateClient => "update to the client",
        Action::WaitForClient => "waiting for the client",
        Action::ClientReplied => "client's reply",
        Action::Resolve => "resolution",
        Action::ClientConfirms => "client's confirmation",
        Action::Close => "closure",
    }
}
