//! The names of the domain's values on the pages — severities, statuses, conditions,
//! priorities, kinds of equipment — in the viewer's language. The French is the domain's own
//! label, written once there; the English is beside it here, by an exhaustive `match`, so that
//! a new value cannot reach a page without its English (the compiler says so).

use vigie_domain::alarm::lifecycle::{Status as AlarmStatus, Suppression};
use vigie_domain::alarm::rules::Condition;
use vigie_domain::inventory::{EquipmentKind, ObjectKind, Priority, SlaMeasure};
use vigie_domain::oncall::Duty;
use vigie_domain::policy::{Channel, Severity};
use vigie_domain::ticket::Status as TicketStatus;
use vigie_domain::ticket::desk::priority_label;
use vigie_domain::ticket::message::measure_label;

use crate::web::i18n::Lang;

pub fn severity(lang: Lang, severity: Severity) -> &'static str {
    match lang {
        Lang::Fr => severity.label(),
        Lang::En => match severity {
            Severity::Critical => "Critical",
            Severity::Major => "Major",
            Severity::Minor => "Minor",
        },
    }
}

/// What a ticket is about. A client's words stay as written; the text Vigie wrote for an
/// alarm's ticket (« Alarme Critique n°7 : disque presque plein — lieu ») is said again in
/// the viewer's language.
pub fn ticket_problem(lang: Lang, report: &vigie_domain::ticket::desk::Report) -> String {
    let symptom = &report.symptom;
    let (Lang::En, Some(id)) = (lang, report.alarm) else {
        return symptom.clone();
    };
    for level in [Severity::Critical, Severity::Major, Severity::Minor] {
        for kind in Condition::ALL {
            let french = format!("Alarme {} n°{id} : {}", level.label(), kind.label());
            if let Some(rest) = symptom.strip_prefix(&french) {
                return format!(
                    "{} alarm #{id}: {}{rest}",
                    severity(lang, level),
                    condition(lang, kind)
                );
            }
        }
    }
    symptom.clone()
}

pub fn alarm_status(lang: Lang, status: AlarmStatus) -> &'static str {
    match lang {
        Lang::Fr => status.label(),
        Lang::En => match status {
            AlarmStatus::Raised => "raised",
            AlarmStatus::Acknowledged => "acknowledged",
            AlarmStatus::TakenInCharge => "taken in charge",
            AlarmStatus::Resolved => "resolved",
            AlarmStatus::Closed => "closed",
        },
    }
}

pub fn condition(lang: Lang, condition: Condition) -> &'static str {
    match lang {
        Lang::Fr => condition.label(),
        Lang::En => match condition {
            Condition::Unreachable => "equipment unreachable",
            Condition::SignalLost => "video signal lost",
            Condition::RecordingStopped => "recording stopped",
            Condition::DiskFailure => "disk failure",
            Condition::PowerFailure => "power failure",
            Condition::DiskUsage => "disk almost full",
            Condition::Temperature => "high temperature",
            Condition::ClockOutOfSync => "clock out of sync",
            Condition::CertificateExpiring => "certificate expiring soon",
            Condition::VideoStreamLatency => "abnormal video stream latency",
            Condition::ObsoleteFirmware => "obsolete firmware",
            Condition::CamerasOffline => "cameras offline beyond the site's tolerance",
            Condition::NobodyOnCall => "on-call rotation with nobody on call",
            Condition::MailboxUnreadable => {
                "support mailbox unreadable: clients' emails no longer open tickets"
            }
            Condition::MonitoringLost => {
                "site unreachable: monitoring path down, the site is no longer watched"
            }
        },
    }
}

/// Why an alarm was not notified.
pub fn suppression(lang: Lang, suppression: &Suppression) -> String {
    match lang {
        Lang::Fr => suppression.label(),
        Lang::En => match suppression {
            Suppression::Parent { parent } => format!("unreachable through its parent {parent}"),
            Suppression::Maintenance { window, .. } => match window {
                Some(window) => format!("maintenance window “{window}”"),
                None => "maintenance window".into(),
            },
            Suppression::Tolerance {
                offline,
                tolerated,
                site_alarm: None,
            } => format!("{offline} camera(s) offline, {tolerated} tolerated on the site"),
            Suppression::Tolerance {
                site_alarm: Some(id),
                ..
            } => format!("counted in the site's alarm #{id}"),
        },
    }
}

pub fn channel(lang: Lang, channel: Channel) -> &'static str {
    match lang {
        Lang::Fr => channel.label(),
        Lang::En => match channel {
            Channel::Sms => "SMS",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Console => "console",
            Channel::Voice => "voice call",
        },
    }
}

pub fn priority(lang: Lang, priority: Priority) -> &'static str {
    match lang {
        Lang::Fr => priority_label(priority),
        Lang::En => match priority {
            Priority::P1 => "P1 (critical)",
            Priority::P2 => "P2 (standard)",
            Priority::P3 => "P3 (non-critical)",
        },
    }
}

/// How a client chose to be told of its ticket (issue 25, item 12).
pub fn told_by(lang: Lang, told_by: vigie_domain::ticket::desk::ToldBy) -> &'static str {
    use vigie_domain::ticket::desk::ToldBy;
    match (lang, told_by) {
        (Lang::Fr, ToldBy::Email) => "par email",
        (Lang::Fr, ToldBy::Sms) => "par SMS",
        (Lang::Fr, ToldBy::EmailAndSms) => "par email et par SMS",
        (Lang::En, ToldBy::Email) => "by email",
        (Lang::En, ToldBy::Sms) => "by SMS",
        (Lang::En, ToldBy::EmailAndSms) => "by email and SMS",
    }
}

pub fn ticket_status(lang: Lang, status: TicketStatus) -> &'static str {
    match lang {
        Lang::Fr => status.label(),
        Lang::En => match status {
            TicketStatus::New => "new",
            TicketStatus::Acknowledged => "acknowledgement sent",
            TicketStatus::InProgress => "taken in charge",
            TicketStatus::WaitingForClient => "waiting for your reply",
            TicketStatus::OnSite => "technician on site",
            TicketStatus::Resolved => "resolved, to be confirmed",
            TicketStatus::Closed => "closed",
        },
    }
}

/// A ticket's deadline, by what it measures.
pub fn measure(lang: Lang, measure: SlaMeasure) -> &'static str {
    match lang {
        Lang::Fr => measure_label(measure),
        Lang::En => match measure {
            SlaMeasure::Acknowledgement => "acknowledgement",
            SlaMeasure::TakeCharge => "taking in charge",
            SlaMeasure::OnSite => "on-site intervention",
            SlaMeasure::InterventionPlanning => "intervention planning",
            SlaMeasure::ClientUpdate => "progress update to the client",
        },
    }
}

pub fn equipment_kind(lang: Lang, kind: EquipmentKind) -> &'static str {
    match lang {
        Lang::Fr => kind.french(),
        Lang::En => match kind {
            EquipmentKind::Camera => "camera",
            EquipmentKind::Nvr => "recorder",
            EquipmentKind::VmsServer => "VMS server",
            EquipmentKind::Switch => "switch",
            EquipmentKind::PowerSupply => "power supply",
            EquipmentKind::AccessControl => "access control",
            EquipmentKind::Other => "other",
        },
    }
}

pub fn object_kind(lang: Lang, kind: ObjectKind) -> &'static str {
    match lang {
        Lang::Fr => kind.french(),
        Lang::En => match kind {
            ObjectKind::Client => "client",
            ObjectKind::Contact => "contact",
            ObjectKind::Contract => "contract",
            ObjectKind::Staff => "staff member",
            ObjectKind::Site => "site",
            ObjectKind::Equipment => "equipment",
            ObjectKind::Territory => "territory",
        },
    }
}

/// A staff member's role.
pub fn staff_role(lang: Lang, role: vigie_domain::inventory::StaffRole) -> &'static str {
    use vigie_domain::inventory::StaffRole;
    match lang {
        Lang::Fr => role.french(),
        Lang::En => match role {
            StaffRole::Technician => "technician",
            StaffRole::OnCallManager => "on-call manager",
            StaffRole::TechnicalManager => "technical manager",
            StaffRole::OperationsManager => "operations manager",
            StaffRole::ReferentEngineer => "referent engineer",
            StaffRole::Supervision => "supervision team",
            StaffRole::Administrator => "administrator",
        },
    }
}

/// The duty of an on-call rotation.
pub fn duty(lang: Lang, duty: Duty) -> &'static str {
    match lang {
        Lang::Fr => duty.french(),
        Lang::En => match duty {
            Duty::Technician => "on-call technician",
            Duty::Manager => "on-call manager",
        },
    }
}

/// An escalation step as people read it: « Critique — astreinte, relance 2 » for the policy's
/// `critical/astreinte#2` (issue 25: no policy keys on a page). The French is the domain's;
/// the step's own name is the policy's, as written.
pub fn escalation_step(lang: Lang, label: &str) -> String {
    use vigie_domain::alarm::escalation::{step_parts, step_words};
    match (lang, step_parts(label)) {
        (Lang::En, Some((level, step, round))) => {
            let step = step.replace(['_', '-'], " ");
            match round {
                None => format!("{} — {step}", severity(lang, level)),
                Some(n) => format!("{} — {step}, reminder {n}", severity(lang, level)),
            }
        }
        _ => step_words(label),
    }
}

/// A contract's level, as the desk reads it when a client calls.
pub fn contract_tier(lang: Lang, tier: vigie_domain::inventory::ContractTier) -> &'static str {
    use vigie_domain::inventory::ContractTier;
    match (lang, tier) {
        (Lang::Fr, ContractTier::Standard) => "contrat standard",
        (Lang::Fr, ContractTier::Premium) => "contrat premium",
        (Lang::En, ContractTier::Standard) => "standard contract",
        (Lang::En, ContractTier::Premium) => "premium contract",
    }
}

/// A contract's option, as the desk reads it when a client calls.
pub fn contract_option(
    lang: Lang,
    option: vigie_domain::inventory::ContractOption,
) -> &'static str {
    use vigie_domain::inventory::ContractOption;
    match (lang, option) {
        (Lang::Fr, ContractOption::Supervision) => "supervision",
        (Lang::Fr, ContractOption::RoundTheClock) => "délais critiques 24 h/24",
        (Lang::Fr, ContractOption::Dashboard) => "tableau de bord",
        (Lang::Fr, ContractOption::DirectNotifications) => "alertes directes au client",
        (Lang::En, ContractOption::Supervision) => "supervision",
        (Lang::En, ContractOption::RoundTheClock) => "critical deadlines round the clock",
        (Lang::En, ContractOption::Dashboard) => "dashboard",
        (Lang::En, ContractOption::DirectNotifications) => "direct alerts to the client",
    }
}
