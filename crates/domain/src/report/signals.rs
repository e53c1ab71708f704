//! Weak signals of future failure and the preventive maintenance they call for (DSH-2's
//! « tendances »), from the daily series of the last weeks and the month's outages and alarms.
//!
//! - **A disk filling**: a least-squares line through the daily maxima (an alarm fires on the
//!   highest value, so the maxima reach the threshold first), from the last fall of more than
//!   `disk_fall_restarts_trend_percent` points in a day (a purge, a disk changed) on; with at
//!   least `min_days_of_data` points, a rising slope and a fit of at least `min_trend_fit`
//!   (R²), the date the line reaches the Critical threshold (ALR-2, 95 %) is forecast; it is a
//!   signal when that date falls within `forecast_horizon_days` of the month's end, or when
//!   the disk, still rising, is already over the Major threshold. A disk already at the
//!   Critical threshold is an alarm, not a weak signal.
//! - **A temperature rising**: the daily means' slope reaches `temperature_rise_per_30_days`
//!   with a fit of at least `min_trend_fit`, or a daily maximum came within
//!   `temperature_margin_celsius` of the Major threshold (ALR-3, the model's under DEC-1).
//! - **Flapping**: at least `flapping_min_outages` outages in the month, more than the month
//!   before and at least `flapping_growth_factor` times as many (cameras that cut out or
//!   reboot more and more).
//! - **Repeated alarms**: at least `repeated_alarms_min` alarms of one condition on one
//!   equipment in the month.
//!
//! Each signal explains itself in one French sentence with its figures and carries its French
//! recommendation; the most urgent come first (the nearest disk forecast, then temperatures,
//! flapping, repeated alarms, full disks without a forecast), at most `max_signals` of them.
//! Call it per site, with the site's policy and time zone (thresholds and dates are a site's).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::period::{DAY_MS, Month};
use crate::french::{count_of, format_date, format_number, format_points};
use crate::policy::Policy;

/// The most daily points read per series (the latest): a year and a bit.
pub const MAX_SERIES_POINTS: usize = 400;

/// The metric names (before `:part`) the signals read, as the agents and templates send them.
pub const DISK_METRIC: &str = "disk_used_percent";
pub const TEMPERATURE_METRIC: &str = "temperature_celsius";

/// One metric of one equipment, a point per local day: (day start ms, daily mean, daily max).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub equipment: String,
    /// `disk_used_percent:/data`, `temperature_celsius`, `temperature_celsius:cpu`…
    pub metric: String,
    pub points: Vec<(i64, f64, f64)>,
}

/// An equipment's outages (down transitions) in the month and the month before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutageCount {
    pub equipment: String,
    pub this_month: u32,
    pub previous_month: u32,
}

/// How many alarms of one condition (its French label) an equipment raised in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmCount {
    pub equipment: String,
    pub condition: String,
    pub count: u32,
}

/// What the signals read, for one site over the month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalFacts {
    /// Daily series over the last weeks (30 to 60 days is the intended window).
    pub series: Vec<Series>,
    pub outages: Vec<OutageCount>,
    pub alarms: Vec<AlarmCount>,
}

/// What the signals need to know of an equipment besides its reference: the name people
/// know it by, and its model (DEC-1: a model may have its own temperature thresholds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentFacts {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// What a weak signal found, with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    DiskFilling {
        metric: String,
        /// The last day's maximum, in %.
        current_percent: f64,
        /// The fitted line's slope, in points a day.
        per_day: f64,
        /// When the fitted line reaches the Critical threshold, if within the horizon.
        reaches_critical_at: Option<i64>,
    },
    TemperatureRising {
        metric: String,
        /// The last day's mean, in °C.
        current: f64,
        /// The daily means' slope over 30 days, in °C.
        per_30_days: f64,
        /// The highest daily maximum of the window, in °C.
        max: f64,
        /// The Major threshold it was measured against, in °C.
        major_celsius: i16,
    },
    Flapping {
        this_month: u32,
        previous_month: u32,
    },
    RepeatedAlarms {
        condition: String,
        count: u32,
    },
}

/// A weak signal of one equipment: what was found, said in French, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub equipment: String,
    pub equipment_name: String,
    pub finding: Finding,
    /// One or two French sentences with the figures.
    pub explanation: String,
    /// The preventive maintenance recommended, in French.
    pub recommendation: String,
}

/// The signals of a site's month, the most urgent first, and how many were left out beyond
/// the policy's `max_signals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeakSignals {
    pub signals: Vec<Signal>,
    pub left_out: u32,
}

/// A least-squares line through (day, value) points: `value = intercept + slope × days`, days
/// counted from `origin_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    pub origin_ms: i64,
    pub intercept: f64,
    /// Per day.
    pub slope: f64,
    /// The coefficient of determination, 0 (the line explains nothing) to 1 (every point on
    /// it); 1 for a flat series, whose slope is 0.
    pub r_squared: f64,
}

impl Trend {
    /// The line through `points` (instant ms, value); None under two distinct instants.
    pub fn fit(points: &[(i64, f64)]) -> Option<Trend> {
        let origin_ms = points.first()?.0;
        let n = points.len() as f64;
        let x = |at: i64| (at - origin_ms) as f64 / DAY_MS as f64;
        let mean_x = points.iter().map(|p| x(p.0)).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for &(at, value) in points {
            let (dx, dy) = (x(at) - mean_x, value - mean_y);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        if sxx <= 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        let r_squared = if syy <= 0.0 {
            1.0
        } else {
            (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0)
        };
        Some(Trend {
            origin_ms,
            intercept: mean_y - slope * mean_x,
            slope,
            r_squared,
        })
    }

    /// When the line reaches `value`, if it rises.
    pub fn reaches(&self, value: f64) -> Option<i64> {
        if self.slope <= 0.0 {
            return None;
        }
        let days = (value - self.intercept) / self.slope;
        let ms = days * DAY_MS as f64;
        ms.is_finite()
            .then(|| self.origin_ms.saturating_add(ms as i64))
    }
}

/// The part after `metric:` (`/data` of `disk_used_percent:/data`), if the name is that
/// metric's.
fn metric_part<'m>(metric: &'m str, name: &str) -> Option<Option<&'m str>> {
    match metric.split_once(':') {
        Some((base, part)) if base == name => Some(Some(part).filter(|p| !p.is_empty())),
        None if metric == name => Some(None),
        _ => None,
    }
}

/// A series' usable points, in order, the latest [`MAX_SERIES_POINTS`].
fn clean_points(series: &Series) -> Vec<(i64, f64, f64)> {
    let mut points: Vec<(i64, f64, f64)> = series
        .points
        .iter()
        .copied()
        .filter(|(_, mean, max)| mean.is_finite() && max.is_finite())
        .collect();
    points.sort_by_key(|p| p.0);
    points.dedup_by_key(|p| p.0);
    let skip = points.len().saturating_sub(MAX_SERIES_POINTS);
    points.drain(..skip);
    points
}

/// The site's weak signals for `month` (see the module's rules), dates worded in `zone`,
/// thresholds from `policy` (the site's, with its overlays), names from `equipment` (a
/// reference missing there is shown as itself).
pub fn weak_signals(
    facts: &SignalFacts,
    equipment: &BTreeMap<String, EquipmentFacts>,
    policy: &Policy,
    month: Month,
    zone: &TimeZone,
) -> WeakSignals {
    let (_, as_of) = month.bounds(zone);
    let name = |reference: &str| {
        equipment
            .get(reference)
            .map(|e| e.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| reference.to_owned())
    };
    let mut found: Vec<(Urgency, Signal)> = Vec::new();
    for series in &facts.series {
        let equipment_name = name(&series.equipment);
        let model = equipment
            .get(&series.equipment)
            .and_then(|e| e.model.as_deref());
        let signal = if let Some(part) = metric_part(&series.metric, DISK_METRIC) {
            disk_signal(series, part, &equipment_name, policy, as_of, zone)
        } else if let Some(part) = metric_part(&series.metric, TEMPERATURE_METRIC) {
            temperature_signal(series, part, &equipment_name, model, policy)
        } else {
            None
        };
        if let Some((urgency, finding, explanation, recommendation)) = signal {
            found.push((
                urgency,
                Signal {
                    equipment: series.equipment.clone(),
                    equipment_name,
                    finding,
                    explanation,
                    recommendation,
                },
            ));
        }
    }

    let rules = &policy.reports;
    let mut outages: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for count in &facts.outages {
        let entry = outages.entry(count.equipment.as_str()).or_default();
        entry.0 += u64::from(count.this_month);
        entry.1 += u64::from(count.previous_month);
    }
    let (this_label, previous_label) = (month.label(), month.previous().label());
    for (reference, (this_month, previous_month)) in outages {
        let growing = this_month >= u64::from(rules.flapping_min_outages)
            && this_month > previous_month
            && this_month as f64 >= rules.flapping_growth_factor * previous_month as f64;
        if !growing {
            continue;
        }
        let equipment_name = name(reference);
        let before = if previous_month == 0 {
            "aucune".to_string()
        } else {
            format_number(previous_month as f64, 0)
        };
        found.push((
            Urgency::Flapping(Reverse(this_month)),
            Signal {
                equipment: reference.to_owned(),
                equipment_name: equipment_name.clone(),
                finding: Finding::Flapping {
                    this_month: u32::try_from(this_month).unwrap_or(u32::MAX),
                    previous_month: u32::try_from(previous_month).unwrap_or(u32::MAX),
                },
                explanation: format!(
                    "{equipment_name} a connu {} en {this_label}, contre {before} en {previous_label} : ses coupures se multiplient.",
                    count_of(this_month, "coupure", "coupures"),
                ),
                recommendation: format!(
                    "Contrôler l'alimentation, le câblage réseau et le micrologiciel de {equipment_name}, et envisager son remplacement si les coupures continuent."
                ),
            },
        ));
    }

    let mut alarms: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for count in &facts.alarms {
        *alarms
            .entry((count.equipment.as_str(), count.condition.as_str()))
            .or_default() += u64::from(count.count);
    }
    for ((reference, condition), count) in alarms {
        if count < u64::from(rules.repeated_alarms_min) {
            continue;
        }
        let equipment_name = name(reference);
        found.push((
            Urgency::RepeatedAlarms(Reverse(count)),
            Signal {
                equipment: reference.to_owned(),
                equipment_name: equipment_name.clone(),
                finding: Finding::RepeatedAlarms {
                    condition: condition.to_owned(),
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                },
                explanation: format!(
                    "{equipment_name} a levé {} « {condition} » en {this_label}.",
                    count_of(count, "alarme", "alarmes"),
                ),
                recommendation: format!(
                    "Planifier une maintenance préventive de {equipment_name} pour traiter la cause des alarmes « {condition} »."
                ),
            },
        ));
    }

    found.sort_by(|(a, sa), (b, sb)| {
        a.cmp(b)
            .then_with(|| sa.equipment_name.cmp(&sb.equipment_name))
            .then_with(|| sa.equipment.cmp(&sb.equipment))
            .then_with(|| sa.explanation.cmp(&sb.explanation))
    });
    let keep = usize::try_from(rules.max_signals).unwrap_or(usize::MAX);
    let left_out = u32::try_from(found.len().saturating_sub(keep)).unwrap_or(u32::MAX);
    WeakSignals {
        signals: found
            .into_iter()
            .take(keep)
            .map(|(_, signal)| signal)
            .collect(),
        left_out,
    }
}

/// The order of signals in a report, the most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Urgency {
    /// By the date the disk would reach the Critical threshold, soonest first.
    DiskForecast(i64),
    /// By how far under the Major threshold the maximum stayed (in hundredths of °C), least
    /// first.
    Temperature(i64),
    Flapping(Reverse<u64>),
    RepeatedAlarms(Reverse<u64>),
    /// A full disk still rising, by its level in hundredths of a point, fullest first.
    DiskFull(Reverse<i64>),
}

type Found = (Urgency, Finding, String, String);

fn disk_signal(
    series: &Series,
    part: Option<&str>,
    equipment_name: &str,
    policy: &Policy,
    as_of: i64,
    zone: &TimeZone,
) -> Option<Found> {
    let rules = &policy.reports;
    let points = clean_points(series);
    // A fall of more than the policy's points in a day (a purge, a disk changed) starts the
    // trend again: what came before says nothing of the filling since.
    let restart = points
        .windows(2)
        .rposition(|pair| pair[0].2 - pair[1].2 > rules.disk_fall_restarts_trend_percent)
        .map_or(0, |index| index + 1);
    let tail: Vec<(i64, f64)> = points[restart..].iter().map(|p| (p.0, p.2)).collect();
    if tail.len() < usize::try_from(rules.min_days_of_data).unwrap_or(usize::MAX) {
        return None;
    }
    let trend = Trend::fit(&tail)?;
    let &(last_day, current) = tail.last()?;
    let critical = f64::from(policy.thresholds.disk_critical_percent);
    let major = f64::from(policy.thresholds.disk_major_percent);
    if trend.slope <= 0.0 || trend.r_squared < rules.min_trend_fit || current >= critical {
        return None;
    }
    // The line may cross the threshold before the last day while the last value is still under
    // it (a noisy fit): the forecast then starts from the last value at the same slope.
    let crossing = trend.reaches(critical).map(|at| {
        if at > last_day {
            at
        } else {
            let days = (critical - current) / trend.slope;
            last_day.saturating_add((days * DAY_MS as f64) as i64)
        }
    });
    let horizon = as_of.saturating_add(i64::from(rules.forecast_horizon_days) * DAY_MS);
    let reaches_critical_at = crossing.filter(|at| *at <= horizon).map(|at| at.max(as_of));
    if reaches_critical_at.is_none() && current < major {
        return None;
    }
    let disk = match part {
        Some(part) => format!("Le disque {part} de {equipment_name}"),
        None => format!("Le disque de {equipment_name}"),
    };
    let level = format!(
        "{disk} est rempli à {} % et progresse de {} par jour",
        format_number(current, 0),
        format_points(trend.slope),
    );
    let (urgency, explanation, recommendation) = match reaches_critical_at {
        Some(at) => {
            let date = format_date(at, zone);
            (
                Urgency::DiskForecast(at),
                format!(
                    "{level} : il atteindrait {} % vers le {date}.",
                    format_number(critical, 0)
                ),
                format!(
                    "Prévoir l'extension du stockage ou réduire la durée de rétention avant le {date}."
                ),
            )
        }
        None => (
            Urgency::DiskFull(Reverse((current * 100.0) as i64)),
            format!(
                "{level}, au-delà du seuil Majeur de {} %.",
                format_number(major, 0)
            ),
            format!(
                "Vérifier la durée de rétention et prévoir l'extension du stockage de {equipment_name}."
            ),
        ),
    };
    Some((
        urgency,
        Finding::DiskFilling {
            metric: series.metric.clone(),
            current_percent: current,
            per_day: trend.slope,
            reaches_critical_at,
        },
        explanation,
        recommendation,
    ))
}

fn temperature_signal(
    series: &Series,
    part: Option<&str>,
    equipment_name: &str,
    model: Option<&str>,
    policy: &Policy,
) -> Option<Found> {
    let rules = &policy.reports;
    let points = clean_points(series);
    let &(_, current, _) = points.last()?;
    let max = points.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
    let (major, _) = policy.temperature_thresholds(model);
    let major_f = f64::from(major);
    let enough = points.len() >= usize::try_from(rules.min_days_of_data).unwrap_or(usize::MAX);
    let means: Vec<(i64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
    let per_30_days = Trend::fit(&means)
        .filter(|trend| enough && trend.r_squared >= rules.min_trend_fit)
        .map_or(0.0, |trend| trend.slope * 30.0);
    let rising = per_30_days >= rules.temperature_rise_per_30_days;
    let near = max >= major_f - rules.temperature_margin_celsius;
    if !rising && !near {
        return None;
    }
    let subject = match part {
        Some(part) => format!("La température (capteur {part}) de {equipment_name}"),
        None => format!("La température de {equipment_name}"),
    };
    let degrees = |value: f64| format!("{} °C", format_number(value, 1));
    let against_major = if max >= major_f {
        format!("au-delà du seuil Majeur de {major} °C")
    } else {
        format!("à {} du seuil Majeur de {major} °C", degrees(major_f - max))
    };
    let explanation = match (rising, near) {
        (true, true) => format!(
            "{subject} monte de {} en 30 jours ({} en moyenne le dernier jour) et a atteint {}, {against_major}.",
            degrees(per_30_days),
            degrees(current),
            degrees(max),
        ),
        (true, false) => format!(
            "{subject} monte de {} en 30 jours ({} en moyenne le dernier jour, {} au plus) ; le seuil Majeur est de {major} °C.",
            degrees(per_30_days),
            degrees(current),
            degrees(max),
        ),
        _ => format!(
            "{subject} a atteint {}, {against_major} ({} en moyenne le dernier jour).",
            degrees(max),
            degrees(current),
        ),
    };
    let when = if max >= major_f {
        "sans attendre"
    } else {
        "lors de la prochaine visite"
    };
    let recommendation = format!(
        "Vérifier {when} la ventilation de {equipment_name} (ventilateurs, filtres, poussière) et la climatisation du local technique."
    );
    Some((
        Urgency::Temperature(((major_f - max) * 100.0) as i64),
        Finding::TemperatureRising {
            metric: series.metric.clone(),
            current,
            per_30_days,
            max,
            major_celsius: major,
        },
        explanation,
        recommendation,
    ))
}
