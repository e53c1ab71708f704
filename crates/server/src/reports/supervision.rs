//! A client's monthly supervision report (DSH-2): availability per site and per equipment and
//! overall, computed exactly from the stored state changes (planned maintenance excluded, the
//! monitoring path's gaps apart as "unknown"), the period's incidents with how each was
//! resolved and whether its deadlines were met, the weak signals of future failure with their
//! explanation, and the preventive maintenance they call for.

use std::collections::{BTreeMap, HashMap};

use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::french::{
    availability_percent, count_of, format_date, format_number, format_quantity,
};
use vigie_domain::inventory::{ObjectKind, Record, Site};
use vigie_domain::report::availability::{
    CheckHistory, Measure, equipment_days, equipment_measure, maintenance_intervals,
};
use vigie_domain::report::signals::{
    AlarmCount, DISK_METRIC, EquipmentFacts, Finding, OutageCount, Series, SignalFacts,
    TEMPERATURE_METRIC, weak_signals,
};
use vigie_domain::supervision::CheckStatus;
use vigie_report::{
    Bar, BarChart, Block, Chart, Colour, Column, Document, Figure, LineChart, Orientation, Table,
    Threshold, Tone,
};
use vigie_store::console::Place;
use vigie_store::reports::EquipmentHistory;

use super::{Covered, Kind, Made, REPORTS_ACTOR, generated_label, organisation, paris, records_of};
use crate::AppState;

/// Equipment listed one by one (those not available all the time, the least available
/// first); the others are counted in a sentence.
const MAX_EQUIPMENT_ROWS: usize = 500;
/// Incidents listed.
const MAX_INCIDENT_ROWS: usize = 500;
/// Days of metrics the weak signals read, before the period's end.
const SIGNAL_WINDOW_DAYS: i64 = 60;
/// Disk forecasts drawn as charts.
const MAX_FORECAST_CHARTS: usize = 3;
const DAY_MS: i64 = 86_400_000;

/// `3 j 4 h`, `2 h 05 min`, `12 min`: how long, in words people read.
pub fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    let (days, hours, minutes) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    if days > 0 {
        format!("{days} j {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min")
    } else if ms > 0 {
        "moins d'une minute".into()
    } else {
        "—".into()
    }
}

/// `99,52 %`, or a dash when nothing was measured.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format_quantity(availability_percent(rate, 2), 2, "%"),
        None => "—".into(),
    }
}

/// The share of a period, in %: `0,3 %`.
fn share(part_ms: i64, whole_ms: i64) -> String {
    if whole_ms <= 0 {
        return "—".into();
    }
    format_quantity(part_ms as f64 * 100.0 / whole_ms as f64, 1, "%")
}

/// A disk filling, drawn with its projection: the equipment's name, its days, the finding,
/// the site's Critical threshold (%).
struct Forecast {
    name: String,
    points: Vec<(i64, f64, f64)>,
    finding: Finding,
    critical: f64,
}

/// One equipment's month, measured.
struct Measured<'a> {
    history: &'a EquipmentHistory,
    measure: Measure,
    outages: u32,
}

/// The equipment's count of outages: its changes to down, over all checks.
fn downs(history: &EquipmentHistory) -> u32 {
    let count = history
        .checks
        .values()
        .flat_map(|c| c.changes.iter())
        .filter(|(_, status)| *status == CheckStatus::Down)
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

pub async fn make(
    state: &AppState,
    client: &Reference,
    covered: Covered,
    now: i64,
) -> anyhow::Result<Made> {
    let actor = Actor::console(REPORTS_ACTOR);
    let zone = paris();
    let (from, to) = covered.bounds(&zone);
    let Record::Client(client_record) = super::named(
        state.store.get(&actor, ObjectKind::Client, client).await,
        "client",
        client,
    )?
    else {
        anyhow::bail!("{client} n'est pas un client");
    };
    let client_name = client_record.name.as_str().to_string();
    let sites: BTreeMap<Reference, Site> = records_of(state, ObjectKind::Site, Some(client))
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Site(site) => Some((site.reference.clone(), site)),
            _ => None,
        })
        .collect();
    let contracts: BTreeMap<Reference, vigie_domain::inventory::Contract> =
        records_of(state, ObjectKind::Contract, Some(client))
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Contract(contract) => Some((contract.reference.clone(), contract)),
                _ => None,
            })
            .collect();
    let contacts: BTreeMap<Reference, vigie_domain::inventory::Contact> =
        records_of(state, ObjectKind::Contact, Some(client))
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Contact(contact) => Some((contact.reference.clone(), contact)),
                _ => None,
            })
            .collect();
    let models: HashMap<String, Option<String>> =
        records_of(state, ObjectKind::Equipment, Some(client))
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Equipment(e) => Some((
                    e.reference.to_string(),
                    e.model.map(|m| m.as_str().to_string()),
                )),
                _ => None,
            })
            .collect();

    let place = Place::Client(client.clone());
    let histories = state
        .store
        .equipment_histories(&actor, &place, from, to)
        .await?;

    // Planned maintenance of each site, on its own clock (ALR-9).
    let mut maintenance: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for (reference, site) in &sites {
        let intervals = maintenance_intervals(
            &site.maintenance_windows,
            &site.time_zone.time_zone(),
            from,
            to,
        )?;
        maintenance.insert(reference.to_string(), intervals);
    }
    let days = match covered {
        Covered::Month(month) => month.days(&zone),
        Covered::Period(period) => period.days(&zone),
    };
    // The one-off maintenance opened from the console, as it ran (ended early: to its end), on
    // a whole site or one equipment; a silence is not maintenance and stays measured.
    let mut one_off: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for window in state
        .store
        .maintenance_of_period(&actor, client, from, to)
        .await?
    {
        let interval = (window.starts_at, window.end());
        match &window.equipment {
            Some(equipment) => one_off
                .entry(equipment.to_string())
                .or_default()
                .push(interval),
            None => maintenance
                .entry(window.site.to_string())
                .or_default()
                .push(interval),
        }
    }
    let none = Vec::new();
    let mut measured: Vec<Measured> = Vec::with_capacity(histories.len());
    let mut daily = vec![Measure::default(); days.len()];
    for history in &histories {
        let checks: Vec<CheckHistory> = history.checks.values().cloned().collect();
        let site_windows = maintenance.get(&history.site).unwrap_or(&none);
        let joined: Vec<(i64, i64)>;
        let windows = match one_off.get(&history.reference) {
            Some(own) => {
                joined = site_windows.iter().chain(own).copied().collect();
                &joined
            }
            None => site_windows,
        };
        let measure = equipment_measure(from, to, &checks, windows);
        for (total, day) in daily
            .iter_mut()
            .zip(equipment_days(&days, &checks, windows))
        {
            *total += day;
        }
        measured.push(Measured {
            history,
            measure,
            outages: downs(history),
        });
    }
    let overall: Measure = measured.iter().map(|m| m.measure).sum();

    // Per site.
    let mut per_site: BTreeMap<&str, (usize, Measure)> = BTreeMap::new();
    for item in &measured {
        let entry = per_site.entry(item.history.site.as_str()).or_default();
        entry.0 += 1;
        entry.1 += item.measure;
    }
    let site_name = |reference: &str| -> String {
        Reference::parse(reference)
            .ok()
            .and_then(|r| sites.get(&r))
            .map(|s| s.name.as_str().to_string())
            .unwrap_or_else(|| reference.to_string())
    };

    // The period's incidents.
    let tickets = state
        .store
        .tickets_of_period(&actor, client, from, to)
        .await?;
    let received: Vec<&vigie_store::reports::TicketOfPeriod> = tickets
        .iter()
        .filter(|t| (from..to).contains(&t.ticket.received_at))
        .collect();
    let (mut met, mut breached) = (0usize, 0usize);
    for ticket in &tickets {
        for event in &ticket.sla {
            if !(from..to).contains(&event.at) {
                continue;
            }
            match event.kind {
                vigie_domain::ticket::desk::EventKind::SlaMet { .. } => met += 1,
                vigie_domain::ticket::desk::EventKind::SlaBreached { .. } => breached += 1,
                _ => {}
            }
        }
    }

    // Weak signals, site by site with its policy and clock.
    let alarms = state.store.alarms_raised(&actor, &place, from, to).await?;
    let previous_month = covered.previous_month().bounds(&zone);
    let previous_downs = state
        .store
        .down_transitions(&actor, &place, previous_month.0, previous_month.1)
        .await?;
    let metrics = state
        .store
        .daily_metrics(
            &actor,
            &place,
            &[DISK_METRIC, TEMPERATURE_METRIC],
            to - SIGNAL_WINDOW_DAYS * DAY_MS,
            to,
        )
        .await?;
    let mut signals = Vec::new();
    let mut signals_left_out = 0;
    let mut forecasts: Vec<Forecast> = Vec::new();
    let site_of: HashMap<&str, &str> = histories
        .iter()
        .map(|h| (h.reference.as_str(), h.site.as_str()))
        .collect();
    for (site_ref, site) in &sites {
        let site_key = site_ref.as_str();
        let on_site = |equipment: &str| site_of.get(equipment) == Some(&site_key);
        let mut facts = SignalFacts::default();
        for metric in metrics.iter().filter(|m| on_site(&m.equipment)) {
            facts.series.push(Series {
                equipment: metric.equipment.clone(),
                metric: metric.metric.clone(),
                points: metric.days.clone(),
            });
        }
        for item in measured.iter().filter(|m| m.history.site == site_key) {
            let previous = previous_downs
                .get(&item.history.reference)
                .copied()
                .unwrap_or(0);
            if item.outages > 0 || previous > 0 {
                facts.outages.push(OutageCount {
                    equipment: item.history.reference.clone(),
                    this_month: item.outages,
                    previous_month: previous,
                });
            }
        }
        let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
        for alarm in alarms
            .iter()
            .filter(|a| a.site.as_ref().map(|s| s.as_str()) == Some(site_key))
        {
            if let Some(equipment) = &alarm.equipment {
                *counts
                    .entry((
                        equipment.to_string(),
                        alarm.condition.condition.label().to_string(),
                    ))
                    .or_default() += 1;
            }
        }
        facts.alarms = counts
            .into_iter()
            .map(|((equipment, condition), count)| AlarmCount {
                equipment,
                condition,
                count,
            })
            .collect();
        let names: BTreeMap<String, EquipmentFacts> = measured
            .iter()
            .filter(|m| m.history.site == site_key)
            .map(|m| {
                (
                    m.history.reference.clone(),
                    EquipmentFacts {
                        name: m.history.name.clone(),
                        model: models.get(&m.history.reference).cloned().flatten(),
                    },
                )
            })
            .collect();
        let policy = contracts
            .get(&site.contract)
            .and_then(|contract| state.escalation().policy.for_site(contract, site).ok())
            .unwrap_or_else(|| state.escalation().policy.as_ref().clone());
        let found = weak_signals(
            &facts,
            &names,
            &policy,
            covered.month(),
            &site.time_zone.time_zone(),
        );
        signals_left_out += found.left_out;
        for signal in found.signals {
            if let Finding::DiskFilling { metric, .. } = &signal.finding
                && forecasts.len() < MAX_FORECAST_CHARTS
                && let Some(series) = facts
                    .series
                    .iter()
                    .find(|s| s.equipment == signal.equipment && &s.metric == metric)
            {
                forecasts.push(Forecast {
                    name: signal.equipment_name.clone(),
                    points: series.points.clone(),
                    finding: signal.finding.clone(),
                    critical: f64::from(policy.thresholds.disk_critical_percent),
                });
            }
            signals.push(signal);
        }
    }

    // The document.
    let mut blocks = Vec::new();
    blocks.push(Block::Heading {
        level: 1,
        text: "Synthèse".into(),
    });
    let measured_ms = overall.up_ms + overall.down_ms;
    blocks.push(Block::Figures(vec![
        Figure::new("Disponibilité globale", percent(overall.rate())),
        Figure::new(
            "Équipements supervisés",
            format_number(measured.len() as f64, 0),
        ),
        Figure::new("Indisponibilité cumulée", duration(overall.down_ms)).with_tone(
            if overall.down_ms > 0 {
                Tone::Warning
            } else {
                Tone::Normal
            },
        ),
        Figure::new("Incidents du mois", format_number(received.len() as f64, 0)),
        Figure::new(
            "Délais contractuels",
            if met + breached == 0 {
                "—".to_string()
            } else {
                format!(
                    "{} sur {}",
                    count_of(met as u64, "tenu", "tenus"),
                    met + breached
                )
            },
        )
        .with_tone(if breached > 0 {
            Tone::Critical
        } else {
            Tone::Normal
        }),
        Figure::new(
            "Supervision interrompue",
            share(overall.unknown_ms, overall.total_ms()),
        )
        .with_note("temps « inconnu », hors disponibilité"),
        Figure::new("Maintenance planifiée", duration(overall.maintenance_ms)),
        Figure::new("Signaux faibles", format_number(signals.len() as f64, 0)),
    ]));
    blocks.push(Block::Paragraph(format!(
        "Sur {}, les {} de {client_name} ont été disponibles {} du temps mesuré ({} mesurées, maintenance planifiée exclue). {}",
        covered.label(),
        count_of(measured.len() as u64, "équipement supervisé", "équipements supervisés"),
        percent(overall.rate()),
        duration(measured_ms),
        if overall.unknown_ms > 0 {
            format!(
                "La supervision n'a pas reçu d'information pendant {} au total (liaison d'une sonde de site ou d'un agent perdue) : ce temps est compté à part, pas comme une panne.",
                duration(overall.unknown_ms)
            )
        } else {
            "La supervision a reçu l'état de chaque équipement pendant tout le mois.".into()
        }
    )));

    blocks.push(Block::Heading {
        level: 1,
        text: "Disponibilité par site".into(),
    });
    let mut site_table = Table::new(vec![
        Column::left("Site"),
        Column::right("Équipements"),
        Column::right("Disponibilité"),
        Column::right("Hors service cumulé"),
        Column::right("Inconnu"),
        Column::right("Maintenance"),
    ]);
    let mut bars = Vec::new();
    for (site, (count, measure)) in &per_site {
        let tone = if measure.down_ms > 0 {
            Tone::Warning
        } else {
            Tone::Normal
        };
        site_table.push_toned(
            vec![
                format!("{} ({site})", site_name(site)),
                format_number(*count as f64, 0),
                percent(measure.rate()),
                duration(measure.down_ms),
                duration(measure.unknown_ms),
                duration(measure.maintenance_ms),
            ],
            tone,
        );
        if let Some(rate) = measure.rate() {
            bars.push(Bar {
                label: site_name(site),
                // As the table writes it (cut, not rounded), so the two agree.
                value: availability_percent(rate, 2),
                tone,
            });
        }
    }
    blocks.push(Block::Table(site_table));
    if !bars.is_empty() {
        // The least available first, so that a bound on bars keeps the ones to look at.
        bars.sort_by(|a, b| a.value.total_cmp(&b.value));
        let lowest = bars.first().map(|b| b.value).unwrap_or(100.0);
        blocks.push(Block::Chart {
            caption: format!("Disponibilité par site, {}", covered.label()),
            chart: Chart::Bars(BarChart {
                orientation: Orientation::Horizontal,
                bars,
                unit: "%".into(),
                decimals: 2,
                threshold: None,
                minimum: Some((lowest - 1.0).floor().clamp(0.0, 99.0)),
                maximum: Some(100.0),
            }),
        });
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Disponibilité jour par jour".into(),
    });
    let day_rates: Vec<Option<f64>> = daily
        .iter()
        .map(|m| m.rate().map(|r| availability_percent(r, 2)))
        .collect();
    let lowest_day = day_rates
        .iter()
        .flatten()
        .copied()
        .fold(100.0_f64, f64::min);
    blocks.push(Block::Chart {
        caption: format!(
            "Disponibilité de l'ensemble des équipements, jour par jour, {}",
            covered.label()
        ),
        chart: Chart::Lines(LineChart {
            x_labels: days
                .iter()
                .map(|(start, _)| {
                    jiff::Timestamp::from_millisecond(*start)
                        .map(|t| t.to_zoned(zone.clone()).strftime("%d/%m").to_string())
                        .unwrap_or_default()
                })
                .collect(),
            series: vec![vigie_report::Series {
                name: "Disponibilité".into(),
                colour: Colour::Blue,
                values: day_rates,
                dashed: false,
            }],
            unit: "%".into(),
            decimals: 2,
            threshold: None,
            minimum: Some((lowest_day - 1.0).floor().clamp(0.0, 99.0)),
            maximum: Some(100.0),
        }),
    });

    blocks.push(Block::Heading {
        level: 1,
        text: "Disponibilité par équipement".into(),
    });
    let mut imperfect: Vec<&Measured> = measured
        .iter()
        .filter(|m| m.measure.down_ms > 0 || m.measure.unknown_ms > 0)
        .collect();
    imperfect.sort_by(|a, b| {
        b.measure
            .down_ms
            .cmp(&a.measure.down_ms)
            .then(b.measure.unknown_ms.cmp(&a.measure.unknown_ms))
            .then(a.history.reference.cmp(&b.history.reference))
    });
    let perfect = measured.len() - imperfect.len();
    blocks.push(Block::Paragraph(if imperfect.is_empty() {
        format!(
            "Les {} ont été disponibles tout le temps mesuré.",
            count_of(measured.len() as u64, "équipement", "équipements")
        )
    } else {
        let concerned = if imperfect.len() == measured.len() {
            format!(
                "Les {} ont eu une indisponibilité ou une période sans information.",
                count_of(measured.len() as u64, "équipement", "équipements")
            )
        } else {
            format!(
                "{} sur {} ont eu une indisponibilité ou une période sans information ; {} disponibles tout le temps mesuré.",
                format_number(imperfect.len() as f64, 0),
                format_number(measured.len() as f64, 0),
                match perfect {
                    1 => "l'autre a été".to_string(),
                    n => format!("les {} autres ont été", format_number(n as f64, 0)),
                },
            )
        };
        format!("{concerned} Du moins disponible au plus disponible :")
    }));
    if !imperfect.is_empty() {
        let mut table = Table::new(vec![
            Column::left("Équipement"),
            Column::left("Site"),
            Column::left("Type"),
            Column::right("Disponibilité"),
            Column::right("Hors service"),
            Column::right("Coupures"),
            Column::right("Inconnu"),
        ]);
        for item in imperfect.iter().take(MAX_EQUIPMENT_ROWS) {
            let kind = item
                .history
                .kind
                .as_deref()
                .and_then(|k| serde_json::from_value(serde_json::Value::String(k.into())).ok())
                .map(|k: vigie_domain::inventory::EquipmentKind| k.french().to_string())
                .unwrap_or_else(|| "supprimé depuis".into());
            table.push_toned(
                vec![
                    format!("{} ({})", item.history.name, item.history.reference),
                    site_name(&item.history.site),
                    kind,
                    percent(item.measure.rate()),
                    duration(item.measure.down_ms),
                    format_number(f64::from(item.outages), 0),
                    duration(item.measure.unknown_ms),
                ],
                if item.measure.down_ms > 0 {
                    Tone::Warning
                } else {
                    Tone::Normal
                },
            );
        }
        blocks.push(Block::Table(table));
        if imperfect.len() > MAX_EQUIPMENT_ROWS {
            blocks.push(Block::Note(format!(
                "{} autres équipements ont eu une indisponibilité moindre ; la liste complète est sur le portail.",
                format_number((imperfect.len() - MAX_EQUIPMENT_ROWS) as f64, 0)
            )));
        }
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Incidents du mois".into(),
    });
    if received.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "Aucun incident n'a été ouvert sur {}.",
            covered.label()
        )));
    } else {
        blocks.push(Block::Paragraph(format!(
            "{} sur {} ; délais contractuels : {}, {}.",
            count_of(received.len() as u64, "ticket ouvert", "tickets ouverts"),
            covered.label(),
            count_of(met as u64, "tenu", "tenus"),
            count_of(breached as u64, "dépassé", "dépassés"),
        )));
        let mut table = Table::new(vec![
            Column::left("Ticket"),
            Column::left("Ouvert le"),
            Column::center("Priorité"),
            Column::left("Objet"),
            Column::left("Résolution"),
            Column::left("Délais"),
        ]);
        for item in received.iter().take(MAX_INCIDENT_ROWS) {
            let ticket = &item.ticket;
            let resolution = match (&ticket.resolution, ticket.resolved_at) {
                (Some(report), Some(at)) => format!(
                    "Résolu le {} : {} — {}",
                    format_date(at, &zone),
                    report.root_cause,
                    report.actions
                ),
                (None, Some(at)) => format!("Résolu le {}", format_date(at, &zone)),
                _ => "En cours".into(),
            };
            let mut met_list = Vec::new();
            let mut breached_list = Vec::new();
            let mut waived_list = Vec::new();
            for event in &item.sla {
                match &event.kind {
                    vigie_domain::ticket::desk::EventKind::SlaWaived { timer } => {
                        waived_list.push(vigie_domain::ticket::message::measure_label(*timer))
                    }
                    vigie_domain::ticket::desk::EventKind::SlaMet { timer, .. } => {
                        met_list.push(vigie_domain::ticket::message::measure_label(*timer))
                    }
                    vigie_domain::ticket::desk::EventKind::SlaBreached { timer, .. } => {
                        breached_list.push(vigie_domain::ticket::message::measure_label(*timer))
                    }
                    _ => {}
                }
            }
            // SAV-5: a visit deadline waived (no visit needed) is neither kept nor missed.
            let mut parts = Vec::new();
            if !met_list.is_empty() {
                parts.push(format!("tenus ({})", met_list.join(", ")));
            }
            if !breached_list.is_empty() {
                parts.push(format!("dépassés ({})", breached_list.join(", ")));
            }
            if !waived_list.is_empty() {
                parts.push(format!(
                    "sans objet, aucune visite nécessaire ({})",
                    waived_list.join(", ")
                ));
            }
            let deadlines = if parts.is_empty() {
                "—".to_string()
            } else {
                parts.join(" ; ")
            };
            let place = ticket
                .report
                .equipment
                .as_ref()
                .or(ticket.report.site.as_ref())
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            table.push_toned(
                vec![
                    format!("n° {}", ticket.number),
                    format_date(ticket.received_at, &zone),
                    priority_label(ticket.priority).into(),
                    format!("{}{place}", ticket.report.symptom),
                    resolution,
                    deadlines,
                ],
                if breached_list.is_empty() {
                    Tone::Normal
                } else {
                    Tone::Critical
                },
            );
        }
        blocks.push(Block::Table(table));
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Tendances et signaux faibles".into(),
    });
    if signals.is_empty() {
        blocks.push(Block::Paragraph(
            "Aucun équipement ne montre de signal annonçant une panne : pas de disque qui se remplit vers son seuil critique, pas de température en hausse, pas de coupures de plus en plus fréquentes ni d'alarmes répétées.".into(),
        ));
    } else {
        blocks.push(Block::Paragraph(format!(
            "{}, du plus urgent au moins urgent :",
            count_of(
                signals.len() as u64,
                "équipement montre un signal faible",
                "signaux faibles relevés"
            )
        )));
        let mut table = Table::new(vec![Column::left("Équipement"), Column::left("Constat")]);
        for signal in &signals {
            table.push(vec![
                format!("{} ({})", signal.equipment_name, signal.equipment),
                signal.explanation.clone(),
            ]);
        }
        blocks.push(Block::Table(table));
        if signals_left_out > 0 {
            blocks.push(Block::Note(format!(
                "{} de plus, moins urgents, ne sont pas listés.",
                count_of(u64::from(signals_left_out), "signal", "signaux")
            )));
        }
        for forecast in &forecasts {
            if let Some(chart) = forecast_chart(
                &forecast.points,
                &forecast.finding,
                forecast.critical,
                &zone,
            ) {
                blocks.push(Block::Chart {
                    caption: format!(
                        "Remplissage du disque de {} et sa projection",
                        forecast.name
                    ),
                    chart,
                });
            }
        }
    }

    blocks.push(Block::Heading {
        level: 1,
        text: "Recommandations de maintenance préventive".into(),
    });
    if signals.is_empty() {
        blocks.push(Block::Paragraph(
            "Aucune intervention préventive n'est recommandée ce mois-ci au-delà des visites prévues au contrat.".into(),
        ));
    } else {
        blocks.push(Block::List(
            signals
                .iter()
                .map(|s| format!("{} : {}", s.equipment_name, s.recommendation))
                .collect(),
        ));
    }

    blocks.push(Block::Heading {
        level: 2,
        text: "Méthode".into(),
    });
    blocks.push(Block::Note(
        "Disponibilité = temps en service ÷ (temps en service + temps hors service), calculée à partir de chaque changement d'état enregistré. Un équipement est hors service dès qu'un de ses contrôles est en panne. Le temps des fenêtres de maintenance planifiées n'est pas compté. Le temps pendant lequel la supervision ne recevait aucune information (sonde de site ou agent injoignable) est « inconnu » : il n'est compté ni comme disponible ni comme une panne. Les sites et le mois sont découpés à l'heure de Paris, changements d'heure compris.".into(),
    ));

    let recipients = contracts
        .values()
        .flat_map(|c| c.report_contacts.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|reference| {
            let contact = contacts.get(reference)?;
            let email = contact.email.as_ref()?;
            Some((
                reference.to_string(),
                contact.name.as_str().to_string(),
                email.as_str().to_string(),
            ))
        })
        .collect();
    Ok(Made {
        kind: Kind::Supervision,
        client: Some(client.clone()),
        site: None,
        covered,
        document: Document {
            title: Kind::Supervision.title().into(),
            organisation: organisation(state),
            recipient: client_name,
            period: covered.label(),
            generated: generated_label(now),
            created_ms: now,
            blocks,
        },
        recipients,
    })
}

pub fn priority_label(priority: vigie_domain::inventory::Priority) -> &'static str {
    match priority {
        vigie_domain::inventory::Priority::P1 => "P1 critique",
        vigie_domain::inventory::Priority::P2 => "P2 majeure",
        vigie_domain::inventory::Priority::P3 => "P3 mineure",
    }
}

/// A disk's daily maxima and, dashed, the line its trend follows to the Critical threshold.
fn forecast_chart(
    points: &[(i64, f64, f64)],
    finding: &Finding,
    critical: f64,
    zone: &jiff::tz::TimeZone,
) -> Option<Chart> {
    let Finding::DiskFilling {
        current_percent,
        per_day,
        reaches_critical_at,
        ..
    } = finding
    else {
        return None;
    };
    let last_day = points.last()?.0;
    // The projection runs to the forecast date, 60 days at most.
    let ahead = reaches_critical_at
        .map(|at| ((at - last_day) / DAY_MS).clamp(1, 60))
        .unwrap_or(30);
    let label = |at: i64| {
        jiff::Timestamp::from_millisecond(at)
            .map(|t| t.to_zoned(zone.clone()).strftime("%d/%m").to_string())
            .unwrap_or_default()
    };
    let mut x_labels: Vec<String> = points.iter().map(|(day, _, _)| label(*day)).collect();
    let mut measured: Vec<Option<f64>> = points.iter().map(|(_, _, max)| Some(*max)).collect();
    let mut projected: Vec<Option<f64>> = vec![None; points.len()];
    if let Some(last) = projected.last_mut() {
        *last = Some(*current_percent);
    }
    for step in 1..=ahead {
        x_labels.push(label(last_day + step * DAY_MS));
        measured.push(None);
        projected.push(Some((current_percent + per_day * step as f64).min(100.0)));
    }
    Some(Chart::Lines(LineChart {
        x_labels,
        series: vec![
            vigie_report::Series {
                name: "Occupation mesurée (maximum du jour)".into(),
                colour: Colour::Blue,
                values: measured,
                dashed: false,
            },
            vigie_report::Series {
                name: "Projection".into(),
                colour: Colour::Orange,
                values: projected,
                dashed: true,
            },
        ],
        unit: "%".into(),
        decimals: 0,
        threshold: Some(Threshold {
            value: critical,
            label: format!("Seuil critique : {} %", format_number(critical, 0)),
        }),
        minimum: None,
        maximum: Some(100.0),
    }))
}
