//! CM-8: the report of a corrective intervention — the diagnosis, the intervention, the
//! actions, the parts replaced and the recommendations against a recurrence — as one French
//! HTML document, self-contained (no script, no outside resource), sent to the client and
//! archived in the site's file.

use super::desk::{EventKind, Kind, Note, Ticket, TicketEvent};
use super::message::data_impact_line;
use crate::TimeZoneName;
use crate::markup::escape;

/// A document produced for a site's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    /// A complete HTML page.
    pub html: String,
    /// The same content as plain text (the email's text part).
    pub text: String,
    /// The same content as sections (title, lines), for other layouts (its PDF).
    pub sections: Vec<(String, Vec<String>)>,
}

/// What the report names besides the ticket.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub client: &'a str,
    pub site: Option<&'a str>,
    pub equipment: Option<&'a str>,
    pub zone: &'a TimeZoneName,
    /// The integrator's people by reference, to name the technicians.
    pub staff: &'a [(String, String)],
}

impl Names<'_> {
    fn person(&self, reference: &crate::Reference) -> String {
        self.staff
            .iter()
            .find(|(r, _)| r == reference.as_str())
            .map_or_else(|| reference.to_string(), |(_, name)| name.clone())
    }
}

/// Whether the ticket's resolution ends a corrective intervention (CM-8): a maintenance or an
/// intervention ticket, or any ticket with an on-site intervention scheduled.
pub fn is_corrective(ticket: &Ticket, events: &[TicketEvent]) -> bool {
    matches!(ticket.report.kind, Kind::Maintenance | Kind::Intervention)
        || events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Noted {
                    note: Note::Intervention { .. }
                }
            )
        })
}

fn local(ms: i64, zone: &TimeZoneName) -> String {
    crate::alarm::escalation::local(ms, &zone.time_zone())
}

/// One section: a title and its lines (already plain text).
struct Section {
    title: &'static str,
    lines: Vec<String>,
}

/// CM-8: the intervention report of `ticket`, from its `events` (every event of the ticket).
pub fn intervention_report(ticket: &Ticket, events: &[TicketEvent], names: Names) -> Document {
    let number = ticket.number;
    let title = format!("Rapport d'intervention — ticket n°{number}");
    let mut header = vec![format!("Client : {}", names.client)];
    if let Some(site) = names.site {
        header.push(format!("Site : {site}"));
    }
    if let Some(equipment) = names.equipment {
        header.push(format!("Équipement : {equipment}"));
    }
    header.push(format!(
        "Signalé le {}",
        local(ticket.received_at, names.zone)
    ));
    if let Some(resolved) = ticket.resolved_at {
        header.push(format!("Résolu le {}", local(resolved, names.zone)));
    }
    header.push(format!("Symptôme : {}", ticket.report.symptom));

    let mut diagnosis = Vec::new();
    let mut intervention = Vec::new();
    let mut probable_parts = Vec::new();
    let mut resolution = None;
    for event in events {
        match &event.kind {
            EventKind::Noted {
                note:
                    Note::Diagnosis {
                        checks,
                        result,
                        on_site_needed,
                        parts,
                    },
            } => {
                diagnosis.push(format!(
                    "Diagnostic à distance du {} : {}",
                    local(event.at, names.zone),
                    result
                ));
                for check in checks {
                    diagnosis.push(format!("Vérifié : {check}"));
                }
                diagnosis.push(if *on_site_needed {
                    "Intervention sur site nécessaire".into()
                } else {
                    "Pas d'intervention sur site nécessaire".into()
                });
                probable_parts.extend(parts.iter().cloned());
            }
            EventKind::Noted {
                note:
                    Note::Intervention {
                        technician,
                        from,
                        to,
                        ..
                    },
            } => intervention.push(format!(
                "Sur site : {}, du {} au {}",
                names.person(technician),
                local(*from, names.zone),
                local(*to, names.zone)
            )),
            EventKind::Noted {
                note: Note::Escalation { to, reason },
            } => intervention.push(format!(
                "Escaladé à l'ingénieur référent {} : {reason}",
                names.person(to)
            )),
            EventKind::Resolved { resolution: r, .. } => resolution = Some(r.clone()),
            _ => {}
        }
    }
    if diagnosis.is_empty() {
        diagnosis.push("Aucun diagnostic à distance enregistré.".into());
    }
    let mut actions = Vec::new();
    let mut parts = Vec::new();
    let mut recommendations = Vec::new();
    match (&resolution, &ticket.resolution) {
        (Some(r), _) => {
            actions.push(format!("Cause : {}", r.root_cause));
            actions.push(format!("Actions menées : {}", r.actions));
            actions.push(format!(
                "Durée d'intervention effective : {} min",
                r.intervention_minutes
            ));
            parts.extend(r.parts_replaced.iter().cloned());
            if !r.recommendations.trim().is_empty() {
                recommendations.push(r.recommendations.trim().to_owned());
            }
        }
        (None, Some(report)) => {
            // The alarm's closure report (CLO-1, CM-8): the most common corrective path.
            actions.push(format!("Cause : {}", report.root_cause));
            actions.push(format!("Actions menées : {}", report.actions));
            actions.push(format!(
                "Durée d'intervention effective : {} min",
                report.intervention_minutes
            ));
            parts.extend(report.parts_replaced.iter().cloned());
            if !report.recommendations.trim().is_empty() {
                recommendations.push(report.recommendations.trim().to_owned());
            }
        }
        (None, None) => actions.push("Aucune action enregistrée.".into()),
    }
    if let Some(impact) = &ticket.data_impact {
        actions.push(data_impact_line(impact));
    }
    if parts.is_empty() {
        parts.push(if probable_parts.is_empty() {
            "Aucune pièce remplacée.".into()
        } else {
            format!(
                "Aucune pièce remplacée (pièces envisagées au diagnostic : {}).",
                probable_parts.join(", ")
            )
        });
    }
    if recommendations.is_empty() {
        recommendations.push("Aucune recommandation particulière.".into());
    }
    let sections = [
        Section {
            title: "Incident",
            lines: header,
        },
        Section {
            title: "Diagnostic",
            lines: diagnosis,
        },
        Section {
            title: "Intervention",
            lines: if intervention.is_empty() {
                vec!["Résolu à distance.".into()]
            } else {
                intervention
            },
        },
        Section {
            title: "Actions",
            lines: actions,
        },
        Section {
            title: "Pièces remplacées",
            lines: parts,
        },
        Section {
            title: "Recommandations contre la récidive",
            lines: recommendations,
        },
    ];
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;color:#1a1a1a}}\
         h1{{font-size:1.4em}}h2{{font-size:1.1em;border-bottom:1px solid #999;margin-top:1.5em}}\
         li{{margin:.2em 0}}</style></head><body><h1>{}</h1>",
        escape(&title),
        escape(&title)
    );
    let mut text = format!("{title}\n");
    for section in &sections {
        html.push_str(&format!("<h2>{}</h2><ul>", escape(section.title)));
        text.push_str(&format!("\n{}\n", section.title));
        for line in &section.lines {
            html.push_str(&format!("<li>{}</li>", escape(line)));
            text.push_str(&format!("- {line}\n"));
        }
        html.push_str("</ul>");
    }
    html.push_str("</body></html>");
    Document {
        title,
        html,
        text,
        sections: sections
            .into_iter()
            .map(|section| (section.title.to_owned(), section.lines))
            .collect(),
    }
}
