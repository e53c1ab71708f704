//! Messages about a ticket, written in French when they are queued (SAV-2: the acknowledgement
//! to the client with the ticket number and the take-charge deadline; INC-3: a missed deadline
//! told to the operations manager). They go through the same outbox as the alarms' pages, each
//! under an idempotency key naming the ticket, the purpose, the recipient and the channel.

use serde::{Deserialize, Serialize};

use crate::TimeZoneName;
use crate::alarm::escalation::{Message, channel_key, clip, local};
use crate::inventory::{Priority, SlaMeasure};
use crate::markup::escape;
use crate::policy::Channel;
use crate::policy::Policy;
use crate::ticket::desk::{Terms, Ticket, TicketNumber, priority_label};

/// Why a message about a ticket is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// SAV-2: the acknowledgement with the ticket number; once sent, the ticket is
    /// acknowledged (its SLA timer met).
    Acknowledgement,
    /// INC-3: a deadline was missed.
    SlaBreach,
    /// SAV-6: the fix awaits the client's confirmation.
    ClosureReminder,
    /// SAV-7: the satisfaction survey after closure; its text holds [`LINK`], replaced by
    /// the signed link when the message is sent.
    Survey,
    /// INC-4: the incident is taken in charge (P1, P2).
    TakeChargeNotice,
    /// INC-4: news of the incident, at the priority's cadence.
    ClientUpdate,
    /// INC-5, SAV-6: the ticket is resolved: what was found and done, and a signed link to
    /// confirm the fix ([`LINK`]).
    ResolutionNotice,
    /// INC-5: security data was lost: the client, controller of that data under the GDPR, is
    /// informed by its own deadline; once sent, the duty is met.
    GdprInformation,
    /// INC-6: the post-mortem of a P1, shared with the client.
    PostMortem,
    /// INC-3, INC-4: a deadline is near, told to the one in charge.
    SlaWarning,
    /// CM-8: the report of a corrective intervention, sent to the client.
    InterventionReport,
}

/// Where a survey message's signed link goes, replaced at sending (the link is signed with
/// the server's key and names its public address, which the store does not know).
pub const LINK: &str = "{lien}";

/// The line of a resolution notice or closure reminder that offers to confirm by replying
/// (SAV-6): written at sending as [`REPLY_LINE`] when the server reads the support mailbox,
/// removed otherwise.
pub const REPLY: &str = "{reponse}";
pub const REPLY_LINE: &str =
    "Vous pouvez aussi répondre à ce message en écrivant simplement « CONFIRMÉ ».";

/// Writes or removes the [`REPLY`] line of `text` (plain text or HTML).
pub fn with_reply_line(text: &str, mailbox_read: bool) -> String {
    if mailbox_read {
        text.replace(REPLY, REPLY_LINE)
    } else {
        text.replace(&format!("<li>{REPLY}</li>"), "")
            .replace(&format!("{REPLY}\n"), "")
            .replace(REPLY, "")
    }
}

impl Purpose {
    pub fn key(self) -> &'static str {
        match self {
            Purpose::Acknowledgement => "acknowledgement",
            Purpose::SlaBreach => "sla_breach",
            Purpose::ClosureReminder => "closure_reminder",
            Purpose::Survey => "survey",
            Purpose::TakeChargeNotice => "take_charge_notice",
            Purpose::ClientUpdate => "client_update",
            Purpose::ResolutionNotice => "resolution_notice",
            Purpose::GdprInformation => "gdpr_information",
            Purpose::PostMortem => "post_mortem",
            Purpose::SlaWarning => "sla_warning",
            Purpose::InterventionReport => "intervention_report",
        }
    }
}

/// One message about a ticket to one recipient by one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketNotice {
    /// The idempotency key: `ticket/<n>/<purpose>[/<detail>]/<recipient>/<channel>`.
    pub key: String,
    pub ticket: TicketNumber,
    pub priority: Priority,
    pub purpose: Purpose,
    /// A reference (staff, contact) or the address itself for a reporter outside Vigie.
    pub recipient: String,
    pub name: String,
    pub channel: Channel,
    pub address: String,
    pub message: Message,
}

/// Who receives a message, by which channel and at which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub recipient: String,
    pub name: String,
    pub channel: Channel,
    pub address: String,
}

fn notice(
    ticket: &Ticket,
    purpose: Purpose,
    detail: Option<&str>,
    to: &Addressee,
    message: Message,
) -> TicketNotice {
    let detail = detail.map(|d| format!("{d}/")).unwrap_or_default();
    TicketNotice {
        key: format!(
            "ticket/{}/{}/{detail}{}/{}",
            ticket.number,
            purpose.key(),
            to.recipient,
            channel_key(to.channel)
        ),
        ticket: ticket.number,
        priority: ticket.priority,
        purpose,
        recipient: to.recipient.clone(),
        name: to.name.clone(),
        channel: to.channel,
        address: to.address.clone(),
        message,
    }
}

/// SAV-2: the acknowledgement goes at once when the acknowledgement's calendar is open (or the
/// ticket is P1), else at its next opening ("at the next morning's opening for non-urgent
/// requests received outside hours").
pub fn acknowledgement_due(policy: &Policy, terms: Terms, ticket: &Ticket, now: i64) -> i64 {
    if ticket.priority == Priority::P1 {
        return now;
    }
    let calendar = policy
        .sla_deadline(
            ticket.priority,
            SlaMeasure::Acknowledgement,
            terms.tier,
            terms.round_the_clock,
        )
        .and_then(|deadline| policy.calendar(&deadline.calendar).cloned());
    let Some(calendar) = calendar else {
        return now;
    };
    if calendar.is_open(now) {
        return now;
    }
    calendar.next_opening(now).unwrap_or(now)
}

/// A timer's name, in French.
pub fn measure_label(measure: SlaMeasure) -> &'static str {
    match measure {
        SlaMeasure::Acknowledgement => "accusé de réception",
        SlaMeasure::TakeCharge => "prise en charge",
        SlaMeasure::OnSite => "intervention sur site",
        SlaMeasure::InterventionPlanning => "planification de l'intervention",
        SlaMeasure::ClientUpdate => "point d'avancement au client",
    }
}

fn html(title: &str, lines: &[String]) -> String {
    let mut html = String::from("<!DOCTYPE html><html lang=\"fr\"><body>");
    html.push_str(&format!("<h1>{}</h1><ul>", escape(title)));
    for line in lines.iter().filter(|l| !l.is_empty()) {
        html.push_str(&format!("<li>{}</li>", escape(line)));
    }
    html.push_str("</ul></body></html>");
    html
}

/// SAV-2: the acknowledgement to the client — the ticket number, what was understood, its
/// priority and the take-charge deadline for it, in the site's time zone.
pub fn acknowledgement(
    ticket: &Ticket,
    to: &Addressee,
    site_name: Option<&str>,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(
        &format!(
            "[Vigie] Votre demande est enregistrée : ticket n°{number} — {}",
            ticket.report.symptom
        ),
        200,
    );
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!("Votre demande est enregistrée sous le numéro {number}."),
        format!("Objet : {}", clip(&ticket.report.symptom, 500)),
    ];
    if let Some(site) = site_name {
        lines.push(format!("Site : {site}"));
    }
    lines.push(format!("Priorité : {}", priority_label(ticket.priority)));
    lines.push(format!("Reçue le {}", local(ticket.received_at, &zone)));
    if let Some(due) = ticket.sla.dues().get(&SlaMeasure::TakeCharge) {
        lines.push(format!(
            "Prise en charge au plus tard le {}",
            local(*due, &zone)
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Rappelez ce numéro ({number}) dans vos échanges : une réponse à cet email avec « ticket n°{number} » dans l'objet s'ajoute au ticket."
    ));
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!(
            "Vigie : demande enregistrée, ticket {number}, {}.",
            priority_label(ticket.priority)
        ),
        320,
    );
    notice(
        ticket,
        Purpose::Acknowledgement,
        None,
        to,
        Message {
            html: html(&format!("Ticket n°{number} enregistré"), &lines[2..]),
            subject,
            text,
            sms,
        },
    )
}

/// Whether a message of this purpose carries a signed link, and to which page: the survey
/// (SAV-7) or the confirmation of the fix (SAV-6).
pub fn link_page(purpose: Purpose) -> Option<&'static str> {
    match purpose {
        Purpose::Survey => Some("survey"),
        Purpose::ResolutionNotice | Purpose::ClosureReminder => Some("confirm"),
        _ => None,
    }
}

/// INC-5, SAV-6: the ticket is resolved — the root cause and the actions when known (the
/// closure report of its alarm, CLO-1) — and the client is asked to confirm by a signed link.
pub fn resolution_notice(ticket: &Ticket, to: &Addressee, zone: &TimeZoneName) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(
        &format!("[Vigie] Ticket n°{number} résolu : merci de confirmer"),
        200,
    );
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "Votre demande n°{number} est résolue : {}",
            clip(&ticket.report.symptom, 500)
        ),
    ];
    if let Some(resolved) = ticket.resolved_at {
        lines.push(format!("Résolue le {}", local(resolved, &zone)));
    }
    if let Some(report) = &ticket.resolution {
        lines.push(format!("Cause : {}", clip(&report.root_cause, 1000)));
        lines.push(format!("Actions menées : {}", clip(&report.actions, 1000)));
    }
    if let Some(impact) = &ticket.data_impact {
        lines.push(data_impact_line(impact));
        if impact.data_lost() {
            lines.push(
                "Cette perte de données vous est signalée à part, au titre du RGPD.".to_owned(),
            );
        }
    }
    lines.push(format!(
        "Confirmez que le problème est réglé : {LINK} (ou dans le portail)."
    ));
    lines.push(REPLY.to_owned());
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!("Vigie : ticket {number} résolu, confirmez : {LINK}"),
        320,
    );
    notice(
        ticket,
        Purpose::ResolutionNotice,
        None,
        to,
        Message {
            html: html(&format!("Ticket n°{number} résolu"), &lines[2..]),
            subject,
            text,
            sms,
        },
    )
}

/// INC-6: the post-mortem shared with the client: the timeline, the root-cause analysis and
/// the measures with their owners and due dates.
pub fn post_mortem_notice(
    ticket: &Ticket,
    post_mortem: &super::post_mortem::PostMortem,
    timeline: &[super::post_mortem::TimelineEntry],
    to: &Addressee,
    zone: &TimeZoneName,
) -> TicketNotice {
    use super::post_mortem::MeasureKind;
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(
        &format!("[Vigie] Post-mortem de l'incident n°{number}"),
        200,
    );
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "Voici le post-mortem de l'incident n°{number} : {}",
            clip(&ticket.report.symptom, 500)
        ),
        String::new(),
        "Chronologie :".to_owned(),
    ];
    // The message stays readable: the first 200 lines of the timeline (the API has it all).
    for entry in timeline.iter().take(200) {
        lines.push(format!(
            "- {} ({}) {}",
            local(entry.at, &zone),
            entry.source,
            clip(&entry.what, 300)
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Analyse des causes : {}",
        clip(&post_mortem.analysis, 4000)
    ));
    for (kind, title) in [
        (MeasureKind::Corrective, "Mesures correctives :"),
        (MeasureKind::Preventive, "Mesures préventives :"),
    ] {
        lines.push(title.to_owned());
        for measure in post_mortem.measures.iter().filter(|m| m.kind == kind) {
            lines.push(format!(
                "- {} — responsable : {}, échéance : {}",
                clip(&measure.action, 1000),
                clip(&measure.owner, 200),
                local(measure.due, &zone)
            ));
        }
    }
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!("Vigie : le post-mortem de l'incident {number} vous a été envoyé par email."),
        320,
    );
    notice(
        ticket,
        Purpose::PostMortem,
        None,
        to,
        Message {
            html: html(
                &format!("Post-mortem de l'incident n°{number}"),
                &lines[2..],
            ),
            subject,
            text,
            sms,
        },
    )
}

/// INC-5: the impact on the security data, in one line.
pub fn data_impact_line(impact: &super::desk::DataImpact) -> String {
    let mut lost = Vec::new();
    if impact.footage_lost {
        lost.push("enregistrements vidéo perdus");
    }
    if impact.accesses_untracked {
        lost.push("accès non tracés");
    }
    if lost.is_empty() {
        "Impact sur les données de sécurité : aucune perte de données.".to_owned()
    } else {
        format!(
            "Impact sur les données de sécurité : {} — {}",
            lost.join(", "),
            clip(&impact.description, 1000)
        )
    }
}

/// INC-5: security data was lost during the incident: the client, controller of that data
/// (GDPR), is told what was lost, when, why and what was done, so that it can meet its own
/// duties (a notification to the CNIL within 72 hours of becoming aware of a breach).
pub fn gdpr_information(ticket: &Ticket, to: &Addressee, zone: &TimeZoneName) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(
        &format!("[Vigie] Ticket n°{number} : perte de données de sécurité (RGPD)"),
        200,
    );
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "L'incident n°{number} a entraîné une perte de données de sécurité : {}",
            clip(&ticket.report.symptom, 500)
        ),
    ];
    if let Some(impact) = &ticket.data_impact {
        lines.push(data_impact_line(impact));
    }
    if let Some(gdpr) = &ticket.gdpr {
        lines.push(format!("Constatée le {}", local(gdpr.known_at, &zone)));
    }
    if let Some(report) = &ticket.resolution {
        lines.push(format!("Cause : {}", clip(&report.root_cause, 1000)));
        lines.push(format!("Mesures prises : {}", clip(&report.actions, 1000)));
    }
    lines.push(
        "En tant que responsable de traitement, il vous revient d'apprécier si cette perte \
         constitue une violation de données à notifier à la CNIL dans les 72 heures suivant sa \
         connaissance (RGPD, article 33) ; nous restons à votre disposition pour tout élément \
         utile."
            .to_owned(),
    );
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!(
            "Vigie : l'incident {number} a entraîné une perte de données de sécurité (RGPD) : détails par email."
        ),
        320,
    );
    notice(
        ticket,
        Purpose::GdprInformation,
        None,
        to,
        Message {
            html: html(
                &format!("Ticket n°{number} : perte de données"),
                &lines[2..],
            ),
            subject,
            text,
            sms,
        },
    )
}

/// SAV-6: the ticket is resolved and the client has not confirmed it: a reminder, with when
/// it will be closed without an answer.
pub fn closure_reminder(
    ticket: &Ticket,
    to: &Addressee,
    close_at: i64,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(
        &format!("[Vigie] Ticket n°{number} résolu : merci de confirmer"),
        200,
    );
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "Nous avons résolu votre demande n°{number} : {}",
            clip(&ticket.report.symptom, 500)
        ),
    ];
    if let Some(resolved) = ticket.resolved_at {
        lines.push(format!("Résolue le {}", local(resolved, &zone)));
    }
    lines.push(format!(
        "Merci de confirmer que le problème est réglé : {LINK} (ou dans le portail)."
    ));
    lines.push(REPLY.to_owned());
    lines.push(format!(
        "Sans réponse de votre part, le ticket sera clos le {}.",
        local(close_at, &zone)
    ));
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!(
            "Vigie : ticket {number} résolu, merci de confirmer ; clos sans réponse le {}.",
            local(close_at, &zone)
        ),
        320,
    );
    notice(
        ticket,
        Purpose::ClosureReminder,
        None,
        to,
        Message {
            html: html(&format!("Ticket n°{number} résolu"), &lines[2..]),
            subject,
            text,
            sms,
        },
    )
}

/// SAV-7: the satisfaction survey, sent at closure (within 48 h): three questions by a signed
/// link, no login.
pub fn survey(ticket: &Ticket, to: &Addressee) -> TicketNotice {
    let number = ticket.number;
    let subject = clip(&format!("[Vigie] Votre avis sur le ticket n°{number}"), 200);
    let lines = [
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "Votre demande n°{number} est close : {}",
            clip(&ticket.report.symptom, 300)
        ),
        "Trois questions, une minute : réactivité, qualité de la solution, communication."
            .to_owned(),
        format!("Donner votre avis : {LINK}"),
    ];
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!("Vigie : votre avis sur le ticket {number} ? {LINK}"),
        320,
    );
    notice(
        ticket,
        Purpose::Survey,
        None,
        to,
        Message {
            html: html(&format!("Votre avis sur le ticket n°{number}"), &lines[2..]),
            subject,
            text,
            sms,
        },
    )
}

/// INC-4: the client is told at once that its incident is taken in charge, by whom, and when
/// the next news is due.
pub fn take_charge_notice(
    ticket: &Ticket,
    to: &Addressee,
    technician: &str,
    next_update: Option<i64>,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(&format!("[Vigie] Ticket n°{number} pris en charge"), 200);
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!(
            "Votre incident n°{number} ({}) est pris en charge par {technician}.",
            priority_label(ticket.priority)
        ),
        format!("Objet : {}", clip(&ticket.report.symptom, 500)),
    ];
    if let Some(next) = next_update {
        lines.push(format!(
            "Prochain point au plus tard le {}",
            local(next, &zone)
        ));
    }
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!("Vigie : incident {number} pris en charge par {technician}."),
        320,
    );
    notice(
        ticket,
        Purpose::TakeChargeNotice,
        None,
        to,
        Message {
            html: html(&format!("Ticket n°{number} pris en charge"), &lines[2..]),
            subject,
            text,
            sms,
        },
    )
}

/// INC-4: a point on the incident, written by the one in charge from the template, with when
/// the next one is due. `sequence` tells the points apart (their idempotency keys).
pub fn client_update(
    ticket: &Ticket,
    to: &Addressee,
    text: &str,
    sequence: i64,
    next_update: Option<i64>,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let subject = clip(&format!("[Vigie] Point sur le ticket n°{number}"), 200);
    let mut lines = vec![
        format!("Bonjour {},", to.name),
        String::new(),
        format!("Point sur votre incident n°{number} :"),
        clip(text, 4000),
    ];
    if let Some(next) = next_update {
        lines.push(format!(
            "Prochain point au plus tard le {}",
            local(next, &zone)
        ));
    }
    let body = lines.join("\n") + "\n";
    let sms = clip(&format!("Vigie, ticket {number} : {text}"), 320);
    notice(
        ticket,
        Purpose::ClientUpdate,
        Some(&sequence.to_string()),
        to,
        Message {
            html: html(&format!("Point sur le ticket n°{number}"), &lines[2..]),
            subject,
            text: body,
            sms,
        },
    )
}

/// CM-8: the intervention report to the client, the document itself as the email's HTML.
/// `version` tells the reports of one ticket apart (a relapse resolved again).
pub fn intervention_report_notice(
    ticket: &Ticket,
    document: &super::report::Document,
    version: i64,
    to: &Addressee,
) -> TicketNotice {
    let number = ticket.number;
    let subject = clip(
        &format!("[Vigie] Rapport d'intervention — ticket n°{number}"),
        200,
    );
    let text = format!("Bonjour {},\n\n{}", to.name, document.text);
    notice(
        ticket,
        Purpose::InterventionReport,
        Some(&version.to_string()),
        to,
        Message {
            html: document.html.clone(),
            subject,
            text,
            sms: clip(
                &format!("Vigie : rapport d'intervention du ticket {number} envoyé par email."),
                320,
            ),
        },
    )
}

/// INC-3, INC-4: a deadline of the ticket is near: the one in charge (or the supervision
/// console) is told which, and when; for a client update, that the client's point is due.
pub fn warning(
    ticket: &Ticket,
    measure: SlaMeasure,
    due: i64,
    to: &Addressee,
    client_name: &str,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let what = measure_label(measure);
    let when = local(due, &zone);
    let subject = clip(
        &format!("[Vigie] Échéance proche : {what} du ticket n°{number} ({client_name}) à {when}"),
        200,
    );
    let mut lines = vec![
        format!("Échéance proche : {what}, le {when}"),
        format!("Ticket n°{number} : {}", clip(&ticket.report.symptom, 500)),
        format!("Client : {client_name}"),
        format!("Priorité : {}", priority_label(ticket.priority)),
    ];
    if measure == SlaMeasure::ClientUpdate {
        lines.push(
            "Le point d'avancement au client est dû (INC-4) : POST /api/v1/tickets/{n}/updates."
                .replace("{n}", &number.to_string()),
        );
    }
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!("Vigie : {what} du ticket {number} ({client_name}) due le {when}."),
        320,
    );
    notice(
        ticket,
        Purpose::SlaWarning,
        Some(&format!("{}-{due}", measure_key(measure))),
        to,
        Message {
            html: html(&lines[0], &lines[1..]),
            subject,
            text,
            sms,
        },
    )
}

fn measure_key(measure: SlaMeasure) -> &'static str {
    match measure {
        SlaMeasure::Acknowledgement => "acknowledgement",
        SlaMeasure::TakeCharge => "take_charge",
        SlaMeasure::OnSite => "on_site",
        SlaMeasure::InterventionPlanning => "intervention_planning",
        SlaMeasure::ClientUpdate => "client_update",
    }
}

/// What a breach alert is about: an SLA deadline (INC-3), or the deadline to inform the
/// client of lost data (INC-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    Sla(SlaMeasure),
    GdprInformation,
    /// INC-6: a P1's post-mortem not shared in time.
    PostMortem,
}

impl Missed {
    fn label(self) -> &'static str {
        match self {
            Missed::Sla(measure) => measure_label(measure),
            Missed::GdprInformation => "information du client sur la perte de données (RGPD)",
            Missed::PostMortem => "post-mortem de l'incident",
        }
    }

    /// The idempotency key's detail: one alert per deadline (each missed client update is its
    /// own, the cadence recurring).
    fn detail(self, due: i64) -> String {
        match self {
            Missed::Sla(SlaMeasure::ClientUpdate) => format!("client_update-{due}"),
            Missed::Sla(measure) => measure_key(measure).into(),
            Missed::GdprInformation => "gdpr_information".into(),
            Missed::PostMortem => "post_mortem".into(),
        }
    }
}

/// INC-3: a deadline was missed: the operations manager is told which, of which ticket, for
/// which client, and who has it.
pub fn breach(
    ticket: &Ticket,
    missed: Missed,
    due: i64,
    to: &Addressee,
    client_name: &str,
    zone: &TimeZoneName,
) -> TicketNotice {
    let zone = zone.time_zone();
    let number = ticket.number;
    let what = missed.label();
    let subject = clip(
        &format!("[Vigie] Délai dépassé : {what} du ticket n°{number} ({client_name})"),
        200,
    );
    let mut lines = vec![
        format!("Délai dépassé : {what}"),
        format!("Ticket n°{number} : {}", clip(&ticket.report.symptom, 500)),
        format!("Client : {client_name}"),
        format!("Priorité : {}", priority_label(ticket.priority)),
        format!("Échéance : {}", local(due, &zone)),
    ];
    match &ticket.assignee {
        Some(assignee) => lines.push(format!("Pris en charge par : {assignee}")),
        None => lines.push("Personne ne l'a pris en charge.".into()),
    }
    let text = lines.join("\n") + "\n";
    let sms = clip(
        &format!(
            "Vigie : délai de {what} dépassé, ticket {number} ({client_name}), échéance {}.",
            local(due, &zone)
        ),
        320,
    );
    notice(
        ticket,
        Purpose::SlaBreach,
        Some(&missed.detail(due)),
        to,
        Message {
            html: html(&lines[0], &lines[1..]),
            subject,
            text,
            sms,
        },
    )
}
