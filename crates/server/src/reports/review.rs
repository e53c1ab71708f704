//! A site's monthly alarm review for its security manager (CLO-3): the alarms of the month by
//! severity against the month before, mean and median acknowledgement and resolution times,
//! the most frequently faulty equipment, and the preventive maintenance or early replacement
//! it calls for.

use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::french::{count_of, format_number};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::policy::Severity;
use vigie_domain::report::review::{AlarmFacts, Delays, alarm_review};
use vigie_report::{
    Block, Chart, Colour, Column, Document, Figure, Layer, StackedBars, Table, Tone,
};
use vigie_store::console::Place;

use super::supervision::duration;
use super::{Covered, Kind, Made, REPORTS_ACTOR, generated_label, organisation};
use crate::AppState;

const WEEK_MS: i64 = 7 * 86_400_000;

fn delay(delays: &Delays) -> (String, String) {
    (
        delays.mean_ms.map(duration).unwrap_or_else(|| "—".into()),
        delays.median_ms.map(duration).unwrap_or_else(|| "—".into()),
    )
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critique",
        Severity::Major => "Majeure",
        Severity::Minor => "Mineure",
    }
}

fn facts(
    alarms: &[vigie_domain::alarm::lifecycle::Alarm],
    names: &std::collections::HashMap<String, String>,
) -> Vec<AlarmFacts> {
    alarms
        .iter()
        .map(|alarm| AlarmFacts {
            id: alarm.id,
            equipment: alarm.equipment.as_ref().map(ToString::to_string),
            equipment_name: alarm
                .equipment
                .as_ref()
                .and_then(|e| names.get(e.as_str()).cloned()),
            condition: alarm.condition.condition.label().to_string(),
            severity: alarm.severity,
            raised_at: alarm.raised_at,
            acknowledged_at: alarm.acknowledged.as_ref().map(|s| s.at),
            resolved_at: alarm.resolved_at,
        })
        .collect()
}

pub async fn make(
    state: &AppState,
    site: &Reference,
    covered: Covered,
    now: i64,
) -> anyhow::Result<Made> {
    let actor = Actor::console(REPORTS_ACTOR);
    let Record::Site(site_record) = super::named(
        state.store.get(&actor, ObjectKind::Site, site).await,
        "site",
        site,
    )?
    else {
        anyhow::bail!("{site} n'est pas un site");
    };
    let zone = site_record.time_zone.time_zone();
    let (from, to) = covered.bounds(&zone);
    let (previous_from, previous_to) = covered.previous_month().bounds(&zone);
    let Record::Client(client) = state
        .store
        .get(&actor, ObjectKind::Client, &site_record.client)
        .await?
    else {
        anyhow::bail!("le client du site {site} est introuvable");
    };
    let names: std::collections::HashMap<String, String> = state
        .store
        .equipment_page(
            &actor,
            &vigie_store::ListFilter {
                site: Some(site.clone()),
                limit: Some(vigie_store::MAX_PAGE_SIZE),
                ..vigie_store::ListFilter::default()
            },
        )
        .await?
        .into_iter()
        .filter_map(|(record, _)| match record {
            Record::Equipment(e) => Some((e.reference.to_string(), e.name.as_str().to_string())),
            _ => None,
        })
        .collect();
    let place = Place::Site(site.clone());
    let alarms = state.store.alarms_raised(&actor, &place, from, to).await?;
    let previous = state
        .store
        .alarms_raised(&actor, &place, previous_from, previous_to)
        .await?;
    let month_alarms = facts(&alarms, &names);
    let review = alarm_review(
        covered.month(),
        &month_alarms,
        &facts(&previous, &names),
        &state.escalation().policy.reports,
    );

    let mut blocks = Vec::new();
    blocks.push(Block::Heading {
        level: 1,
        text: format!("Site {}", site_record.name.as_str()),
    });
    blocks.push(Block::Paragraph(review.summary.clone()));
    let mut figures = vec![
        Figure::new("Alarmes du mois", format_number(f64::from(review.total), 0))
            .with_note(format!("{} le mois précédent", review.previous_total)),
    ];
    for figures_of in &review.severities {
        figures.push(
            Figure::new(
                format!("{}s", severity_label(figures_of.severity)),
                format_number(f64::from(figures_of.count), 0),
            )
            .with_note(format!("{} le mois précédent", figures_of.previous_count))
            .with_tone(match (figures_of.severity, figures_of.count) {
                (_, 0) => Tone::Normal,
                (Severity::Critical, _) => Tone::Critical,
                (Severity::Major, _) => Tone::Warning,
                _ => Tone::Normal,
            }),
        );
    }
    blocks.push(Block::Figures(figures));

    blocks.push(Block::Heading {
        level: 1,
        text: "Délais d'acquittement et de résolution".into(),
    });
    let mut table = Table::new(vec![
        Column::left("Gravité"),
        Column::right("Alarmes"),
        Column::right("Acquittement : moyenne"),
        Column::right("médiane"),
        Column::right("Résolution : moyenne"),
        Column::right("médiane"),
    ]);
    for figures_of in &review.severities {
        let (ack_mean, ack_median) = delay(&figures_of.acknowledgement);
        let (fix_mean, fix_median) = delay(&figures_of.resolution);
        table.push(vec![
            severity_label(figures_of.severity).into(),
            format_number(f64::from(figures_of.count), 0),
            ack_mean,
            ack_median,
            fix_mean,
            fix_median,
        ]);
    }
    blocks.push(Block::Table(table));
    blocks.push(Block::Note(
        "Délais comptés depuis la levée de l'alarme, sur les alarmes acquittées ou résolues ; la médiane est le délai que la moitié des alarmes n'ont pas dépassé.".into(),
    ));

    // Alarms per week of the period, by severity.
    let weeks = ((to - from + WEEK_MS - 1) / WEEK_MS).clamp(1, 60);
    let mut layers: Vec<Layer> = [
        (Severity::Critical, Colour::Red),
        (Severity::Major, Colour::Orange),
        (Severity::Minor, Colour::Yellow),
    ]
    .iter()
    .map(|(severity, colour)| Layer {
        name: format!("{}s", severity_label(*severity)),
        colour: *colour,
        values: vec![0.0; usize::try_from(weeks).unwrap_or(1)],
    })
    .collect();
    for alarm in &month_alarms {
        let week = usize::try_from((alarm.raised_at - from) / WEEK_MS).unwrap_or(0);
        let layer = match alarm.severity {
            Severity::Critical => 0,
            Severity::Major => 1,
            Severity::Minor => 2,
        };
        if let Some(value) = layers[layer].values.get_mut(week) {
            *value += 1.0;
        }
    }
    if review.total > 0 {
        blocks.push(Block::Chart {
            caption: format!("Alarmes par semaine et par gravité, {}", covered.label()),
            chart: Chart::Stacked(StackedBars {
                categories: (0..weeks)
                    .map(|w| {
                        let start = from + w * WEEK_MS;
                        jiff::Timestamp::from_millisecond(start)
                            .map(|t| {
                                format!("sem. du {}", t.to_zoned(zone.clone()).strftime("%d/%m"))
                            })
                            .unwrap_or_default()
                    })
                    .collect(),
                layers: std::mem::take(&mut layers),
                unit: String::new(),
                decimals: 0,
            }),
        });
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Équipements les plus souvent en défaut".into(),
    });
    if review.faulty_equipment.is_empty() {
        blocks.push(Block::Paragraph(
            "Aucun équipement n'a levé d'alarme ce mois-ci.".into(),
        ));
    } else {
        let mut table = Table::new(vec![
            Column::left("Équipement"),
            Column::right("Alarmes"),
            Column::left("Problèmes"),
        ]);
        for equipment in &review.faulty_equipment {
            table.push(vec![
                format!("{} ({})", equipment.equipment_name, equipment.equipment),
                format_number(f64::from(equipment.alarms), 0),
                equipment
                    .conditions
                    .iter()
                    .map(|c| format!("{} × {}", c.count, c.condition))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
        blocks.push(Block::Table(table));
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Recommandations".into(),
    });
    if review.recommendations.is_empty() {
        blocks.push(Block::Paragraph(
            "Aucune maintenance préventive ni remplacement anticipé n'est recommandé ce mois-ci."
                .into(),
        ));
    } else {
        blocks.push(Block::List(
            review
                .recommendations
                .iter()
                .map(|r| r.text.clone())
                .collect(),
        ));
        if review.recommendations_left_out > 0 {
            blocks.push(Block::Note(format!(
                "{} de plus ne {} pas listées.",
                count_of(
                    u64::from(review.recommendations_left_out),
                    "recommandation",
                    "recommandations"
                ),
                if review.recommendations_left_out > 1 {
                    "sont"
                } else {
                    "est"
                }
            )));
        }
    }

    // CLO-3: the review goes to the site's security manager.
    let mut recipients = Vec::new();
    if let Some(manager) = &site_record.security_manager
        && let Ok(Record::Contact(contact)) =
            state.store.get(&actor, ObjectKind::Contact, manager).await
        && let Some(email) = &contact.email
    {
        recipients.push((
            manager.to_string(),
            contact.name.as_str().to_string(),
            email.as_str().to_string(),
        ));
    }
    Ok(Made {
        kind: Kind::AlarmReview,
        client: Some(site_record.client.clone()),
        site: Some(site.clone()),
        covered,
        document: Document {
            title: Kind::AlarmReview.title().into(),
            organisation: organisation(state),
            recipient: format!("{} — {}", client.name.as_str(), site_record.name.as_str()),
            period: covered.label(),
            generated: generated_label(now),
            created_ms: now,
            blocks,
        },
        recipients,
    })
}
