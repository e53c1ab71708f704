//! The monthly reports' analytics (issue 9): periods in a site's zone across DST, exact
//! availability on hand-computed timelines and by properties, maintenance windows on the
//! nights of the change, weak signals with their French wording, the alarm review and the
//! satisfaction analysis.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use vigie_domain::inventory::MaintenanceWindow;
use vigie_domain::policy::{Policy, Severity};
use vigie_domain::report::availability::{
    CheckHistory, Measure, equipment_days, equipment_measure, maintenance_intervals, outages,
};
use vigie_domain::report::review::{Action, AlarmFacts, alarm_review};
use vigie_domain::report::satisfaction::{
    MonthSurveys, Question, SurveyFacts, satisfaction_analysis,
};
use vigie_domain::report::signals::{
    AlarmCount, EquipmentFacts, Finding, OutageCount, Series, SignalFacts, Trend, weak_signals,
};
use vigie_domain::report::{Month, Period, ReportError};
use vigie_domain::supervision::CheckStatus::{self, Down, Unknown, Up};
use vigie_domain::ticket::desk::SurveyAnswers;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

/// An instant written in RFC 3339, as epoch ms.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn month(text: &str) -> Month {
    Month::parse(text).unwrap()
}

fn check(at_start: Option<CheckStatus>, changes: &[(&str, CheckStatus)]) -> CheckHistory {
    CheckHistory {
        at_start,
        changes: changes.iter().map(|(t, s)| (at(t), *s)).collect(),
    }
}

fn window(days: &str, start: &str, duration: &str) -> MaintenanceWindow {
    serde_json::from_value(serde_json::json!({
        "label": "Maintenance du dimanche", "days": [days], "start": start, "duration": duration,
    }))
    .unwrap()
}

// --- Periods --------------------------------------------------------------------------------

#[test]
fn a_month_is_read_written_and_stepped() {
    let november = month("2026-11");
    assert_eq!((november.year(), november.month()), (2026, 11));
    assert_eq!(november.to_string(), "2026-11");
    assert_eq!(november.label(), "novembre 2026");
    assert_eq!(november.previous(), month("2026-10"));
    assert_eq!(month("2027-01").previous(), month("2026-12"));
    assert_eq!(month("2026-12").next(), month("2027-01"));
    assert_eq!(month("2026-02").label(), "février 2026");
    assert_eq!(
        serde_json::to_string(&november).unwrap(),
        "\"2026-11\"".to_string()
    );
    assert_eq!(
        serde_json::from_str::<Month>("\"2026-11\"").unwrap(),
        november
    );
    for wrong in [
        "2026-13", "2026-1", "26-11", "novembre", "2026-00", "2026/11", "",
    ] {
        let error = Month::parse(wrong).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("mois invalide : « {wrong} » (attendu AAAA-MM, par exemple 2026-11)")
        );
    }
    assert!(serde_json::from_str::<Month>("\"2026-13\"").is_err());
    assert_eq!(
        Month::containing(at("2026-10-31T23:30:00Z"), &paris()),
        Some(november)
    );
}

#[test]
fn paris_months_have_their_real_length_and_their_23_and_25_hour_days() {
    let paris = paris();
    // October 2026: summer time ends on Sunday the 25th, a day of 25 hours.
    let (from, to) = month("2026-10").bounds(&paris);
    assert_eq!(
        (from, to),
        (at("2026-09-30T22:00:00Z"), at("2026-10-31T23:00:00Z"))
    );
    assert_eq!(to - from, 745 * HOUR);
    let days = month("2026-10").days(&paris);
    assert_eq!(days.len(), 31);
    assert_eq!(
        days[24],
        (at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"))
    );
    assert_eq!(days[24].1 - days[24].0, 25 * HOUR);
    assert!(
        days.iter()
            .enumerate()
            .all(|(i, d)| i == 24 || d.1 - d.0 == 24 * HOUR)
    );
    // March 2026: summer time starts on Sunday the 29th, a day of 23 hours.
    let (from, to) = month("2026-03").bounds(&paris);
    assert_eq!(to - from, 743 * HOUR);
    let days = month("2026-03").days(&paris);
    assert_eq!(days[28].1 - days[28].0, 23 * HOUR);
    // November: 30 days of 24 hours; the days touch each other from bound to bound.
    let days = month("2026-11").days(&paris);
    let (from, to) = month("2026-11").bounds(&paris);
    assert_eq!(to - from, 720 * HOUR);
    assert_eq!((days[0].0, days[29].1), (from, to));
    assert!(days.windows(2).all(|pair| pair[0].1 == pair[1].0));
    // Another zone, another month.
    let new_york = TimeZone::get("America/New_York").unwrap();
    assert_eq!(
        month("2026-11").bounds(&new_york).0,
        at("2026-11-01T04:00:00Z")
    );
}

#[test]
fn a_period_on_demand_is_bounded_and_cut_into_local_days() {
    let paris = paris();
    let period = Period::new(at("2026-10-24T10:00:00Z"), at("2026-10-26T12:00:00Z")).unwrap();
    assert_eq!(
        period.days(&paris),
        vec![
            (at("2026-10-24T10:00:00Z"), at("2026-10-24T22:00:00Z")),
            (at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")),
            (at("2026-10-25T23:00:00Z"), at("2026-10-26T12:00:00Z")),
        ]
    );
    assert!(matches!(
        Period::new(10, 10),
        Err(ReportError::InvalidPeriod(_))
    ));
    let too_long = Period::new(0, 500 * DAY).unwrap_err();
    assert_eq!(too_long.to_string(), "période invalide : 400 jours au plus");
    // A year is fine.
    let year = Period::new(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")).unwrap();
    assert_eq!(year.days(&paris).len(), 366);
}

// --- Availability ---------------------------------------------------------------------------

#[test]
fn an_outage_across_midnight_is_split_into_its_days() {
    let paris = paris();
    let november = month("2026-11");
    let (from, to) = november.bounds(&paris);
    // Down from 22:30 on the 3rd to 01:15 on the 4th, Paris time (UTC+1).
    let ping = check(
        Some(Up),
        &[("2026-11-03T21:30:00Z", Down), ("2026-11-04T00:15:00Z", Up)],
    );
    let measure = equipment_measure(from, to, std::slice::from_ref(&ping), &[]);
    assert_eq!(
        measure,
        Measure {
            up_ms: 720 * HOUR - 165 * MINUTE,
            down_ms: 165 * MINUTE,
            unknown_ms: 0,
            maintenance_ms: 0,
        }
    );
    let days = equipment_days(&november.days(&paris), std::slice::from_ref(&ping), &[]);
    assert_eq!(days[2].down_ms, 90 * MINUTE);
    assert_eq!(days[3].down_ms, 75 * MINUTE);
    assert!(
        days.iter()
            .enumerate()
            .all(|(i, d)| i == 2 || i == 3 || d.down_ms == 0)
    );
    assert_eq!(days.iter().sum::<Measure>(), measure);
    assert_eq!(
        outages(from, to, &[ping], &[]),
        vec![(at("2026-11-03T21:30:00Z"), at("2026-11-04T00:15:00Z"))]
    );
    let rate = measure.rate().unwrap();
    assert!((rate - (1.0 - 2.75 / 720.0)).abs() < 1e-12);
}

#[test]
fn an_outage_across_the_month_boundary_counts_only_inside() {
    let paris = paris();
    let (from, to) = month("2026-11").bounds(&paris);
    // Down since October, back at 03:00 on 1 November; down again at 23:00 on the 30th,
    // still down when December begins.
    let ping = check(
        Some(Down),
        &[
            ("2026-10-31T20:00:00Z", Down),
            ("2026-11-01T02:00:00Z", Up),
            ("2026-11-30T22:00:00Z", Down),
            ("2026-12-01T05:00:00Z", Up),
        ],
    );
    let measure = equipment_measure(from, to, std::slice::from_ref(&ping), &[]);
    assert_eq!(measure.down_ms, 4 * HOUR);
    assert_eq!(measure.up_ms, 716 * HOUR);
    assert_eq!(
        outages(from, to, &[ping], &[]),
        vec![
            (from, at("2026-11-01T02:00:00Z")),
            (at("2026-11-30T22:00:00Z"), to)
        ]
    );
}

#[test]
fn alr_9_maintenance_windows_follow_the_wall_clock_on_the_nights_of_the_change() {
    let paris = paris();
    let sunday = [window("sunday", "02:00", "2h")];
    // October 2026: four Sundays in summer time (02:00–04:00 CEST, 00:00–02:00 UTC), and the
    // night summer time ends: 02:00 CEST (the first of the two) to 04:00 CET, three hours.
    let october = month("2026-10");
    let (from, to) = october.bounds(&paris);
    let intervals = maintenance_intervals(&sunday, &paris, from, to).unwrap();
    assert_eq!(
        intervals,
        vec![
            (at("2026-10-04T00:00:00Z"), at("2026-10-04T02:00:00Z")),
            (at("2026-10-11T00:00:00Z"), at("2026-10-11T02:00:00Z")),
            (at("2026-10-18T00:00:00Z"), at("2026-10-18T02:00:00Z")),
            (at("2026-10-25T00:00:00Z"), at("2026-10-25T03:00:00Z")),
        ]
    );
    let always_up = [check(Some(Up), &[])];
    let measure = equipment_measure(from, to, &always_up, &intervals);
    assert_eq!(measure.maintenance_ms, 9 * HOUR);
    assert_eq!(measure.up_ms, 736 * HOUR);
    assert_eq!(measure.total_ms(), 745 * HOUR);
    let days = equipment_days(&october.days(&paris), &always_up, &intervals);
    assert_eq!(
        (days[24].maintenance_ms, days[24].up_ms),
        (3 * HOUR, 22 * HOUR)
    );
    // March 2026: 02:00 does not exist on the 29th; the window opens at 03:00 CEST (01:00
    // UTC) and closes at 04:00 CEST: one hour.
    let march = month("2026-03");
    let (from, to) = march.bounds(&paris);
    let intervals = maintenance_intervals(&sunday, &paris, from, to).unwrap();
    assert_eq!(intervals.len(), 5);
    assert_eq!(
        intervals[4],
        (at("2026-03-29T01:00:00Z"), at("2026-03-29T02:00:00Z"))
    );
    assert_eq!(
        intervals[0],
        (at("2026-03-01T01:00:00Z"), at("2026-03-01T03:00:00Z"))
    );
    let measure = equipment_measure(from, to, &always_up, &intervals);
    assert_eq!(
        (measure.maintenance_ms, measure.total_ms()),
        (9 * HOUR, 743 * HOUR)
    );
    let days = equipment_days(&march.days(&paris), &always_up, &intervals);
    assert_eq!((days[28].maintenance_ms, days[28].up_ms), (HOUR, 22 * HOUR));
}

#[test]
fn occurrences_overlapping_the_period_are_clipped_and_merged() {
    let paris = paris();
    // Saturday 22:00 for 3 h, then Sunday 01:00 for 2 h: one cover from 22:00 to 03:00.
    let windows = [
        window("saturday", "22:00", "3h"),
        window("sunday", "01:00", "2h"),
    ];
    // From Sunday 29 November 00:00 (Paris) to Monday: the Saturday window is already open.
    let (from, to) = (at("2026-11-28T23:00:00Z"), at("2026-11-29T23:00:00Z"));
    assert_eq!(
        maintenance_intervals(&windows, &paris, from, to).unwrap(),
        vec![(from, at("2026-11-29T02:00:00Z"))]
    );
    let many = vec![window("sunday", "01:00", "1h"); 101];
    assert!(matches!(
        maintenance_intervals(&many, &paris, from, to),
        Err(ReportError::TooMany(_))
    ));
    assert!(maintenance_intervals(&windows, &paris, 0, 500 * DAY).is_err());
}

#[test]
fn maintenance_covering_part_of_an_outage_takes_that_part_out() {
    let paris = paris();
    let (from, to) = month("2026-11").bounds(&paris);
    // Down from 10:00 to 14:00 on the 10th (Paris); maintenance planned from 12:00 to 16:00,
    // and one that began before the month's end and goes beyond it.
    let ping = check(
        Some(Up),
        &[("2026-11-10T09:00:00Z", Down), ("2026-11-10T13:00:00Z", Up)],
    );
    let maintenance = [
        (at("2026-11-10T11:00:00Z"), at("2026-11-10T15:00:00Z")),
        (to - HOUR, to + 5 * HOUR),
    ];
    let measure = equipment_measure(from, to, std::slice::from_ref(&ping), &maintenance);
    assert_eq!(measure.down_ms, 2 * HOUR);
    assert_eq!(measure.maintenance_ms, 5 * HOUR);
    assert_eq!(measure.up_ms, 713 * HOUR);
    assert_eq!(
        outages(from, to, &[ping], &maintenance),
        vec![(at("2026-11-10T09:00:00Z"), at("2026-11-10T11:00:00Z"))]
    );
}

#[test]
fn a_monitoring_gap_is_unknown_not_down_and_stays_out_of_the_rate() {
    let paris = paris();
    let (from, to) = month("2026-11").bounds(&paris);
    // The site's probe lost its link for 6 hours: the equipment's only check is unknown.
    let ping = check(
        Some(Up),
        &[
            ("2026-11-12T08:00:00Z", Unknown),
            ("2026-11-12T14:00:00Z", Up),
        ],
    );
    let measure = equipment_measure(from, to, std::slice::from_ref(&ping), &[]);
    assert_eq!(
        (measure.up_ms, measure.down_ms, measure.unknown_ms),
        (714 * HOUR, 0, 6 * HOUR)
    );
    assert_eq!(measure.rate(), Some(1.0));
    assert!(outages(from, to, std::slice::from_ref(&ping), &[]).is_empty());
    // Another check still up during the gap (an agent pushing by another path): up.
    let agent = check(Some(Up), &[]);
    let measure = equipment_measure(from, to, &[ping, agent], &[]);
    assert_eq!((measure.up_ms, measure.unknown_ms), (720 * HOUR, 0));
}

#[test]
fn an_equipment_first_observed_mid_month_is_unknown_before() {
    let paris = paris();
    let (from, to) = month("2026-11").bounds(&paris);
    let ping = check(None, &[("2026-11-15T23:00:00Z", Up)]);
    let measure = equipment_measure(from, to, &[ping], &[]);
    assert_eq!((measure.unknown_ms, measure.up_ms), (15 * DAY, 15 * DAY));
    assert_eq!(measure.rate(), Some(1.0));
    // Never observed, or no checks at all: nothing measured, no rate.
    let never = equipment_measure(from, to, &[check(None, &[])], &[]);
    assert_eq!((never.unknown_ms, never.rate()), (720 * HOUR, None));
    assert_eq!(equipment_measure(from, to, &[], &[]).unknown_ms, 720 * HOUR);
}

#[test]
fn two_checks_down_together_count_once() {
    let paris = paris();
    let (from, to) = month("2026-11").bounds(&paris);
    let ping = check(
        Some(Up),
        &[("2026-11-05T10:00:00Z", Down), ("2026-11-05T12:00:00Z", Up)],
    );
    let rtsp = check(
        Some(Up),
        &[("2026-11-05T11:00:00Z", Down), ("2026-11-05T13:00:00Z", Up)],
    );
    let checks = [ping, rtsp];
    assert_eq!(equipment_measure(from, to, &checks, &[]).down_ms, 3 * HOUR);
    assert_eq!(
        outages(from, to, &checks, &[]),
        vec![(at("2026-11-05T10:00:00Z"), at("2026-11-05T13:00:00Z"))]
    );
    // Changes listed out of order, a repeated down: the same timeline.
    let shuffled = [
        check(
            Some(Up),
            &[
                ("2026-11-05T12:00:00Z", Up),
                ("2026-11-05T10:00:00Z", Down),
                ("2026-11-05T10:30:00Z", Down),
            ],
        ),
        checks[1].clone(),
    ];
    assert_eq!(
        equipment_measure(from, to, &shuffled, &[]),
        equipment_measure(from, to, &checks, &[])
    );
}

#[test]
fn measures_add_up_over_a_site() {
    let a = Measure {
        up_ms: 10,
        down_ms: 2,
        unknown_ms: 3,
        maintenance_ms: 1,
    };
    let b = Measure {
        up_ms: 5,
        down_ms: 0,
        unknown_ms: 0,
        maintenance_ms: 4,
    };
    let site: Measure = [a, b].into_iter().sum();
    assert_eq!(site, a + b);
    assert_eq!(
        site,
        Measure {
            up_ms: 15,
            down_ms: 2,
            unknown_ms: 3,
            maintenance_ms: 5,
        }
    );
    assert_eq!(site.rate(), Some(15.0 / 17.0));
    assert_eq!(Measure::default().rate(), None);
    let json = serde_json::to_value(site).unwrap();
    assert_eq!(json["maintenance_ms"], 5);
}

/// The 100,000-equipment month the monthly report must survive: run with
/// `VIGIE_SLOW_TESTS=1 cargo test --release -p vigie-domain report::availability_scales`.
#[test]
fn availability_scales_to_a_large_fleet() {
    if std::env::var("VIGIE_SLOW_TESTS").is_err() {
        return;
    }
    let paris = paris();
    let november = month("2026-11");
    let (from, to) = november.bounds(&paris);
    let days = november.days(&paris);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let fleet: Vec<Vec<CheckHistory>> = (0..100_000)
        .map(|_| {
            (0..3)
                .map(|_| {
                    let mut at = from;
                    let changes = (0..15)
                        .map(|i| {
                            at += (next() % (2 * DAY as u64)) as i64;
                            (at, [Down, Up, Unknown][(i + next() as usize % 2) % 3])
                        })
                        .collect();
                    CheckHistory {
                        at_start: Some(Up),
                        changes,
                    }
                })
                .collect()
        })
        .collect();
    let maintenance = [(from + DAY, from + DAY + 2 * HOUR)];
    let started = std::time::Instant::now();
    let mut total = Measure::default();
    for checks in &fleet {
        total += equipment_measure(from, to, checks, &maintenance);
        let per_day = equipment_days(&days, checks, &maintenance);
        assert_eq!(per_day.len(), 30);
    }
    let elapsed = started.elapsed();
    assert_eq!(total.total_ms(), 100_000 * (to - from));
    eprintln!("100 000 équipements × 45 changements : {elapsed:?}");
    if !cfg!(debug_assertions) {
        assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
    }
}

fn status() -> impl Strategy<Value = CheckStatus> {
    prop_oneof![Just(Up), Just(Down), Just(Unknown)]
}

/// Checks whose changes may start before the period and end after it.
fn histories(from: i64, to: i64) -> impl Strategy<Value = Vec<CheckHistory>> {
    let change = (from - DAY..to + DAY, status());
    let history = (
        prop::option::of(status()),
        prop::collection::vec(change, 0..24),
    )
        .prop_map(|(at_start, mut changes)| {
            changes.sort_by_key(|c| c.0);
            CheckHistory { at_start, changes }
        });
    prop::collection::vec(history, 0..4)
}

fn intervals(from: i64, to: i64) -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec(
        (from - DAY..to + DAY, 0..3 * DAY).prop_map(|(start, length)| (start, start + length)),
        0..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_four_parts_add_up_to_the_period_and_the_days_to_the_month(
        checks in histories(at("2026-09-30T22:00:00Z"), at("2026-10-31T23:00:00Z")),
        maintenance in intervals(at("2026-09-30T22:00:00Z"), at("2026-10-31T23:00:00Z")),
    ) {
        let paris = paris();
        let october = month("2026-10");
        let (from, to) = october.bounds(&paris);
        let measure = equipment_measure(from, to, &checks, &maintenance);
        prop_assert_eq!(measure.total_ms(), to - from);
        prop_assert!(measure.up_ms >= 0 && measure.down_ms >= 0 && measure.unknown_ms >= 0 && measure.maintenance_ms >= 0);
        let days = october.days(&paris);
        let per_day = equipment_days(&days, &checks, &maintenance);
        for (day, m) in days.iter().zip(&per_day) {
            prop_assert_eq!(m.total_ms(), day.1 - day.0);
        }
        prop_assert_eq!(per_day.iter().sum::<Measure>(), measure);
        if let Some(rate) = measure.rate() {
            prop_assert!((0.0..=1.0).contains(&rate));
        }
        let found = outages(from, to, &checks, &maintenance);
        prop_assert_eq!(found.iter().map(|(s, e)| e - s).sum::<i64>(), measure.down_ms);
        prop_assert!(found.iter().all(|(s, e)| from <= *s && s < e && *e <= to));
        prop_assert!(found.windows(2).all(|pair| pair[0].1 < pair[1].0));
    }

    #[test]
    fn more_maintenance_never_adds_downtime(
        checks in histories(at("2026-10-31T23:00:00Z"), at("2026-11-30T23:00:00Z")),
        maintenance in intervals(at("2026-10-31T23:00:00Z"), at("2026-11-30T23:00:00Z")),
        extra in intervals(at("2026-10-31T23:00:00Z"), at("2026-11-30T23:00:00Z")),
    ) {
        let (from, to) = month("2026-11").bounds(&paris());
        let before = equipment_measure(from, to, &checks, &maintenance);
        let mut more = maintenance.clone();
        more.extend(extra);
        let after = equipment_measure(from, to, &checks, &more);
        prop_assert!(after.down_ms <= before.down_ms);
        prop_assert!(after.up_ms <= before.up_ms);
        prop_assert!(after.maintenance_ms >= before.maintenance_ms);
    }

    #[test]
    fn any_list_of_days_gives_the_same_measures_as_one_by_one(
        checks in histories(0, 10 * DAY),
        cuts in prop::collection::vec(0..10 * DAY, 0..8),
        overlapping in any::<bool>(),
    ) {
        let mut cuts = cuts;
        cuts.push(0);
        cuts.push(10 * DAY);
        cuts.sort();
        cuts.dedup();
        let mut days: Vec<(i64, i64)> = cuts.windows(2).map(|pair| (pair[0], pair[1])).collect();
        if overlapping && !days.is_empty() {
            days.push((DAY, 3 * DAY));
        }
        let per_day = equipment_days(&days, &checks, &[(2 * DAY, 2 * DAY + HOUR)]);
        for (day, m) in days.iter().zip(&per_day) {
            prop_assert_eq!(*m, equipment_measure(day.0, day.1, &checks, &[(2 * DAY, 2 * DAY + HOUR)]));
        }
    }
}

// --- Weak signals ---------------------------------------------------------------------------

/// A series of the month of November 2026 in Paris, one point per local day.
fn daily(equipment: &str, metric: &str, values: impl Fn(usize) -> (f64, f64)) -> Series {
    Series {
        equipment: equipment.into(),
        metric: metric.into(),
        points: month("2026-11")
            .days(&paris())
            .iter()
            .enumerate()
            .map(|(i, (start, _))| {
                let (mean, max) = values(i);
                (*start, mean, max)
            })
            .collect(),
    }
}

fn names() -> BTreeMap<String, EquipmentFacts> {
    [
        ("nvr-01", "NVR-01", Some("Hikvision DS-96128NI")),
        ("cam-12", "CAM-12", None),
        ("cam-13", "CAM-13", None),
    ]
    .into_iter()
    .map(|(reference, name, model)| {
        (
            reference.to_string(),
            EquipmentFacts {
                name: name.into(),
                model: model.map(str::to_owned),
            },
        )
    })
    .collect()
}

fn signals_of(facts: &SignalFacts, policy: &Policy) -> Vec<vigie_domain::report::Signal> {
    weak_signals(facts, &names(), policy, month("2026-11"), &paris()).signals
}

fn series_only(series: Vec<Series>) -> SignalFacts {
    SignalFacts {
        series,
        ..SignalFacts::default()
    }
}

#[test]
fn dsh_2_a_disk_filling_linearly_gets_its_forecast_date() {
    // 70 % on 1 November, 0.4 point a day: the line reaches 95 % 62.5 days after, on
    // 2 January 2027 at noon (Paris).
    let facts = series_only(vec![daily("nvr-01", "disk_used_percent:/data", |i| {
        let max = 70.0 + 0.4 * i as f64;
        (max - 1.0, max)
    })]);
    let signals = signals_of(&facts, &Policy::default_policy());
    assert_eq!(signals.len(), 1);
    let signal = &signals[0];
    let Finding::DiskFilling {
        metric,
        current_percent,
        per_day,
        reaches_critical_at,
    } = &signal.finding
    else {
        panic!("{signal:?}")
    };
    assert_eq!(metric, "disk_used_percent:/data");
    assert!((current_percent - 81.6).abs() < 1e-9);
    assert!((per_day - 0.4).abs() < 1e-9);
    let expected = at("2027-01-02T11:00:00Z");
    assert!((reaches_critical_at.unwrap() - expected).abs() < MINUTE);
    assert_eq!(
        signal.explanation,
        "Le disque /data de NVR-01 est rempli à 82 % et progresse de 0,4 point par jour : il atteindrait 95 % vers le 2 janvier 2027."
    );
    assert_eq!(
        signal.recommendation,
        "Prévoir l'extension du stockage ou réduire la durée de rétention avant le 2 janvier 2027."
    );
    assert_eq!(signal.equipment_name, "NVR-01");
    let json = serde_json::to_value(signal).unwrap();
    assert_eq!(json["finding"]["kind"], "disk_filling");
}

#[test]
fn a_flat_disk_or_a_slow_one_far_from_full_gives_nothing() {
    let policy = Policy::default_policy();
    let flat = series_only(vec![daily("nvr-01", "disk_used_percent:/data", |_| {
        (79.0, 80.0)
    })]);
    assert!(signals_of(&flat, &policy).is_empty());
    // 0.05 point a day from 50 %: 95 % in two years and a half, beyond the 90-day horizon.
    let slow = series_only(vec![daily("nvr-01", "disk_used_percent:/data", |i| {
        (50.0, 50.0 + 0.05 * i as f64)
    })]);
    assert!(signals_of(&slow, &policy).is_empty());
    // Too few days to tell.
    let short = series_only(vec![Series {
        points: daily("nvr-01", "disk_used_percent:/data", |i| {
            (0.0, 80.0 + i as f64)
        })
        .points[..10]
            .to_vec(),
        ..daily("nvr-01", "disk_used_percent:/data", |_| (0.0, 0.0))
    }]);
    assert!(signals_of(&short, &policy).is_empty());
    // Already at the Critical threshold: that is an alarm, not a weak signal.
    let full = series_only(vec![daily("nvr-01", "disk_used_percent", |i| {
        (90.0, 80.0 + 0.6 * i as f64)
    })]);
    assert!(signals_of(&full, &policy).is_empty());
}

#[test]
fn a_noisy_disk_with_a_clear_trend_still_forecasts() {
    // 60 % + 0.6 point a day over 45 days, with up to ±1.5 points of noise each day.
    let noise = |i: usize| 1.5 * (((i * 7919) % 13) as f64 - 6.0) / 6.0;
    let start = at("2026-10-16T22:00:00Z");
    let series = Series {
        equipment: "nvr-01".into(),
        metric: "disk_used_percent:/data".into(),
        points: (0..45)
            .map(|i| {
                let max = 60.0 + 0.6 * i as f64 + noise(i);
                (start + i as i64 * DAY, max - 2.0, max)
            })
            .collect(),
    };
    let signals = signals_of(&series_only(vec![series]), &Policy::default_policy());
    let Finding::DiskFilling {
        reaches_critical_at: Some(reaches),
        per_day,
        ..
    } = signals[0].finding
    else {
        panic!("{signals:?}")
    };
    // The noiseless line reaches 95 % after 58.3 days.
    let truth = start + (35.0 / 0.6 * DAY as f64) as i64;
    assert!((reaches - truth).abs() < 3 * DAY, "{reaches} vs {truth}");
    assert!((per_day - 0.6).abs() < 0.05);
}

#[test]
fn a_purge_starts_the_disk_trend_again() {
    // Filling fast to 90 % then purged to 40 % on the 11th, filling at 1 point a day since.
    let facts = series_only(vec![daily("nvr-01", "disk_used_percent:/data", |i| {
        let max = if i < 10 {
            70.0 + 2.0 * i as f64
        } else {
            40.0 + (i - 10) as f64
        };
        (max, max)
    })]);
    let signals = signals_of(&facts, &Policy::default_policy());
    let Finding::DiskFilling {
        per_day,
        current_percent,
        reaches_critical_at,
        ..
    } = &signals[0].finding
    else {
        panic!("{signals:?}")
    };
    assert!((per_day - 1.0).abs() < 1e-9);
    assert_eq!(*current_percent, 59.0);
    // 95 % 55 days after the 11th: 5 January 2027.
    assert_eq!(
        vigie_domain::french::format_date(reaches_critical_at.unwrap(), &paris()),
        "5 janvier 2027"
    );
}

#[test]
fn a_full_disk_still_rising_beyond_the_horizon_is_a_signal_without_a_date() {
    let facts = series_only(vec![daily("nvr-01", "disk_used_percent", |i| {
        (88.0, 88.0 + 0.02 * i as f64)
    })]);
    let signals = signals_of(&facts, &Policy::default_policy());
    assert!(matches!(
        signals[0].finding,
        Finding::DiskFilling {
            reaches_critical_at: None,
            ..
        }
    ));
    assert_eq!(
        signals[0].explanation,
        "Le disque de NVR-01 est rempli à 89 % et progresse de 0,02 point par jour, au-delà du seuil Majeur de 85 %."
    );
    assert_eq!(
        signals[0].recommendation,
        "Vérifier la durée de rétention et prévoir l'extension du stockage de NVR-01."
    );
}

#[test]
fn alr_3_a_temperature_rising_or_near_its_threshold_is_a_signal() {
    let policy = Policy::default_policy();
    // 50 °C rising by 0.2 °C a day: 6 °C in 30 days, far from 70 °C.
    let rising = series_only(vec![daily("cam-12", "temperature_celsius", |i| {
        let mean = 50.0 + 0.2 * i as f64;
        (mean, mean + 3.0)
    })]);
    let signals = signals_of(&rising, &policy);
    let Finding::TemperatureRising {
        per_30_days, max, ..
    } = signals[0].finding
    else {
        panic!("{signals:?}")
    };
    assert!((per_30_days - 6.0).abs() < 1e-9);
    assert!((max - 58.8).abs() < 1e-9);
    assert_eq!(
        signals[0].explanation,
        "La température de CAM-12 monte de 6,0 °C en 30 jours (55,8 °C en moyenne le dernier jour, 58,8 °C au plus) ; le seuil Majeur est de 70 °C."
    );
    assert_eq!(
        signals[0].recommendation,
        "Vérifier lors de la prochaine visite la ventilation de CAM-12 (ventilateurs, filtres, poussière) et la climatisation du local technique."
    );
    // Flat at 64 °C with one peak at 66 °C: within 5 °C of 70 °C.
    let near = series_only(vec![daily("cam-13", "temperature_celsius:cpu", |i| {
        (64.0, if i == 20 { 66.0 } else { 64.5 })
    })]);
    let signals = signals_of(&near, &policy);
    assert_eq!(
        signals[0].explanation,
        "La température (capteur cpu) de CAM-13 a atteint 66,0 °C, à 4,0 °C du seuil Majeur de 70 °C (64,0 °C en moyenne le dernier jour)."
    );
    // Rising and over the threshold.
    let over = series_only(vec![daily("cam-12", "temperature_celsius", |i| {
        let mean = 60.0 + 0.3 * i as f64;
        (mean, mean + 3.0)
    })]);
    let signals = signals_of(&over, &policy);
    assert_eq!(
        signals[0].explanation,
        "La température de CAM-12 monte de 9,0 °C en 30 jours (68,7 °C en moyenne le dernier jour) et a atteint 71,7 °C, au-delà du seuil Majeur de 70 °C."
    );
    assert_eq!(
        signals[0].recommendation,
        "Vérifier sans attendre la ventilation de CAM-12 (ventilateurs, filtres, poussière) et la climatisation du local technique."
    );
    // A steady temperature far from its threshold says nothing.
    let steady = series_only(vec![daily("cam-12", "temperature_celsius", |i| {
        (45.0 + (i % 3) as f64 * 0.5, 48.0)
    })]);
    assert!(signals_of(&steady, &policy).is_empty());
}

#[test]
fn dec_1_a_model_with_its_own_threshold_is_measured_against_it() {
    let overlay: toml::Table =
        toml::from_str("[models.\"Hikvision DS-96128NI\"]\ntemperature_major_celsius = 75\n")
            .unwrap();
    let policy = Policy::default_policy().with_overlay(&overlay).unwrap();
    let facts = series_only(vec![daily("nvr-01", "temperature_celsius", |_| {
        (64.0, 66.0)
    })]);
    // 66 °C is within 5 °C of 70 °C, not of the model's 75 °C.
    assert!(signals_of(&facts, &policy).is_empty());
    assert_eq!(signals_of(&facts, &Policy::default_policy()).len(), 1);
}

#[test]
fn flapping_more_and_more_is_a_signal_flapping_as_usual_is_not() {
    let policy = Policy::default_policy();
    let outages = |this_month, previous_month| OutageCount {
        equipment: "cam-12".into(),
        this_month,
        previous_month,
    };
    let signals_for = |count: OutageCount| {
        signals_of(
            &SignalFacts {
                outages: vec![count],
                ..SignalFacts::default()
            },
            &policy,
        )
    };
    let rising = signals_for(outages(9, 3));
    assert_eq!(
        rising[0].finding,
        Finding::Flapping {
            this_month: 9,
            previous_month: 3
        }
    );
    assert_eq!(
        rising[0].explanation,
        "CAM-12 a connu 9 coupures en novembre 2026, contre 3 en octobre 2026 : ses coupures se multiplient."
    );
    assert_eq!(
        rising[0].recommendation,
        "Contrôler l'alimentation, le câblage réseau et le micrologiciel de CAM-12, et envisager son remplacement si les coupures continuent."
    );
    assert_eq!(
        signals_for(outages(4, 0))[0].explanation,
        "CAM-12 a connu 4 coupures en novembre 2026, contre aucune en octobre 2026 : ses coupures se multiplient."
    );
    // Stable (5 after 4: under 1.5 times), or too few.
    assert!(signals_for(outages(5, 4)).is_empty());
    assert!(signals_for(outages(12, 12)).is_empty());
    assert!(signals_for(outages(3, 0)).is_empty());
}

#[test]
fn repeated_alarms_are_a_signal_and_signals_are_bounded_most_urgent_first() {
    let alarms = |count| AlarmCount {
        equipment: "nvr-01".into(),
        condition: "température élevée".into(),
        count,
    };
    let facts = SignalFacts {
        series: vec![daily("nvr-01", "disk_used_percent:/data", |i| {
            (0.0, 70.0 + 0.4 * i as f64)
        })],
        outages: vec![OutageCount {
            equipment: "cam-12".into(),
            this_month: 8,
            previous_month: 2,
        }],
        alarms: vec![alarms(4)],
    };
    let policy = Policy::default_policy();
    let signals = signals_of(&facts, &policy);
    assert_eq!(
        signals
            .iter()
            .map(|s| serde_json::to_value(&s.finding).unwrap()["kind"].clone())
            .collect::<Vec<_>>(),
        ["disk_filling", "flapping", "repeated_alarms"]
    );
    assert_eq!(
        signals[2].explanation,
        "NVR-01 a levé 4 alarmes « température élevée » en novembre 2026."
    );
    assert_eq!(
        signals[2].recommendation,
        "Planifier une maintenance préventive de NVR-01 pour traiter la cause des alarmes « température élevée »."
    );
    let mut few = facts.clone();
    few.alarms = vec![alarms(2)];
    assert_eq!(signals_of(&few, &policy).len(), 2);
    // The policy's bound keeps the most urgent and counts the rest.
    let overlay: toml::Table = toml::from_str("[reports]\nmax_signals = 1\n").unwrap();
    let bounded = weak_signals(
        &facts,
        &names(),
        &policy.with_overlay(&overlay).unwrap(),
        month("2026-11"),
        &paris(),
    );
    assert_eq!((bounded.signals.len(), bounded.left_out), (1, 2));
    assert!(matches!(
        bounded.signals[0].finding,
        Finding::DiskFilling { .. }
    ));
    // An equipment the caller could not name is shown by its reference.
    let unnamed = weak_signals(
        &SignalFacts {
            alarms: vec![AlarmCount {
                equipment: "sw-9".into(),
                ..alarms(3)
            }],
            ..SignalFacts::default()
        },
        &BTreeMap::new(),
        &policy,
        month("2026-11"),
        &paris(),
    );
    assert_eq!(unnamed.signals[0].equipment_name, "sw-9");
}

#[test]
fn a_least_squares_line_is_exact_on_a_line() {
    let points: Vec<(i64, f64)> = (0..10).map(|i| (i * DAY, 3.0 + 2.0 * i as f64)).collect();
    let trend = Trend::fit(&points).unwrap();
    assert!((trend.slope - 2.0).abs() < 1e-12);
    assert!((trend.intercept - 3.0).abs() < 1e-12);
    assert!((trend.r_squared - 1.0).abs() < 1e-12);
    assert_eq!(trend.reaches(23.0), Some(10 * DAY));
    assert!(Trend::fit(&points[..1]).is_none());
}

// --- Alarm review ---------------------------------------------------------------------------

fn alarm(
    id: u64,
    equipment: Option<&str>,
    condition: &str,
    severity: Severity,
    acknowledged_after: Option<i64>,
    resolved_after: Option<i64>,
) -> AlarmFacts {
    let raised_at = at("2026-11-10T08:00:00Z") + id as i64 * HOUR;
    AlarmFacts {
        id,
        equipment: equipment.map(str::to_owned),
        equipment_name: equipment.map(str::to_uppercase),
        condition: condition.into(),
        severity,
        raised_at,
        acknowledged_at: acknowledged_after.map(|d| raised_at + d),
        resolved_at: resolved_after.map(|d| raised_at + d),
    }
}

#[test]
fn clo_3_the_alarm_review_counts_times_equipment_and_recommends() {
    use Severity::{Critical, Major, Minor};
    let disk = "panne de disque";
    let hot = "température élevée";
    let lost = "équipement injoignable";
    let alarms = vec![
        alarm(
            1,
            Some("nvr-01"),
            disk,
            Critical,
            Some(10 * MINUTE),
            Some(5 * HOUR),
        ),
        alarm(
            2,
            Some("nvr-01"),
            disk,
            Critical,
            Some(20 * MINUTE),
            Some(3 * HOUR),
        ),
        alarm(3, Some("nvr-01"), disk, Critical, Some(40 * MINUTE), None),
        alarm(4, Some("cam-12"), lost, Major, Some(HOUR), Some(2 * HOUR)),
        alarm(5, Some("cam-12"), hot, Major, None, Some(HOUR)),
        alarm(
            6,
            Some("cam-12"),
            lost,
            Major,
            Some(3 * HOUR),
            Some(4 * HOUR),
        ),
        alarm(7, Some("cam-12"), hot, Minor, None, None),
        alarm(
            8,
            Some("cam-12"),
            "horloge désynchronisée",
            Minor,
            None,
            None,
        ),
        alarm(
            9,
            None,
            "caméras hors ligne au-delà de la tolérance du site",
            Major,
            Some(MINUTE),
            Some(MINUTE),
        ),
        // A stamp before the raising is not a delay.
        alarm(10, Some("sw-1"), lost, Minor, Some(-MINUTE), None),
    ];
    let previous = vec![
        alarm(20, Some("nvr-01"), disk, Critical, None, None),
        alarm(21, Some("cam-12"), lost, Major, None, None),
    ];
    let review = alarm_review(
        month("2026-11"),
        &alarms,
        &previous,
        &Policy::default_policy().reports,
    );
    assert_eq!((review.total, review.previous_total), (10, 2));
    let critical = &review.severities[0];
    assert_eq!(
        (critical.severity, critical.count, critical.previous_count),
        (Critical, 3, 1)
    );
    assert_eq!(critical.acknowledgement.count, 3);
    assert_eq!(critical.acknowledgement.mean_ms, Some(70 * MINUTE / 3));
    assert_eq!(critical.acknowledgement.median_ms, Some(20 * MINUTE));
    // Only the two resolved count: mean and median of 5 h and 3 h.
    assert_eq!(critical.resolution.count, 2);
    assert_eq!(critical.resolution.mean_ms, Some(4 * HOUR));
    assert_eq!(critical.resolution.median_ms, Some(4 * HOUR));
    let major = &review.severities[1];
    assert_eq!((major.count, major.previous_count), (4, 1));
    // 1 h, 3 h, 1 min: median 1 h.
    assert_eq!(major.acknowledgement.median_ms, Some(HOUR));
    let minor = &review.severities[2];
    assert_eq!((minor.count, minor.acknowledgement.count), (3, 0));
    assert_eq!(minor.acknowledgement.mean_ms, None);

    let ranking: Vec<(&str, u32)> = review
        .faulty_equipment
        .iter()
        .map(|e| (e.equipment_name.as_str(), e.alarms))
        .collect();
    assert_eq!(ranking, [("CAM-12", 5), ("NVR-01", 3), ("SW-1", 1)]);
    assert_eq!(
        review.faulty_equipment[0]
            .conditions
            .iter()
            .map(|c| (c.condition.as_str(), c.count))
            .collect::<Vec<_>>(),
        // Ties in the order of their labels' bytes: a fixed order, not a French collation.
        [(hot, 2), (lost, 2), ("horloge désynchronisée", 1)]
    );

    assert_eq!(review.recommendations.len(), 2);
    let preventive = &review.recommendations[0];
    assert_eq!(preventive.action, Action::PreventiveMaintenance);
    assert_eq!(
        preventive.text,
        "Planifier une maintenance préventive de CAM-12 : 5 alarmes en novembre 2026 (température élevée, équipement injoignable, horloge désynchronisée)."
    );
    let replacement = &review.recommendations[1];
    assert_eq!(
        (
            replacement.action,
            replacement.condition.as_deref(),
            replacement.alarms
        ),
        (Action::EarlyReplacement, Some(disk), 3)
    );
    assert_eq!(
        replacement.text,
        "Envisager le remplacement anticipé de NVR-01 ou de l'élément en cause : 3 alarmes « panne de disque » en novembre 2026."
    );
    assert_eq!(
        review.summary,
        "10 alarmes en novembre 2026 (2 en octobre 2026) : 3 critiques, 4 majeures, 3 mineures."
    );
    // The policy's bounds: the top list and the recommendations.
    let overlay: toml::Table =
        toml::from_str("[reports]\ntop_equipment = 1\nmax_recommendations = 1\n").unwrap();
    let policy = Policy::default_policy().with_overlay(&overlay).unwrap();
    let short = alarm_review(month("2026-11"), &alarms, &previous, &policy.reports);
    assert_eq!(short.faulty_equipment.len(), 1);
    assert_eq!(
        (short.recommendations.len(), short.recommendations_left_out),
        (1, 1)
    );
    let empty = alarm_review(month("2026-11"), &[], &[], &policy.reports);
    assert_eq!(
        empty.summary,
        "0 alarme en novembre 2026 (0 en octobre 2026) : 0 critique, 0 majeure, 0 mineure."
    );
}

// --- Satisfaction ---------------------------------------------------------------------------

fn survey(
    ticket: u64,
    client: &str,
    technician: Option<&str>,
    marks: (u8, u8, u8),
    comment: Option<&str>,
) -> SurveyFacts {
    SurveyFacts {
        ticket,
        client: client.to_lowercase(),
        client_name: client.into(),
        technician: technician.map(str::to_owned),
        answered_at: at("2026-11-02T09:00:00Z") + ticket as i64 * HOUR,
        answers: SurveyAnswers {
            responsiveness: marks.0,
            quality: marks.1,
            communication: marks.2,
            comment: comment.map(str::to_owned),
        },
    }
}

#[test]
fn sav_7_the_satisfaction_analysis_by_question_client_technician_and_month() {
    let november = MonthSurveys {
        month: month("2026-11"),
        surveys: vec![
            survey(
                3,
                "Musée",
                Some("Jeanne Martin"),
                (5, 4, 4),
                Some("Très réactifs."),
            ),
            survey(1, "Gare", Some("Jeanne Martin"), (4, 4, 3), None),
            survey(2, "Gare", None, (4, 3, 5), Some("  ")),
            survey(
                4,
                "Gare",
                Some("Paul Durand"),
                (4, 5, 4),
                Some("Technicien à l'écoute."),
            ),
            survey(5, "Gare", None, (6, 1, 1), None),
        ],
    };
    let october = MonthSurveys {
        month: month("2026-10"),
        surveys: vec![
            survey(10, "Gare", None, (4, 4, 3), None),
            survey(11, "Gare", None, (4, 3, 4), None),
        ],
    };
    let september = MonthSurveys {
        month: month("2026-09"),
        surveys: vec![survey(20, "Musée", None, (2, 2, 2), None)],
    };
    let later = MonthSurveys {
        month: month("2026-12"),
        surveys: vec![survey(30, "Musée", None, (1, 1, 1), None)],
    };
    let analysis = satisfaction_analysis(&november, &[september, later, october]);
    assert_eq!((analysis.surveys, analysis.invalid), (4, 1));
    let responsiveness = &analysis.questions[0];
    assert_eq!(responsiveness.question, Question::Responsiveness);
    assert_eq!(responsiveness.count, 4);
    assert_eq!(responsiveness.mean, Some(4.25));
    assert_eq!(responsiveness.distribution, [0, 0, 0, 3, 1]);
    assert_eq!(analysis.questions[1].mean, Some(4.0));
    assert_eq!(analysis.questions[2].distribution, [0, 0, 1, 2, 1]);
    assert_eq!(analysis.overall, Some(49.0 / 12.0));

    let clients: Vec<(&str, u32, Option<f64>)> = analysis
        .clients
        .iter()
        .map(|c| (c.name.as_str(), c.means.count, c.means.responsiveness))
        .collect();
    assert_eq!(clients, [("Gare", 3, Some(4.0)), ("Musée", 1, Some(5.0))]);
    let technicians: Vec<(&str, u32, Option<f64>)> = analysis
        .technicians
        .iter()
        .map(|t| (t.name.as_str(), t.means.count, t.means.communication))
        .collect();
    assert_eq!(
        technicians,
        [
            ("Jeanne Martin", 2, Some(3.5)),
            ("Paul Durand", 1, Some(4.0))
        ]
    );
    let comments: Vec<(u64, &str, &str)> = analysis
        .comments
        .iter()
        .map(|c| (c.ticket, c.client_name.as_str(), c.text.as_str()))
        .collect();
    assert_eq!(
        comments,
        [
            (3, "Musée", "Très réactifs."),
            (4, "Gare", "Technicien à l'écoute.")
        ]
    );
    assert_eq!(
        analysis
            .trend
            .iter()
            .map(|m| (m.month.to_string(), m.means.count))
            .collect::<Vec<_>>(),
        [
            ("2026-09".to_string(), 1),
            ("2026-10".to_string(), 2),
            ("2026-11".to_string(), 4)
        ]
    );
    // October: réactivité 4.0, qualité 3.5, communication 3.5; November 4.25 (4,3 as written),
    // 4.0, 4.0.
    assert_eq!(
        analysis.summary,
        [
            "Réactivité : 4,3 / 5, en hausse de 0,3 point sur octobre 2026.",
            "Qualité de la solution : 4,0 / 5, en hausse de 0,5 point sur octobre 2026.",
            "Communication : 4,0 / 5, en hausse de 0,5 point sur octobre 2026.",
        ]
    );
}

#[test]
fn sav_7_summary_sentences_say_down_stable_and_nothing_to_compare() {
    let november = MonthSurveys {
        month: month("2026-11"),
        surveys: vec![survey(1, "Gare", None, (3, 4, 5), None)],
    };
    let october = MonthSurveys {
        month: month("2026-10"),
        surveys: vec![survey(2, "Gare", None, (5, 4, 3), None)],
    };
    assert_eq!(
        satisfaction_analysis(&november, std::slice::from_ref(&october)).summary,
        [
            "Réactivité : 3,0 / 5, en baisse de 2,0 points sur octobre 2026.",
            "Qualité de la solution : 4,0 / 5, stable par rapport à octobre 2026.",
            "Communication : 5,0 / 5, en hausse de 2,0 points sur octobre 2026.",
        ]
    );
    assert_eq!(
        satisfaction_analysis(&november, &[]).summary[0],
        "Réactivité : 3,0 / 5 (aucune réponse en octobre 2026 pour comparer)."
    );
    let empty = MonthSurveys {
        month: month("2026-11"),
        surveys: Vec::new(),
    };
    let analysis = satisfaction_analysis(&empty, &[october]);
    assert_eq!(
        analysis.summary[0],
        "Réactivité : aucune réponse en novembre 2026."
    );
    assert_eq!(analysis.overall, None);
    // At most twelve months before.
    let many: Vec<MonthSurveys> = (0..20)
        .scan(month("2026-11"), |m, _| {
            *m = m.previous();
            Some(MonthSurveys {
                month: *m,
                surveys: Vec::new(),
            })
        })
        .collect();
    let trend = satisfaction_analysis(&empty, &many).trend;
    assert_eq!(trend.len(), 13);
    assert_eq!(trend[0].month, month("2025-11"));
}

#[test]
fn numbers_and_dates_are_written_the_french_way() {
    use vigie_domain::french::{format_date, format_number, format_points, format_rate};
    assert_eq!(format_number(4.25, 1), "4,3");
    assert_eq!(format_number(1234.5, 1), "1\u{202F}234,5");
    assert_eq!(format_number(-0.04, 1), "0,0");
    assert_eq!(format_number(-2.5, 0), "\u{2212}3");
    assert_eq!(format_number(f64::NAN, 1), "–");
    assert_eq!(format_rate(0.4), "0,4");
    assert_eq!(format_rate(0.04), "0,04");
    assert_eq!(format_points(0.4), "0,4 point");
    assert_eq!(format_points(1.96), "2,0 points");
    // The first of the month, in the site's zone (23:30 UTC on 31 December is 1 January in
    // Paris).
    assert_eq!(
        format_date(at("2026-12-31T23:30:00Z"), &paris()),
        "1er janvier 2027"
    );
    assert_eq!(
        format_date(at("2026-12-31T23:30:00Z"), &TimeZone::UTC),
        "31 décembre 2026"
    );
}

/// An availability is cut, not rounded: a month with any downtime never reads 100 %, and a
/// rate just under a contractual target never reads as meeting it.
#[test]
fn an_availability_is_cut_not_rounded() {
    use vigie_domain::french::availability_percent;
    assert_eq!(availability_percent(0.99996, 2), 99.99);
    assert_eq!(availability_percent(0.9999, 2), 99.99);
    assert_eq!(availability_percent(0.998_99, 1), 99.8);
    assert_eq!(availability_percent(1.0, 2), 100.0);
    assert_eq!(availability_percent(0.5, 2), 50.0);
    assert_eq!(availability_percent(0.0, 2), 0.0);
    assert_eq!(availability_percent(1.0 - 1e-15, 2), 99.99);
}

proptest::proptest! {
    #[test]
    fn an_availability_below_one_never_reads_one_hundred(rate in 0.0f64..1.0) {
        let shown = vigie_domain::french::availability_percent(rate, 2);
        proptest::prop_assert!(shown < 100.0, "{rate} shown as {shown}");
        proptest::prop_assert!(shown <= rate * 100.0 + 1e-4, "{rate} shown as {shown}");
        proptest::prop_assert!(shown > rate * 100.0 - 0.01 - 1e-9, "{rate} shown as {shown}");
    }
}
