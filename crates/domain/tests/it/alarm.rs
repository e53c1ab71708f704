//! Alarm conditions over time (ALR-1, NOT-8): hold before raising, hold before clearing, one
//! alarm whose severity changes when it worsens, flapping shown as one alarm; as named cases
//! and as properties over random readings.

use proptest::prelude::*;
use vigie_domain::alarm::{Reading, Timing, Tracker, Transition};
use vigie_domain::policy::Severity;

const MINUTE: i64 = 60_000;

/// ALR-1's five minutes; two minutes to clear; six changes within 30 minutes is flapping.
const TIMING: Timing = Timing {
    raise_after_ms: 5 * MINUTE,
    clear_after_ms: 2 * MINUTE,
    flap_changes: 6,
    flap_window_ms: 30 * MINUTE,
};

const DOWN: Reading = Reading::Present(Severity::Major);

/// Feeds readings (minute, reading) and returns every transition.
fn run(readings: &[(i64, Reading)]) -> Vec<Transition> {
    let mut tracker = Tracker::new();
    readings
        .iter()
        .flat_map(|(minute, reading)| tracker.read(*reading, minute * MINUTE, &TIMING))
        .collect()
}

fn every_minute(from: i64, to: i64, reading: Reading) -> Vec<(i64, Reading)> {
    (from..to).map(|m| (m, reading)).collect()
}

#[test]
fn alr_1_offline_for_five_minutes_raises_once_at_the_exact_instant() {
    let mut readings = every_minute(0, 12, DOWN);
    readings.extend(every_minute(12, 20, Reading::Absent));
    assert_eq!(
        run(&readings),
        vec![
            Transition::Raised {
                at: 5 * MINUTE,
                severity: Severity::Major,
                flapping: false
            },
            Transition::Cleared {
                at: 14 * MINUTE,
                since: 12 * MINUTE
            },
        ]
    );
}

#[test]
fn offline_for_less_than_the_hold_raises_nothing() {
    let mut readings = every_minute(0, 4, DOWN);
    readings.extend(every_minute(4, 30, Reading::Absent));
    assert_eq!(run(&readings), vec![]);
}

#[test]
fn one_good_reading_does_not_clear() {
    let mut readings = every_minute(0, 7, DOWN);
    readings.push((7, Reading::Absent));
    readings.extend(every_minute(8, 9, DOWN));
    readings.extend(every_minute(9, 15, Reading::Absent));
    let transitions = run(&readings);
    assert_eq!(
        transitions[1..],
        [Transition::Cleared {
            at: 11 * MINUTE,
            since: 9 * MINUTE
        }]
    );
}

#[test]
fn the_hold_runs_out_between_readings() {
    // Readings every 10 minutes: the alarm is dated by the hold, not by the next reading.
    let mut tracker = Tracker::new();
    assert_eq!(tracker.read(DOWN, 0, &TIMING), vec![]);
    assert_eq!(tracker.next_wake(&TIMING), Some(5 * MINUTE));
    assert_eq!(
        tracker.tick(5 * MINUTE, &TIMING),
        vec![Transition::Raised {
            at: 5 * MINUTE,
            severity: Severity::Major,
            flapping: false
        }]
    );
    assert_eq!(tracker.read(DOWN, 10 * MINUTE, &TIMING), vec![]);
}

#[test]
fn not_8_a_worsening_alarm_changes_severity_and_stays_at_its_worst() {
    let critical = Reading::Present(Severity::Critical);
    let mut readings = every_minute(0, 6, DOWN);
    readings.extend(every_minute(6, 8, critical));
    readings.extend(every_minute(8, 10, DOWN));
    assert_eq!(
        run(&readings),
        vec![
            Transition::Raised {
                at: 5 * MINUTE,
                severity: Severity::Major,
                flapping: false
            },
            Transition::SeverityChanged {
                at: 6 * MINUTE,
                from: Severity::Major,
                to: Severity::Critical
            },
        ]
    );
}

#[test]
fn a_worse_reading_while_pending_raises_at_the_worst() {
    let mut readings = every_minute(0, 2, DOWN);
    readings.extend(every_minute(2, 6, Reading::Present(Severity::Critical)));
    assert_eq!(
        run(&readings),
        vec![Transition::Raised {
            at: 5 * MINUTE,
            severity: Severity::Critical,
            flapping: false
        }]
    );
}

#[test]
fn a_flapping_camera_is_one_alarm_marked_flapping() {
    // Down one minute, up one minute, for an hour: never five minutes in a row.
    let readings: Vec<(i64, Reading)> = (0..60)
        .map(|m| (m, if m % 2 == 0 { DOWN } else { Reading::Absent }))
        .chain(every_minute(60, 120, Reading::Absent))
        .collect();
    assert_eq!(
        run(&readings),
        vec![
            // The sixth change, at minute 6.
            Transition::Raised {
                at: 6 * MINUTE,
                severity: Severity::Major,
                flapping: true
            },
            // Stable (absent) from minute 59: a whole window later, over and cleared.
            Transition::FlappingEnded { at: 89 * MINUTE },
            Transition::Cleared {
                at: 89 * MINUTE,
                since: 59 * MINUTE
            },
        ]
    );
}

#[test]
fn a_flapping_condition_that_stays_present_stays_raised() {
    let readings: Vec<(i64, Reading)> = (0..10)
        .map(|m| (m, if m % 2 == 0 { DOWN } else { Reading::Absent }))
        .chain(every_minute(10, 50, DOWN))
        .collect();
    let transitions = run(&readings);
    assert_eq!(
        transitions,
        vec![
            Transition::Raised {
                at: 6 * MINUTE,
                severity: Severity::Major,
                flapping: true
            },
            Transition::FlappingEnded { at: 40 * MINUTE },
        ]
    );
}

#[test]
fn unknown_neither_raises_nor_clears() {
    // The monitoring path goes down while the camera is pending: no alarm.
    let mut readings = every_minute(0, 3, DOWN);
    readings.extend(every_minute(3, 20, Reading::Unknown));
    assert_eq!(run(&readings), vec![]);
    // …or while it is raised: the alarm stays, without clearing.
    let mut readings = every_minute(0, 6, DOWN);
    readings.extend(every_minute(6, 60, Reading::Unknown));
    assert_eq!(run(&readings).len(), 1);
}

#[test]
fn an_older_reading_is_ignored() {
    let mut tracker = Tracker::new();
    tracker.read(DOWN, 10 * MINUTE, &TIMING);
    assert_eq!(tracker.read(Reading::Absent, 9 * MINUTE, &TIMING), vec![]);
    assert_eq!(tracker.next_wake(&TIMING), Some(15 * MINUTE));
}

/// Random readings: stretches of present (at some severity) or absent, one reading a minute.
fn readings() -> impl Strategy<Value = Vec<(i64, Reading)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just(Reading::Absent),
                Just(Reading::Present(Severity::Major)),
                Just(Reading::Present(Severity::Critical)),
            ],
            1i64..12,
        ),
        1..40,
    )
    .prop_map(|stretches| {
        let mut minute = 0;
        let mut readings = Vec::new();
        for (reading, length) in stretches {
            for _ in 0..length {
                readings.push((minute, reading));
                minute += 1;
            }
        }
        readings
    })
}

fn is_present(reading: Reading) -> bool {
    matches!(reading, Reading::Present(_))
}

proptest! {
    #[test]
    fn raised_and_cleared_alternate_in_time_order(readings in readings()) {
        let transitions = run(&readings);
        let mut raised = false;
        let mut last = i64::MIN;
        for transition in &transitions {
            prop_assert!(transition.at() >= last, "{transitions:?}");
            last = transition.at();
            match transition {
                Transition::Raised { .. } => { prop_assert!(!raised); raised = true }
                Transition::Cleared { .. } => { prop_assert!(raised); raised = false }
                _ => prop_assert!(raised),
            }
        }
    }

    #[test]
    fn ticking_at_every_wake_changes_nothing(readings in readings()) {
        let mut tracker = Tracker::new();
        let mut ticked = Vec::new();
        for (minute, reading) in &readings {
            while let Some(due) = tracker.next_wake(&TIMING) {
                if due >= minute * MINUTE { break }
                ticked.extend(tracker.tick(due, &TIMING));
            }
            ticked.extend(tracker.read(*reading, minute * MINUTE, &TIMING));
        }
        prop_assert_eq!(ticked, run(&readings));
    }

    #[test]
    fn an_alarm_not_flapping_was_held_for_the_whole_hold(readings in readings()) {
        for transition in run(&readings) {
            if let Transition::Raised { at, flapping: false, .. } = transition {
                let held = readings
                    .iter()
                    .filter(|(m, _)| (at - TIMING.raise_after_ms..at).contains(&(m * MINUTE)));
                for (_, reading) in held {
                    prop_assert!(is_present(*reading));
                }
            }
        }
    }

    #[test]
    fn every_outage_of_the_hold_or_longer_is_alarmed(readings in readings()) {
        let transitions = run(&readings);
        // Each maximal stretch of present readings lasting at least the hold.
        let mut start = None;
        for (i, (minute, reading)) in readings.iter().enumerate() {
            let present = is_present(*reading);
            if present && start.is_none() { start = Some(*minute) }
            let ends = !present || i + 1 == readings.len();
            if let (true, Some(from)) = (ends, start) {
                let until = if present { minute + 1 } else { *minute };
                if (until - from) * MINUTE > TIMING.raise_after_ms {
                    // Raised by the end of the hold, and not cleared in between.
                    let check = from * MINUTE + TIMING.raise_after_ms;
                    let mut raised = false;
                    for transition in transitions.iter().take_while(|t| t.at() <= check) {
                        match transition {
                            Transition::Raised { .. } => raised = true,
                            Transition::Cleared { .. } => raised = false,
                            _ => {}
                        }
                    }
                    prop_assert!(raised, "outage {from}..{until}: {transitions:?}");
                }
                start = None;
            }
        }
    }
}

mod rules {
    //! ALR-1…ALR-7, DEC-1: what an observation says of each condition.

    use std::collections::BTreeMap;

    use vigie_domain::Reference;
    use vigie_domain::alarm::Reading;
    use vigie_domain::alarm::rules::{Condition, ConditionKey, readings};
    use vigie_domain::inventory::Equipment;
    use vigie_domain::policy::{Policy, Severity};
    use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};

    fn equipment(kind: &str, role: Option<&str>, checks: serde_json::Value) -> Equipment {
        let mut value = serde_json::json!({
            "ref": "EQ-1", "site": "SITE-1", "name": "Équipement", "kind": kind, "checks": checks,
        });
        if let Some(role) = role {
            value["camera_role"] = role.into();
        }
        serde_json::from_value(value).unwrap()
    }

    fn seen(check: &str, status: Option<CheckStatus>, samples: &[(&str, f64)]) -> Observation {
        Observation {
            equipment: Reference::parse("EQ-1").unwrap(),
            check: CheckName::parse(check).unwrap(),
            at: 0,
            status,
            detail: None,
            samples: samples
                .iter()
                .map(|(name, value)| Sample {
                    name: MetricName::parse(name).unwrap(),
                    value: *value,
                })
                .collect(),
            facts: BTreeMap::new(),
        }
    }

    fn read(
        policy: &Policy,
        equipment: &Equipment,
        observation: &Observation,
        holding: bool,
    ) -> Vec<(ConditionKey, Reading)> {
        readings(policy, equipment, observation, &|_| holding)
    }

    fn key(condition: Condition, part: Option<&str>) -> ConditionKey {
        ConditionKey {
            condition,
            part: part.map(str::to_owned),
        }
    }

    const DOWN: Option<CheckStatus> = Some(CheckStatus::Down);

    #[test]
    fn alr_5_alr_6_losing_an_equipment_is_as_grave_as_its_role() {
        let policy = Policy::default_policy();
        let ping = serde_json::json!({"ping": {}});
        for (kind, role, severity) in [
            ("camera", Some("priority"), Severity::Critical),
            ("camera", Some("secondary"), Severity::Major),
            // SAV-4: a camera whose role is not stated counts as priority.
            ("camera", None, Severity::Critical),
            ("vms_server", None, Severity::Critical),
            ("switch", None, Severity::Major),
        ] {
            let equipment = equipment(kind, role, ping.clone());
            assert_eq!(
                read(&policy, &equipment, &seen("ping", DOWN, &[]), false),
                vec![(
                    key(Condition::Unreachable, None),
                    Reading::Present(severity)
                )],
                "{kind} {role:?}"
            );
        }
    }

    #[test]
    fn only_the_check_that_governs_reachability_raises_unreachable() {
        let policy = Policy::default_policy();
        let nvr = equipment("nvr", None, serde_json::json!({"ping": {}, "agent": {}}));
        assert_eq!(
            read(&policy, &nvr, &seen("agent", DOWN, &[]), false),
            vec![]
        );
        let up = seen("ping", Some(CheckStatus::Up), &[]);
        assert_eq!(
            read(&policy, &nvr, &up, false),
            vec![(key(Condition::Unreachable, None), Reading::Absent)]
        );
        let unknown = seen("ping", Some(CheckStatus::Unknown), &[]);
        assert_eq!(
            read(&policy, &nvr, &unknown, false),
            vec![(key(Condition::Unreachable, None), Reading::Unknown)]
        );
        // A heartbeat governs when there is no ping.
        let camera = equipment(
            "camera",
            Some("secondary"),
            serde_json::json!({"heartbeat": {"interval": "60s"}}),
        );
        assert_eq!(
            read(&policy, &camera, &seen("heartbeat", DOWN, &[]), false),
            vec![(
                key(Condition::Unreachable, None),
                Reading::Present(Severity::Major)
            )]
        );
    }

    /// Issue 22, joint 10: an equipment watched only by a TCP port, an HTTP or an ONVIF
    /// service is unreachable when that check fails; with a ping, the ping alone says so.
    #[test]
    fn a_service_check_governs_reachability_when_nothing_else_does() {
        let policy = Policy::default_policy();
        for (check, checks) in [
            ("tcp", serde_json::json!({"tcp": {"port": 554}})),
            ("http", serde_json::json!({"http": {}})),
            ("onvif", serde_json::json!({"onvif": {}})),
        ] {
            let switch = equipment("switch", None, checks);
            assert_eq!(
                read(&policy, &switch, &seen(check, DOWN, &[]), false),
                vec![(
                    key(Condition::Unreachable, None),
                    Reading::Present(Severity::Major)
                )],
                "{check}"
            );
        }
        let pinged = equipment(
            "switch",
            None,
            serde_json::json!({"ping": {}, "tcp": {"port": 554}}),
        );
        assert_eq!(
            read(&policy, &pinged, &seen("tcp", DOWN, &[]), false),
            vec![]
        );
    }

    #[test]
    fn alr_4_alr_5_stream_recording_disk_and_power_by_status() {
        let policy = Policy::default_policy();
        let camera = equipment("camera", Some("secondary"), serde_json::json!({"rtsp": {}}));
        assert_eq!(
            read(&policy, &camera, &seen("rtsp", DOWN, &[]), false),
            vec![(
                key(Condition::SignalLost, None),
                Reading::Present(Severity::Major)
            )]
        );
        let nvr = equipment("nvr", None, serde_json::json!({"snmp": {"version": "2c"}}));
        for (check, condition, part) in [
            ("snmp.recording", Condition::RecordingStopped, None),
            ("snmp.disk_health", Condition::DiskFailure, None),
            ("snmp.power_supply", Condition::PowerFailure, None),
            (
                "service:recorder",
                Condition::RecordingStopped,
                Some("recorder"),
            ),
        ] {
            assert_eq!(
                read(&policy, &nvr, &seen(check, DOWN, &[]), false),
                vec![(key(condition, part), Reading::Present(Severity::Critical))],
                "{check}"
            );
        }
    }

    #[test]
    fn alr_2_disk_thresholds_with_hysteresis() {
        let policy = Policy::default_policy();
        let nvr = equipment("nvr", None, serde_json::json!({"agent": {}}));
        let disk = |value, holding| {
            read(
                &policy,
                &nvr,
                &seen("agent", None, &[("disk_used_percent:/data", value)]),
                holding,
            )[0]
            .1
        };
        assert_eq!(disk(84.9, false), Reading::Absent);
        assert_eq!(disk(85.0, false), Reading::Present(Severity::Major));
        assert_eq!(disk(95.0, false), Reading::Present(Severity::Critical));
        // Once it holds, it clears only under 83 %.
        assert_eq!(disk(83.5, true), Reading::Present(Severity::Major));
        assert_eq!(disk(83.0, true), Reading::Absent);
        let found = read(
            &policy,
            &nvr,
            &seen("agent", None, &[("disk_used_percent:/data", 90.0)]),
            false,
        );
        assert_eq!(found[0].0, key(Condition::DiskUsage, Some("/data")));
    }

    #[test]
    fn dec_1_temperature_70_80_and_75_for_a_site_that_says_so() {
        let policy = Policy::default_policy();
        let server = equipment(
            "vms_server",
            None,
            serde_json::json!({"snmp": {"version": "2c"}}),
        );
        let temperature = |policy: &Policy, value| {
            read(
                policy,
                &server,
                &seen("snmp", None, &[("temperature_celsius", value)]),
                false,
            )[0]
            .1
        };
        assert_eq!(temperature(&policy, 69.0), Reading::Absent);
        assert_eq!(
            temperature(&policy, 72.0),
            Reading::Present(Severity::Major)
        );
        assert_eq!(
            temperature(&policy, 80.0),
            Reading::Present(Severity::Critical)
        );
        let site: toml::Table =
            toml::from_str("thresholds.temperature_major_celsius = 75").unwrap();
        let at_75 = policy.with_overlay(&site).unwrap();
        assert_eq!(temperature(&at_75, 72.0), Reading::Absent);
        assert_eq!(temperature(&at_75, 75.0), Reading::Present(Severity::Major));
    }

    #[test]
    fn alr_7_clock_and_certificate_are_minor() {
        let policy = Policy::default_policy();
        let camera = equipment("camera", None, serde_json::json!({"onvif": {}, "http": {}}));
        let one = |check, metric, value| {
            read(
                &policy,
                &camera,
                &seen(check, None, &[(metric, value)]),
                false,
            )[0]
            .clone()
        };
        assert_eq!(
            one("onvif", "clock_offset_ms", -2500.0),
            (
                key(Condition::ClockOutOfSync, None),
                Reading::Present(Severity::Minor)
            )
        );
        assert_eq!(one("onvif", "clock_offset_ms", 1500.0).1, Reading::Absent);
        assert_eq!(
            one("http", "certificate_days_left", 9.9),
            (
                key(Condition::CertificateExpiring, None),
                Reading::Present(Severity::Minor)
            )
        );
        assert_eq!(
            one("http", "certificate_days_left", 30.5).1,
            Reading::Absent
        );
        // Measures no rule reads give nothing.
        assert_eq!(
            read(
                &policy,
                &camera,
                &seen("http", None, &[("response_ms", 12.0)]),
                false
            ),
            vec![]
        );
    }
}

mod engine {
    //! The alarms of many equipment: one tracker per condition that is not quiet.

    use std::collections::BTreeMap;

    use vigie_domain::Reference;
    use vigie_domain::alarm::rules::{Condition, ConditionKey};
    use vigie_domain::alarm::{AlarmTransition, Engine, Transition};
    use vigie_domain::inventory::Equipment;
    use vigie_domain::policy::{Policy, Severity};
    use vigie_domain::supervision::{CheckName, CheckStatus, Observation};

    const MINUTE: i64 = 60_000;

    fn camera(reference: &str) -> Equipment {
        serde_json::from_value(serde_json::json!({
            "ref": reference, "site": "SITE-1", "name": "Caméra", "kind": "camera",
            "checks": {"ping": {}},
        }))
        .unwrap()
    }

    fn ping(reference: &str, minute: i64, status: CheckStatus) -> Observation {
        Observation {
            equipment: Reference::parse(reference).unwrap(),
            check: CheckName::parse("ping").unwrap(),
            at: minute * MINUTE,
            status: Some(status),
            detail: None,
            samples: Vec::new(),
            facts: BTreeMap::new(),
        }
    }

    #[test]
    fn equipment_in_good_health_take_no_memory() {
        let policy = Policy::default_policy();
        let mut engine = Engine::new();
        for i in 0..1000 {
            let reference = format!("CAM-{i}");
            let happened = engine.observe(
                &policy,
                &camera(&reference),
                &ping(&reference, 0, CheckStatus::Up),
            );
            assert_eq!(happened, vec![]);
        }
        assert_eq!((engine.tracked(), engine.next_wake()), (0, None));
    }

    #[test]
    fn one_camera_down_is_one_alarm_raised_by_the_clock_then_forgotten_once_cleared() {
        let policy = Policy::default_policy();
        let mut engine = Engine::new();
        let (down, up) = (camera("CAM-1"), camera("CAM-2"));
        engine.observe(&policy, &up, &ping("CAM-2", 0, CheckStatus::Up));
        engine.observe(&policy, &down, &ping("CAM-1", 0, CheckStatus::Down));
        assert_eq!(engine.next_wake(), Some(5 * MINUTE));
        assert_eq!(engine.tick(5 * MINUTE - 1), vec![]);
        let key = ConditionKey::whole(Condition::Unreachable);
        assert_eq!(
            engine.tick(5 * MINUTE),
            vec![AlarmTransition {
                equipment: Reference::parse("CAM-1").unwrap(),
                condition: key.clone(),
                transition: Transition::Raised {
                    at: 5 * MINUTE,
                    severity: Severity::Critical,
                    flapping: false
                },
            }]
        );
        let cam_1 = Reference::parse("CAM-1").unwrap();
        assert_eq!(
            engine.raised(&cam_1, &key),
            Some((Severity::Critical, false))
        );
        assert_eq!(
            engine.observe(&policy, &down, &ping("CAM-1", 7, CheckStatus::Up)),
            vec![]
        );
        assert_eq!(engine.next_wake(), Some(9 * MINUTE));
        let cleared = engine.tick(10 * MINUTE);
        assert_eq!(
            cleared.iter().map(|t| &t.transition).collect::<Vec<_>>(),
            vec![&Transition::Cleared {
                at: 9 * MINUTE,
                since: 7 * MINUTE
            }]
        );
        // Cleared and up: nothing left to remember once the next reading finds it quiet.
        engine.observe(&policy, &down, &ping("CAM-1", 40, CheckStatus::Up));
        assert_eq!((engine.tracked(), engine.raised(&cam_1, &key)), (0, None));
    }
}
