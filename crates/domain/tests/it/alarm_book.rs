//! The alarms of a fleet: one alarm behind a dead switch (dependencies), site tolerance
//! (ALR-8), maintenance windows across DST (ALR-9), NOT-8's 8 hours, the lifecycle and who may
//! close (CLO-1, CLO-2), firmware versions (ALR-7) and per-model temperatures (DEC-1).

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use vigie_domain::Reference;
use vigie_domain::alarm::book::{Book, SiteSetup};
use vigie_domain::alarm::lifecycle::{
    Alarm, AlarmEvent, ClosureReport, EventKind, LifecycleError, SeverityCause, Status, Suppression,
};
use vigie_domain::alarm::rules::{Condition, ConditionKey, FirmwareVersion};
use vigie_domain::alarm::window::{OneOffKind, OneOffWindow, covering};
use vigie_domain::inventory::{Equipment, MaintenanceWindow, OfflineTolerance, SiteCriticality};
use vigie_domain::policy::{Policy, Severity};
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};
use vigie_domain::values::Text;

const MINUTE: i64 = 60_000;

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn equipment(reference: &str, kind: &str, parent: Option<&str>) -> Equipment {
    let mut value = serde_json::json!({
        "ref": reference, "site": "SITE-1", "name": reference, "kind": kind,
        "checks": {"ping": {}},
    });
    if let Some(parent) = parent {
        value["parent"] = parent.into();
    }
    serde_json::from_value(value).unwrap()
}

fn setup(tolerance: OfflineTolerance, windows: Vec<MaintenanceWindow>) -> SiteSetup {
    SiteSetup {
        reference: reference("SITE-1"),
        client: reference("CLI-1"),
        time_zone: jiff::tz::TimeZone::get("Europe/Paris").unwrap(),
        windows,
        criticality: SiteCriticality::Standard,
        tolerance,
        policy: Arc::new(Policy::default_policy()),
    }
}

fn ping(equipment: &str, at: i64, up: bool) -> Observation {
    Observation {
        equipment: reference(equipment),
        check: CheckName::parse("ping").unwrap(),
        at,
        status: Some(if up {
            CheckStatus::Up
        } else {
            CheckStatus::Down
        }),
        detail: None,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    }
}

/// Runs minutes `from..to`, each equipment down when `down(reference, minute)` says so.
fn run(
    book: &mut Book,
    fleet: &[&str],
    from: i64,
    to: i64,
    down: &dyn Fn(&str, i64) -> bool,
) -> Vec<AlarmEvent> {
    let mut events = Vec::new();
    for minute in from..to {
        for reference in fleet {
            events.extend(book.observe(&ping(
                reference,
                minute * MINUTE,
                !down(reference, minute),
            )));
        }
    }
    events
}

fn keys(events: &[AlarmEvent]) -> Vec<(u64, &'static str)> {
    events.iter().map(|e| (e.alarm, e.kind.key())).collect()
}

#[test]
fn a_dead_switch_is_one_notified_alarm_and_its_cameras_recover_silently() {
    let mut book = Book::new(1);
    book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
    let mut fleet = vec!["SW-1".to_owned()];
    book.set_equipment(equipment("SW-1", "switch", None));
    for n in 0..40 {
        let camera = format!("CAM-{n:02}");
        book.set_equipment(equipment(&camera, "camera", Some("SW-1")));
        fleet.push(camera);
    }
    let fleet: Vec<&str> = fleet.iter().map(String::as_str).collect();
    // The switch and its cameras stop answering from minute 1 to minute 20, CAM-07 (broken on
    // its own) stays down.
    let events = run(&mut book, &fleet, 0, 40, &|r, m| {
        (1..20).contains(&m) || (r == "CAM-07" && m >= 1)
    });
    let notified: Vec<&AlarmEvent> = events
        .iter()
        .filter(|e| e.kind.key() == "notified")
        .collect();
    let raised = events.iter().filter(|e| e.kind.key() == "raised").count();
    assert_eq!(raised, 41, "every condition is recorded");
    let switch = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Raised { equipment, .. }
                if equipment.as_ref() == Some(&reference("SW-1")) =>
            {
                Some(e.alarm)
            }
            _ => None,
        })
        .unwrap();
    let cam07 = book
        .alarms()
        .find(|a| a.equipment == Some(reference("CAM-07")))
        .unwrap()
        .id;
    // The switch's alarm at 6 min; CAM-07's own when the switch answers again (cleared at
    // minute 22: down until 19, absent from 20, two minutes to clear).
    assert_eq!(
        notified.iter().map(|e| (e.alarm, e.at)).collect::<Vec<_>>(),
        vec![(switch, 6 * MINUTE), (cam07, 22 * MINUTE)]
    );
    let suppressed = events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::Suppressed { suppression: Suppression::Parent { parent } } if *parent == reference("SW-1"))
        })
        .count();
    assert_eq!(suppressed, 40);
    // Every recovery is recorded: the switch and 39 cameras, not CAM-07.
    assert_eq!(
        events.iter().filter(|e| e.kind.key() == "resolved").count(),
        40
    );
}

#[test]
fn alr_8_offline_cameras_within_tolerance_are_recorded_beyond_it_one_site_alarm() {
    let mut book = Book::new(1);
    book.set_site(setup(OfflineTolerance::Count(2), Vec::new()));
    let cameras: Vec<String> = (0..10).map(|n| format!("CAM-{n}")).collect();
    for camera in &cameras {
        book.set_equipment(equipment(camera, "camera", None));
    }
    let fleet: Vec<&str> = cameras.iter().map(String::as_str).collect();
    // CAM-0, 1, 2 go down at minutes 0, 1, 2; CAM-2 comes back at minute 20.
    let events = run(&mut book, &fleet, 0, 40, &|r, m| match r {
        "CAM-0" => m >= 0,
        "CAM-1" => m >= 1,
        "CAM-2" => (2..20).contains(&m),
        _ => false,
    });
    let site_alarm = book
        .alarms()
        .find(|a| a.condition == ConditionKey::whole(Condition::CamerasOffline))
        .map(|a| a.id);
    let lines: Vec<String> = events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Suppressed { suppression } => {
                format!("{} {} {}", e.at / MINUTE, e.alarm, suppression.label())
            }
            kind => format!("{} {} {}", e.at / MINUTE, e.alarm, kind.key()),
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "5 1 raised",
            "5 1 1 caméra(s) hors ligne, 2 tolérée(s) sur le site",
            "6 2 raised",
            "6 2 2 caméra(s) hors ligne, 2 tolérée(s) sur le site",
            "7 3 raised",
            "7 4 raised",
            // ALR-8: the site's alarm names its cameras from the start.
            "7 4 cameras_changed",
            "7 4 notified",
            "7 3 comptée dans l'alarme de site n°4",
            "22 3 resolved",
            "22 4 resolved",
        ],
        "{site_alarm:?}"
    );
    let site = book.alarm(4).unwrap();
    assert_eq!(site.status(), Status::Resolved);
    assert_eq!(site.cameras.len(), 3);
}

#[test]
fn alr_8_tolerance_arithmetic() {
    let percent = |hundredths, cameras| {
        setup(OfflineTolerance::PercentHundredths(hundredths), Vec::new()).tolerated(cameras)
    };
    // 5 % of 400 cameras is 20; of 39 it is 1 (rounded down); of 19, none.
    assert_eq!(percent(500, 400), 20);
    assert_eq!(percent(500, 39), 1);
    assert_eq!(percent(500, 19), 0);
    // Capped at the policy's 5 %.
    assert_eq!(percent(1000, 400), 20);
    let mut critical = setup(OfflineTolerance::Count(3), Vec::new());
    critical.criticality = SiteCriticality::Critical;
    assert_eq!(critical.tolerated(100), 0);
}

fn window(days: &str, start: &str, duration: &str) -> MaintenanceWindow {
    serde_json::from_value(serde_json::json!({
        "label": "Maintenance du dimanche", "days": [days], "start": start, "duration": duration,
    }))
    .unwrap()
}

#[test]
fn alr_9_a_window_follows_the_wall_clock_across_both_dst_changes() {
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let sunday = [window("sunday", "01:00", "4h")];
    // The night summer time ends (2026-10-25): 01:00 CEST (23:00 UTC) to 05:00 CET (04:00
    // UTC), five real hours.
    let cover = covering(&sunday, &paris, at("2026-10-24T23:30:00Z")).unwrap();
    assert_eq!(cover.until, at("2026-10-25T04:00:00Z"));
    assert_eq!(cover.label.as_deref(), Some("Maintenance du dimanche"));
    assert!(covering(&sunday, &paris, at("2026-10-24T22:59:59Z")).is_none());
    assert!(covering(&sunday, &paris, at("2026-10-25T04:00:00Z")).is_none());
    // The night summer time starts (2026-03-29): 01:00 CET (00:00 UTC) to 05:00 CEST (03:00
    // UTC), three real hours.
    let cover = covering(&sunday, &paris, at("2026-03-29T00:00:00Z")).unwrap();
    assert_eq!(cover.until, at("2026-03-29T03:00:00Z"));
    // Another Sunday of winter: 00:00 to 04:00 UTC.
    let cover = covering(&sunday, &paris, at("2026-11-29T03:59:00Z")).unwrap();
    assert_eq!(cover.until, at("2026-11-29T04:00:00Z"));
    // Not on Saturdays.
    assert!(covering(&sunday, &paris, at("2026-11-28T01:00:00Z")).is_none());
}

#[test]
fn alr_9_adjacent_windows_are_one_cover_and_a_window_may_span_midnight() {
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let windows = [
        window("saturday", "22:00", "3h"),
        window("sunday", "01:00", "2h"),
    ];
    let cover = covering(&windows, &paris, at("2026-11-28T21:30:00Z")).unwrap();
    assert_eq!(cover.until, at("2026-11-29T02:00:00Z"));
}

#[test]
fn alr_9_a_condition_present_when_the_window_closes_is_notified_then() {
    let mut book = Book::new(1);
    // Sunday 2026-10-25, 01:00 to 05:00 Paris time: 23:00 to 04:00 UTC.
    book.set_site(setup(
        OfflineTolerance::Count(0),
        vec![window("sunday", "01:00", "4h")],
    ));
    book.set_equipment(equipment("NVR-1", "nvr", None));
    let start = at("2026-10-24T23:00:00Z") / MINUTE;
    let events = run(&mut book, &["NVR-1"], start, start + 6 * 60, &|_, _| true);
    assert_eq!(
        events
            .iter()
            .map(|e| (e.kind.key(), e.at))
            .collect::<Vec<_>>(),
        vec![
            ("raised", at("2026-10-24T23:05:00Z")),
            ("suppressed", at("2026-10-24T23:05:00Z")),
            ("notified", at("2026-10-25T04:00:00Z")),
        ]
    );
}

#[test]
fn not_8_a_major_alarm_unresolved_8_hours_after_its_notification_becomes_critical() {
    let mut book = Book::new(1);
    book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
    book.set_equipment(equipment("SW-1", "switch", None));
    let mut events = book.observe(&ping("SW-1", 0, false));
    events.extend(book.tick(10 * 60 * MINUTE));
    assert_eq!(
        events
            .iter()
            .map(|e| (e.kind.clone(), e.at / MINUTE))
            .collect::<Vec<_>>()[1..],
        [
            (
                EventKind::Notified {
                    severity: Severity::Major
                },
                5
            ),
            (
                EventKind::SeverityChanged {
                    from: Severity::Major,
                    to: Severity::Critical,
                    cause: SeverityCause::Unresolved
                },
                8 * 60 + 5
            ),
        ]
    );
    assert_eq!(book.next_wake(), None);
}

fn report() -> ClosureReport {
    ClosureReport {
        actions: "Remplacement de l'alimentation PoE".into(),
        intervention_minutes: 45,
        root_cause: "Alimentation défectueuse".into(),
        parts_replaced: vec!["Injecteur PoE 30 W".into()],
        recommendations: "Prévoir un onduleur pour le coffret".into(),
    }
}

fn resolved_alarm(taken_by: Option<&str>) -> Alarm {
    let (mut alarm, _) = Alarm::raised(
        7,
        Some(reference("SITE-1")),
        Some(reference("CAM-1")),
        ConditionKey::whole(Condition::Unreachable),
        Severity::Critical,
        false,
        0,
    );
    if let Some(by) = taken_by {
        alarm.take_charge(&reference(by), MINUTE).unwrap();
    }
    alarm.resolve(10 * MINUTE, 8 * MINUTE).unwrap();
    alarm
}

#[test]
fn clo_2_only_the_resolver_or_the_resolvers_manager_closes() {
    let tech = reference("TECH-1");
    let manager = reference("MGR-1");
    let other = reference("TECH-2");
    let mut alarm = resolved_alarm(Some("TECH-1"));
    assert_eq!(alarm.resolved_by.as_ref(), Some(&tech));
    assert!(matches!(
        alarm.close(&other, Some(&manager), report(), 11 * MINUTE),
        Err(LifecycleError::Forbidden(_))
    ));
    let event = alarm
        .close(&manager, Some(&manager), report(), 11 * MINUTE)
        .unwrap();
    assert_eq!(event.by.as_ref(), Some(&manager));
    assert_eq!(alarm.status(), Status::Closed);
    assert!(matches!(
        alarm.close(&tech, None, report(), 12 * MINUTE),
        Err(LifecycleError::Conflict(_))
    ));
    // The resolver closes, the report must be filled in (CLO-1).
    let mut alarm = resolved_alarm(Some("TECH-1"));
    let mut empty = report();
    empty.root_cause = "  ".into();
    assert!(matches!(
        alarm.close(&tech, None, empty, 11 * MINUTE),
        Err(LifecycleError::Invalid(_))
    ));
    alarm.close(&tech, None, report(), 11 * MINUTE).unwrap();
}

#[test]
fn clo_2_an_alarm_resolved_with_nobody_in_charge_is_closed_by_who_takes_it() {
    let mut alarm = resolved_alarm(None);
    let tech = reference("TECH-2");
    assert!(matches!(
        alarm.close(&tech, None, report(), 11 * MINUTE),
        Err(LifecycleError::Conflict(_))
    ));
    let events = alarm.take_charge(&tech, 11 * MINUTE).unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind.key()).collect::<Vec<_>>(),
        ["acknowledged", "taken_in_charge"]
    );
    assert!(
        alarm
            .take_charge(&reference("TECH-3"), 12 * MINUTE)
            .is_err()
    );
    alarm.close(&tech, None, report(), 13 * MINUTE).unwrap();
}

#[test]
fn an_open_alarm_cannot_be_closed_and_takes_over_are_recorded() {
    let (mut alarm, _) = Alarm::raised(
        1,
        Some(reference("SITE-1")),
        None,
        ConditionKey::whole(Condition::CamerasOffline),
        Severity::Major,
        false,
        0,
    );
    alarm.acknowledge(&reference("TECH-1"), MINUTE).unwrap();
    assert!(alarm.acknowledge(&reference("TECH-1"), MINUTE).is_err());
    alarm.take_charge(&reference("TECH-1"), 2 * MINUTE).unwrap();
    let events = alarm.take_charge(&reference("TECH-2"), 3 * MINUTE).unwrap();
    assert_eq!(keys(&events), [(1, "taken_in_charge")]);
    assert!(matches!(
        alarm.close(&reference("TECH-2"), None, report(), 4 * MINUTE),
        Err(LifecycleError::Conflict(_))
    ));
    alarm.resolve(5 * MINUTE, 3 * MINUTE);
    assert_eq!(alarm.resolved_by, Some(reference("TECH-2")));
    assert_eq!(alarm.duration_ms(100 * MINUTE), 5 * MINUTE);
}

#[test]
fn alr_7_firmware_versions_compare_part_by_part() {
    let v = |text| FirmwareVersion::parse(text).unwrap();
    assert!(v("V5.7.3 build 230105") < v("5.7.10"));
    assert_eq!(v("5.7"), v("5.7.0"));
    assert!(v("4.62.210") > v("4.9.999"));
    assert!(FirmwareVersion::parse("bêta").is_none());
    assert!(FirmwareVersion::parse(&"1.".repeat(60)).is_none());
}

proptest! {
    #[test]
    fn firmware_order_is_the_order_of_the_numbers(a in proptest::collection::vec(0u32..1000, 1..5), b in proptest::collection::vec(0u32..1000, 1..5)) {
        let text = |parts: &[u32]| parts.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let pad = |parts: &[u32]| { let mut p = parts.to_vec(); p.resize(5, 0); p };
        prop_assert_eq!(
            FirmwareVersion::parse(&text(&a)).unwrap().cmp(&FirmwareVersion::parse(&text(&b)).unwrap()),
            pad(&a).cmp(&pad(&b))
        );
    }
}

#[test]
fn dec_1_alr_6_alr_7_model_temperature_latency_and_firmware() {
    let policy = Policy::default_policy()
        .with_overlay(
            &toml::from_str(
                "[models.\"NVR-X\"]\nmin_firmware = \"4.62.210\"\ntemperature_major_celsius = 75\n",
            )
            .unwrap(),
        )
        .unwrap();
    let mut nvr = equipment("NVR-1", "nvr", None);
    nvr.model = Some(vigie_domain::values::Text::parse("NVR-X").unwrap());
    nvr.firmware = Some(vigie_domain::values::Text::parse("4.61.0").unwrap());
    let mut seen = ping("NVR-1", 0, true);
    seen.samples.push(Sample {
        name: MetricName::parse("temperature_celsius:cpu").unwrap(),
        value: 74.0,
    });
    let read = |observation: &Observation| {
        vigie_domain::alarm::rules::readings(&policy, &nvr, observation, &|_| false)
    };
    let found = read(&seen);
    assert!(found.contains(&(
        ConditionKey {
            condition: Condition::Temperature,
            part: Some("cpu".into())
        },
        vigie_domain::alarm::Reading::Absent
    )));
    assert!(found.contains(&(
        ConditionKey::whole(Condition::ObsoleteFirmware),
        vigie_domain::alarm::Reading::Present(Severity::Minor)
    )));
    seen.samples[0].value = 75.0;
    assert!(read(&seen).contains(&(
        ConditionKey {
            condition: Condition::Temperature,
            part: Some("cpu".into())
        },
        vigie_domain::alarm::Reading::Present(Severity::Major)
    )));
    let mut rtsp = ping("NVR-1", 0, true);
    rtsp.check = CheckName::parse("rtsp").unwrap();
    rtsp.samples.push(Sample {
        name: MetricName::parse("response_ms").unwrap(),
        value: 1500.0,
    });
    assert!(read(&rtsp).contains(&(
        ConditionKey::whole(Condition::VideoStreamLatency),
        vigie_domain::alarm::Reading::Present(Severity::Major)
    )));
}

#[test]
fn an_alarm_taken_back_after_a_restart_is_resolved_not_raised_twice() {
    let fresh = || {
        let mut book = Book::new(1);
        book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
        book.set_equipment(equipment("SW-1", "switch", None));
        book
    };
    let mut before = fresh();
    before.observe(&ping("SW-1", 0, false));
    before.tick(10 * MINUTE);
    let alarm = before.alarm(1).unwrap().clone();
    assert_eq!(alarm.notified_at, Some(5 * MINUTE));
    let mut after = fresh();
    after.restore(alarm);
    assert_eq!(after.next_id(), 2);
    // Still down: nothing new. Then up: the same alarm resolves.
    let mut events = after.observe(&ping("SW-1", 11 * MINUTE, false));
    events.extend(after.observe(&ping("SW-1", 12 * MINUTE, true)));
    events.extend(after.tick(20 * MINUTE));
    assert_eq!(keys(&events), [(1, "resolved")]);
    // NOT-8's deadline survives the restart.
    let mut again = fresh();
    again.restore(before.alarm(1).unwrap().clone());
    let events = again.tick(9 * 60 * MINUTE);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].at, 5 * MINUTE + 8 * 60 * MINUTE);
}

// --- A rotation with nobody on call --------------------------------------------------------

#[test]
fn a_rotation_with_nobody_on_call_is_one_major_alarm_until_it_is_covered() {
    let mut book = Book::new(1);
    let rotation = reference("ASTREINTE-TECH");
    let t0 = at("2026-05-30T08:00:00Z");
    let events = book.rotations_uncovered(std::slice::from_ref(&rotation), t0);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.key()).collect();
    assert_eq!(kinds, vec!["raised", "notified"]);
    let alarm = book.alarm(events[0].alarm).unwrap().clone();
    assert_eq!(alarm.site, None);
    assert_eq!(alarm.equipment, None);
    assert_eq!(alarm.severity, Severity::Major);
    assert_eq!(alarm.condition.condition, Condition::NobodyOnCall);
    assert_eq!(alarm.condition.part.as_deref(), Some("ASTREINTE-TECH"));
    assert_eq!(alarm.notified_at, Some(t0));
    // Checked again a minute later, still uncovered: the same alarm, nothing new.
    assert!(
        book.rotations_uncovered(std::slice::from_ref(&rotation), t0 + MINUTE)
            .is_empty()
    );
    // No NOT-8 deadline: an alarm about no site stays Major however long it lasts.
    assert!(book.tick(t0 + 24 * 60 * MINUTE).is_empty());
    // Covered: resolved at the check's instant.
    let covered = t0 + 2 * 60 * MINUTE;
    let events = book.rotations_uncovered(&[], covered);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Resolved { since: covered });
    assert_eq!(book.alarm(alarm.id).unwrap().resolved_at, Some(covered));
    // Uncovered again later: a new alarm.
    let again = book.rotations_uncovered(std::slice::from_ref(&rotation), covered + MINUTE);
    assert_eq!(again[0].kind.key(), "raised");
    assert_ne!(again[0].alarm, alarm.id);
}

#[test]
fn a_nobody_on_call_alarm_taken_back_after_a_restart_is_not_raised_twice() {
    let rotation = reference("ASTREINTE-MANAGERS");
    let t0 = at("2026-05-30T08:00:00Z");
    let mut before = Book::new(1);
    let events = before.rotations_uncovered(std::slice::from_ref(&rotation), t0);
    let stored = before.alarm(events[0].alarm).unwrap().clone();
    let mut after = Book::new(stored.id + 1);
    after.restore(stored.clone());
    assert!(
        after
            .rotations_uncovered(std::slice::from_ref(&rotation), t0 + MINUTE)
            .is_empty()
    );
    let resolved = after.rotations_uncovered(&[], t0 + 2 * MINUTE);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].alarm, stored.id);
}

// --- The support mailbox that cannot be read -----------------------------------------------

#[test]
fn an_unreadable_mailbox_is_one_major_alarm_until_it_reads_again_even_across_a_restart() {
    let mut book = Book::new(1);
    let t0 = at("2026-05-30T08:00:00Z");
    assert!(book.mailbox_readable(true, t0).is_empty());
    let events = book.mailbox_readable(false, t0);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.key()).collect();
    assert_eq!(kinds, vec!["raised", "notified"]);
    let alarm = book.alarm(events[0].alarm).unwrap().clone();
    assert_eq!(
        (alarm.site.clone(), alarm.severity),
        (None, Severity::Major)
    );
    assert_eq!(alarm.condition.condition, Condition::MailboxUnreadable);
    // Failing again: the same alarm.
    assert!(book.mailbox_readable(false, t0 + MINUTE).is_empty());
    // After a restart the alarm is taken back, not raised twice; read again, it resolves.
    let mut after = Book::new(alarm.id + 1);
    after.restore(alarm.clone());
    assert!(after.mailbox_readable(false, t0 + 2 * MINUTE).is_empty());
    let events = after.mailbox_readable(true, t0 + 3 * MINUTE);
    assert_eq!(
        events.iter().map(|e| e.kind.key()).collect::<Vec<_>>(),
        ["resolved"]
    );
    assert!(after.mailbox_readable(true, t0 + 4 * MINUTE).is_empty());
}

fn one_off(id: i64, kind: OneOffKind, equipment: Option<&str>, from: i64, to: i64) -> OneOffWindow {
    OneOffWindow {
        id,
        kind,
        client: reference("CLI-1"),
        site: reference("SITE-1"),
        equipment: equipment.map(reference),
        starts_at: from,
        ends_at: to,
        reason: Text::parse("Remplacement du commutateur").unwrap(),
        created_by: reference("ST-1"),
        created_at: from,
        ended_at: None,
        ended_by: None,
    }
}

#[test]
fn alr_9_a_one_off_window_holds_its_equipment_until_a_person_ends_it() {
    let mut book = Book::new(1);
    book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
    book.set_equipment(equipment("NVR-1", "nvr", None));
    book.set_equipment(equipment("NVR-2", "nvr", None));
    let start = at("2026-11-30T09:00:00Z");
    let mut window = one_off(
        1,
        OneOffKind::Silence,
        Some("NVR-1"),
        start,
        start + 4 * 60 * MINUTE,
    );
    assert!(
        book.set_one_off_windows(vec![window.clone()], start)
            .is_empty()
    );
    let events = run(
        &mut book,
        &["NVR-1", "NVR-2"],
        start / MINUTE,
        start / MINUTE + 60,
        &|_, _| true,
    );
    let of = |book: &Book, events: &[AlarmEvent], equipment: &str| {
        events
            .iter()
            .filter(|e| {
                book.alarm(e.alarm)
                    .and_then(|a| a.equipment.as_ref())
                    .is_some_and(|r| r.as_str() == equipment)
            })
            .map(|e| (e.kind.key(), (e.at - start) / MINUTE))
            .collect::<Vec<_>>()
    };
    // The window is NVR-1's only: NVR-2 is notified, NVR-1 held to the window's end.
    assert_eq!(
        of(&book, &events, "NVR-2"),
        vec![("raised", 5), ("notified", 5)]
    );
    assert_eq!(
        of(&book, &events, "NVR-1"),
        vec![("raised", 5), ("suppressed", 5)]
    );
    let held = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Suppressed {
                suppression: Suppression::Maintenance { window, until },
            } => Some((window.clone(), *until)),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        held,
        (
            Some("Remplacement du commutateur".into()),
            start + 4 * 60 * MINUTE
        )
    );
    // Ended by a person after 90 minutes: NVR-1 is notified then, not at the planned end.
    let ended = start + 90 * MINUTE;
    window.ended_at = Some(ended);
    let events = book.set_one_off_windows(vec![window.clone()], ended);
    assert_eq!(of(&book, &events, "NVR-1"), vec![("notified", 90)]);
    // The planned end then brings nothing more.
    assert!(book.tick(start + 5 * 60 * MINUTE).is_empty());
}

#[test]
fn alr_9_a_site_window_extended_moves_the_end_of_what_it_holds() {
    let mut book = Book::new(1);
    book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
    book.set_equipment(equipment("SW-1", "switch", None));
    let start = at("2026-11-30T09:00:00Z");
    let window = one_off(1, OneOffKind::Maintenance, None, start, start + 60 * MINUTE);
    book.set_one_off_windows(vec![window.clone()], start);
    run(
        &mut book,
        &["SW-1"],
        start / MINUTE,
        start / MINUTE + 10,
        &|_, _| true,
    );
    // A second window follows the first without a gap: one cover, to the second's end.
    let next = one_off(
        2,
        OneOffKind::Silence,
        None,
        start + 60 * MINUTE,
        start + 120 * MINUTE,
    );
    let events = book.set_one_off_windows(vec![window, next], start + 10 * MINUTE);
    assert_eq!(
        events
            .iter()
            .map(|e| (e.kind.clone(), (e.at - start) / MINUTE))
            .collect::<Vec<_>>(),
        vec![(
            EventKind::Suppressed {
                suppression: Suppression::Maintenance {
                    window: Some("Remplacement du commutateur".into()),
                    until: start + 120 * MINUTE,
                }
            },
            10
        )]
    );
    // The first window's end wakes nothing; the cover's end notifies.
    let events = book.tick(start + 119 * MINUTE);
    assert!(events.is_empty(), "{events:?}");
    let events = book.tick(start + 120 * MINUTE);
    assert_eq!(
        events.iter().map(|e| e.kind.key()).collect::<Vec<_>>(),
        vec!["notified"]
    );
    // Windows opened once an alarm is notified do not take it back.
    let late = one_off(3, OneOffKind::Silence, None, start, start + 600 * MINUTE);
    assert!(
        book.set_one_off_windows(vec![late], start + 121 * MINUTE)
            .is_empty()
    );
}

#[test]
fn alr_9_a_one_off_window_ends_after_it_starts_and_lasts_a_month_at_most() {
    let hour = 60 * MINUTE;
    assert!(OneOffWindow::check_period(0, hour, 0).is_ok());
    assert_eq!(
        OneOffWindow::check_period(hour, hour, 0).unwrap_err(),
        "la fin doit suivre le début"
    );
    assert_eq!(
        OneOffWindow::check_period(0, hour, hour).unwrap_err(),
        "la fin est déjà passée"
    );
    assert!(OneOffWindow::check_period(0, 31 * 24 * hour, 0).is_ok());
    // An hour back at most: a past month's availability is not rewritten.
    assert!(OneOffWindow::check_period(-hour, hour, 0).is_ok());
    assert!(
        OneOffWindow::check_period(-hour - 1, hour, 0)
            .unwrap_err()
            .starts_with("le début ne peut précéder maintenant")
    );
    assert!(OneOffWindow::check_period(0, 31 * 24 * hour + 1, 0).is_err());
    // An equipment's window holds its own alarms only, over [start, end).
    let window = one_off(1, OneOffKind::Silence, Some("CAM-1"), hour, 2 * hour);
    assert!(window.holds(Some(&reference("CAM-1")), hour));
    assert!(!window.holds(Some(&reference("CAM-1")), 2 * hour));
    assert!(!window.holds(Some(&reference("CAM-2")), hour));
    assert!(!window.holds(None, hour));
    assert_eq!(OneOffKind::parse("silence"), Some(OneOffKind::Silence));
}

#[test]
fn alr_9_a_window_opened_before_the_book_reads_its_site_holds_once_it_does() {
    // The book reads a site when its first observation arrives: a window opened before that
    // is kept and applies then.
    let mut book = Book::new(1);
    let start = at("2026-11-30T09:00:00Z");
    let window = one_off(1, OneOffKind::Silence, None, start, start + 60 * MINUTE);
    assert!(book.set_one_off_windows(vec![window], start).is_empty());
    book.set_site(setup(OfflineTolerance::Count(0), Vec::new()));
    book.set_equipment(equipment("SW-1", "switch", None));
    let events = run(
        &mut book,
        &["SW-1"],
        start / MINUTE,
        start / MINUTE + 10,
        &|_, _| true,
    );
    assert_eq!(
        events.iter().map(|e| e.kind.key()).collect::<Vec<_>>(),
        vec!["raised", "suppressed"]
    );
}
