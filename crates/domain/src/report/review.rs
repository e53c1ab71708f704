//! The monthly alarm review of a site, for its security manager (CLO-3): how many alarms of
//! each severity against the month before, how fast they were acknowledged and resolved (mean
//! and median, over the alarms that were), the equipment most often at fault and with which
//! conditions, and French recommendations: early replacement of an equipment whose same
//! condition came back `early_replacement_min_repeats` times in the month (a failing disk, a
//! power supply), else preventive maintenance of one with `preventive_maintenance_min_alarms`
//! alarms or more. Thresholds and bounds are the policy's `[reports]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::period::Month;
use crate::alarm::lifecycle::AlarmId;
use crate::french::{count_of, format_number};
use crate::policy::{ReportRules, Severity};

/// One alarm as the review reads it: its condition already in French, its instants in ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmFacts {
    pub id: AlarmId,
    /// None for an alarm of the whole site (ALR-8's offline cameras).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment_name: Option<String>,
    /// The condition's French label (« panne de disque »).
    pub condition: String,
    pub severity: Severity,
    pub raised_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
}

/// Delays of the alarms that have them (acknowledgement, resolution), from their raising.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delays {
    /// How many alarms had the delay (the others were not acknowledged or resolved).
    pub count: u32,
    pub mean_ms: Option<i64>,
    /// The middle delay (the mean of the two middle ones for an even count).
    pub median_ms: Option<i64>,
}

impl Delays {
    fn of(mut delays: Vec<i64>) -> Delays {
        delays.sort_unstable();
        let count = delays.len();
        if count == 0 {
            return Delays::default();
        }
        let sum: i128 = delays.iter().map(|d| i128::from(*d)).sum();
        let middle = if count % 2 == 1 {
            delays[count / 2]
        } else {
            let pair = i128::from(delays[count / 2 - 1]) + i128::from(delays[count / 2]);
            i64::try_from(pair / 2).unwrap_or(i64::MAX)
        };
        Delays {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            mean_ms: i64::try_from(sum / count as i128).ok(),
            median_ms: Some(middle),
        }
    }
}

/// The figures of one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityFigures {
    pub severity: Severity,
    pub count: u32,
    pub previous_count: u32,
    pub acknowledgement: Delays,
    pub resolution: Delays,
}

/// How many alarms of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionCount {
    pub condition: String,
    pub count: u32,
}

/// An equipment among the most frequently at fault, with its conditions, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultyEquipment {
    pub equipment: String,
    pub equipment_name: String,
    pub alarms: u32,
    pub conditions: Vec<ConditionCount>,
}

/// What the review recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    PreventiveMaintenance,
    EarlyReplacement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub equipment: String,
    pub equipment_name: String,
    pub action: Action,
    /// The condition that keeps coming back (early replacement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The alarms behind it (of that condition, or all of the equipment's).
    pub alarms: u32,
    /// The recommendation in French, with its figures.
    pub text: String,
}

/// A site's alarm review for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmReview {
    pub month: Month,
    pub total: u32,
    pub previous_total: u32,
    /// Critical, Major, Minor, in that order, each present.
    pub severities: Vec<SeverityFigures>,
    /// The most frequently faulty equipment, most alarms first (`top_equipment` at most).
    pub faulty_equipment: Vec<FaultyEquipment>,
    pub recommendations: Vec<Recommendation>,
    /// Recommendations beyond `max_recommendations`, not listed.
    pub recommendations_left_out: u32,
    /// One French sentence: the month's alarms against the month before, by severity.
    pub summary: String,
}

const SEVERITIES: [Severity; 3] = [Severity::Critical, Severity::Major, Severity::Minor];

/// The review of `month` from its alarms and the previous month's (for the comparison only).
pub fn alarm_review(
    month: Month,
    alarms: &[AlarmFacts],
    previous: &[AlarmFacts],
    rules: &ReportRules,
) -> AlarmReview {
    let count = |list: &[AlarmFacts], severity: Severity| {
        u32::try_from(list.iter().filter(|a| a.severity == severity).count()).unwrap_or(u32::MAX)
    };
    let severities: Vec<SeverityFigures> = SEVERITIES
        .iter()
        .map(|&severity| {
            let of = || alarms.iter().filter(move |a| a.severity == severity);
            // A stamp before the raising is inconsistent data: left out rather than negative.
            let delay = |at: Option<i64>, raised: i64| at.map(|at| at - raised).filter(|d| *d >= 0);
            SeverityFigures {
                severity,
                count: count(alarms, severity),
                previous_count: count(previous, severity),
                acknowledgement: Delays::of(
                    of().filter_map(|a| delay(a.acknowledged_at, a.raised_at))
                        .collect(),
                ),
                resolution: Delays::of(
                    of().filter_map(|a| delay(a.resolved_at, a.raised_at))
                        .collect(),
                ),
            }
        })
        .collect();
    let total = u32::try_from(alarms.len()).unwrap_or(u32::MAX);
    let previous_total = u32::try_from(previous.len()).unwrap_or(u32::MAX);

    // Per equipment: its name and its alarms per condition.
    let mut by_equipment: BTreeMap<&str, (String, u32, BTreeMap<&str, u32>)> = BTreeMap::new();
    for alarm in alarms {
        let Some(reference) = alarm.equipment.as_deref() else {
            continue;
        };
        let entry = by_equipment.entry(reference).or_insert_with(|| {
            (
                alarm
                    .equipment_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| reference.to_owned()),
                0,
                BTreeMap::new(),
            )
        });
        entry.1 += 1;
        *entry.2.entry(alarm.condition.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<FaultyEquipment> = by_equipment
        .into_iter()
        .map(|(reference, (name, count, conditions))| {
            let mut conditions: Vec<ConditionCount> = conditions
                .into_iter()
                .map(|(condition, count)| ConditionCount {
                    condition: condition.to_owned(),
                    count,
                })
                .collect();
            conditions.sort_by(|a, b| b.count.cmp(&a.count).then(a.condition.cmp(&b.condition)));
            FaultyEquipment {
                equipment: reference.to_owned(),
                equipment_name: name,
                alarms: count,
                conditions,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.alarms
            .cmp(&a.alarms)
            .then_with(|| a.equipment_name.cmp(&b.equipment_name))
            .then_with(|| a.equipment.cmp(&b.equipment))
    });

    let label = month.label();
    let mut recommendations = Vec::new();
    for equipment in &ranked {
        let name = &equipment.equipment_name;
        let repeated: Vec<&ConditionCount> = equipment
            .conditions
            .iter()
            .filter(|c| c.count >= rules.early_replacement_min_repeats)
            .collect();
        for condition in &repeated {
            recommendations.push(Recommendation {
                equipment: equipment.equipment.clone(),
                equipment_name: name.clone(),
                action: Action::EarlyReplacement,
                condition: Some(condition.condition.clone()),
                alarms: condition.count,
                text: format!(
                    "Envisager le remplacement anticipé de {name} ou de l'élément en cause : {} « {} » en {label}.",
                    count_of(u64::from(condition.count), "alarme", "alarmes"),
                    condition.condition,
                ),
            });
        }
        if repeated.is_empty() && equipment.alarms >= rules.preventive_maintenance_min_alarms {
            let conditions = equipment
                .conditions
                .iter()
                .map(|c| c.condition.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            recommendations.push(Recommendation {
                equipment: equipment.equipment.clone(),
                equipment_name: name.clone(),
                action: Action::PreventiveMaintenance,
                condition: None,
                alarms: equipment.alarms,
                text: format!(
                    "Planifier une maintenance préventive de {name} : {} en {label} ({conditions}).",
                    count_of(u64::from(equipment.alarms), "alarme", "alarmes"),
                ),
            });
        }
    }
    let keep = usize::try_from(rules.max_recommendations).unwrap_or(usize::MAX);
    let recommendations_left_out =
        u32::try_from(recommendations.len().saturating_sub(keep)).unwrap_or(u32::MAX);
    recommendations.truncate(keep);
    ranked.truncate(usize::try_from(rules.top_equipment).unwrap_or(usize::MAX));

    let parts = severities
        .iter()
        .map(|figures| {
            let label = figures.severity.label().to_lowercase();
            let plural = format!("{label}s");
            count_of(u64::from(figures.count), &label, &plural)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "{} en {label} ({} en {}) : {parts}.",
        count_of(u64::from(total), "alarme", "alarmes"),
        format_number(f64::from(previous_total), 0),
        month.previous().label(),
    );
    AlarmReview {
        month,
        total,
        previous_total,
        severities,
        faulty_equipment: ranked,
        recommendations,
        recommendations_left_out,
        summary,
    }
}
