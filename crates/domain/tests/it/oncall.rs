//! On-call rotations (NOT-1, NOT-3, NOT-7): who is on call when, exact across DST changes in
//! Paris and New York, hand-offs in a spring gap and an autumn fold, overrides and swaps, the
//! file shape; then properties over random rotations checked against a naive walk from the start.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use vigie_domain::inventory::{LocalTime, Weekday};
use vigie_domain::oncall::{
    self, Duty, Handoff, MAX_OVERRIDES, OnCall, OnCallError, Override, Rotation,
};
use vigie_domain::values::{Reference, TimeZoneName};

const HOUR: i64 = 3_600_000;

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

fn at(hour: u8, minute: u8) -> LocalTime {
    LocalTime { hour, minute }
}

fn rotation(zone: &str, members: &[&str], handoff: Handoff, start: &str) -> Rotation {
    Rotation {
        name: reference("ASTREINTE-TECH"),
        duty: Duty::Technician,
        time_zone: TimeZoneName::parse(zone).unwrap(),
        members: members.iter().map(|m| reference(m)).collect(),
        handoff,
        start: start.parse().unwrap(),
        overrides: Vec::new(),
        territory: None,
        rank: 1,
    }
}

/// Monday 08:00 Europe/Paris, three technicians, from Monday 5 January 2026.
fn weekly_paris() -> Rotation {
    rotation(
        "Europe/Paris",
        &["TECH-A", "TECH-B", "TECH-C"],
        Handoff::Weekly {
            day: Weekday::Monday,
            at: at(8, 0),
        },
        "2026-01-05",
    )
}

fn shift(member: &str, from: &str, to: &str) -> OnCall {
    OnCall {
        member: reference(member),
        from_ms: ms(from),
        to_ms: ms(to),
        by_override: false,
    }
}

fn by_override(member: &str, from: &str, to: &str) -> OnCall {
    OnCall {
        by_override: true,
        ..shift(member, from, to)
    }
}

fn cover(member: &str, from: &str, to: &str) -> Override {
    Override {
        from_ms: ms(from),
        to_ms: ms(to),
        member: reference(member),
        reason: None,
    }
}

fn hours(on_call: &OnCall) -> i64 {
    (on_call.to_ms - on_call.from_ms) / HOUR
}

#[test]
fn weekly_paris_rotation_takes_turns_in_order() {
    let r = weekly_paris();
    r.check().unwrap();
    assert_eq!(r.first_handoff(), Some(ms("2026-01-05T07:00:00Z")));
    assert_eq!(r.on_call_at(ms("2026-01-05T06:59:59.999Z")), None);
    assert_eq!(
        r.on_call_at(ms("2026-01-05T07:00:00Z")),
        Some(shift(
            "TECH-A",
            "2026-01-05T07:00:00Z",
            "2026-01-12T07:00:00Z"
        ))
    );
    assert_eq!(
        r.on_call_at(ms("2026-01-14T23:00:00Z")),
        Some(shift(
            "TECH-B",
            "2026-01-12T07:00:00Z",
            "2026-01-19T07:00:00Z"
        ))
    );
    assert_eq!(
        r.on_call_at(ms("2026-01-19T07:00:00Z")).unwrap().member,
        reference("TECH-C")
    );
    assert_eq!(
        r.on_call_at(ms("2026-01-26T06:59:59Z")).unwrap().member,
        reference("TECH-C")
    );
    assert_eq!(
        r.on_call_at(ms("2026-01-26T07:00:00Z")).unwrap().member,
        reference("TECH-A")
    );
    // A year and more later: shift 52 (5 January 2027) is 52 % 3 = 1, TECH-B's.
    assert_eq!(
        r.on_call_at(ms("2027-01-06T12:00:00Z")),
        Some(shift(
            "TECH-B",
            "2027-01-04T07:00:00Z",
            "2027-01-11T07:00:00Z"
        ))
    );
}

#[test]
fn the_weekly_shift_over_the_spring_change_lasts_167_hours_and_the_autumn_one_169() {
    let r = weekly_paris();
    // Summer time starts on Sunday 29 March 2026: 08:00 Paris is 07:00Z before, 06:00Z after.
    let spring = r.on_call_at(ms("2026-03-29T12:00:00Z")).unwrap();
    assert_eq!(
        spring,
        shift("TECH-C", "2026-03-23T07:00:00Z", "2026-03-30T06:00:00Z")
    );
    assert_eq!(hours(&spring), 167);
    assert_eq!(
        r.on_call_at(ms("2026-03-30T06:00:00Z")),
        Some(shift(
            "TECH-A",
            "2026-03-30T06:00:00Z",
            "2026-04-06T06:00:00Z"
        ))
    );
    // Summer time ends on Sunday 25 October 2026.
    let autumn = r.on_call_at(ms("2026-10-25T12:00:00Z")).unwrap();
    assert_eq!(
        autumn,
        shift("TECH-C", "2026-10-19T06:00:00Z", "2026-10-26T07:00:00Z")
    );
    assert_eq!(hours(&autumn), 169);
    assert_eq!(
        r.on_call_at(ms("2026-10-26T07:00:00Z")).unwrap().from_ms,
        ms("2026-10-26T07:00:00Z")
    );
    // Every hand-off is at 08:00 on the Paris wall clock.
    let paris = TimeZone::get("Europe/Paris").unwrap();
    for s in r.shifts(ms("2026-01-01T00:00:00Z"), ms("2027-01-01T00:00:00Z"), 100) {
        let local = Timestamp::from_millisecond(s.from_ms)
            .unwrap()
            .to_zoned(paris.clone());
        assert_eq!(local.time(), Time::constant(8, 0, 0, 0));
        assert_eq!(local.weekday(), jiff::civil::Weekday::Monday);
        assert!([167, 168, 169].contains(&hours(&s)));
    }
}

#[test]
fn a_handoff_in_the_spring_gap_moves_forward_by_the_gap() {
    // Every day at 02:30 Paris: on 29 March 2026 02:30 does not exist; like the calendar, the
    // hand-off moves forward by the gap's length, to 03:30 summer time (01:30Z).
    let r = rotation(
        "Europe/Paris",
        &["TECH-A", "TECH-B"],
        Handoff::Days {
            every_days: 1,
            at: at(2, 30),
        },
        "2026-03-27",
    );
    r.check().unwrap();
    let saturday = r.on_call_at(ms("2026-03-29T01:29:59Z")).unwrap();
    assert_eq!(
        saturday,
        shift("TECH-B", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z")
    );
    let sunday = r.on_call_at(ms("2026-03-29T01:30:00Z")).unwrap();
    assert_eq!(
        sunday,
        shift("TECH-A", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z")
    );
    assert_eq!(hours(&saturday), 24);
    assert_eq!(hours(&sunday), 23);
}

#[test]
fn a_handoff_in_the_autumn_fold_is_the_earlier_instant() {
    // 02:30 on 25 October 2026 happens at 00:30Z (summer time) and 01:30Z (winter time): the
    // hand-off is the first.
    let r = rotation(
        "Europe/Paris",
        &["TECH-A", "TECH-B"],
        Handoff::Days {
            every_days: 1,
            at: at(2, 30),
        },
        "2026-10-24",
    );
    let saturday = r.on_call_at(ms("2026-10-25T00:29:59Z")).unwrap();
    assert_eq!(
        saturday,
        shift("TECH-A", "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z")
    );
    let sunday = r.on_call_at(ms("2026-10-25T01:30:00Z")).unwrap();
    assert_eq!(
        sunday,
        shift("TECH-B", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z")
    );
    assert_eq!(hours(&sunday), 25);
}

#[test]
fn every_two_days() {
    let r = rotation(
        "Europe/Paris",
        &["TECH-A", "TECH-B", "TECH-C"],
        Handoff::Days {
            every_days: 2,
            at: at(8, 0),
        },
        "2026-03-01",
    );
    r.check().unwrap();
    assert_eq!(
        r.on_call_at(ms("2026-03-02T12:00:00Z")),
        Some(shift(
            "TECH-A",
            "2026-03-01T07:00:00Z",
            "2026-03-03T07:00:00Z"
        ))
    );
    // Shift 13 (27 March) is TECH-B's and ends at 08:00 summer time on the 29th: 47 hours.
    let over_the_change = r.on_call_at(ms("2026-03-29T05:59:59Z")).unwrap();
    assert_eq!(
        over_the_change,
        shift("TECH-B", "2026-03-27T07:00:00Z", "2026-03-29T06:00:00Z")
    );
    assert_eq!(hours(&over_the_change), 47);
    assert_eq!(
        r.on_call_at(ms("2026-03-29T06:00:00Z")).unwrap().member,
        reference("TECH-C")
    );
    let listed = r.shifts(ms("2026-03-01T07:00:00Z"), ms("2026-03-13T07:00:00Z"), 100);
    let members: Vec<&str> = listed.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(
        members,
        ["TECH-A", "TECH-B", "TECH-C", "TECH-A", "TECH-B", "TECH-C"]
    );
    assert!(listed.iter().all(|s| hours(s) == 48));
}

#[test]
fn a_new_york_rotation_follows_new_york_dates() {
    let r = rotation(
        "America/New_York",
        &["TECH-A", "TECH-B"],
        Handoff::Weekly {
            day: Weekday::Monday,
            at: at(9, 0),
        },
        "2026-03-02",
    );
    // Daylight time starts on 8 March 2026 in New York, three weeks before Paris.
    let spring = r.on_call_at(ms("2026-03-08T12:00:00Z")).unwrap();
    assert_eq!(
        spring,
        shift("TECH-A", "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z")
    );
    assert_eq!(hours(&spring), 167);
    // The week Paris changes, New York does not.
    assert_eq!(
        hours(&r.on_call_at(ms("2026-03-29T12:00:00Z")).unwrap()),
        168
    );
    // It ends on 1 November, a week after Paris.
    assert_eq!(
        hours(&r.on_call_at(ms("2026-10-25T12:00:00Z")).unwrap()),
        168
    );
    let autumn = r.on_call_at(ms("2026-11-01T12:00:00Z")).unwrap();
    assert_eq!(
        (autumn.from_ms, autumn.to_ms),
        (ms("2026-10-26T13:00:00Z"), ms("2026-11-02T14:00:00Z"))
    );
    assert_eq!(hours(&autumn), 169);
}

#[test]
fn a_weekly_start_waits_for_the_handoff_day() {
    // Started on a Wednesday, a Monday rotation's first shift is the next Monday's.
    let mut r = weekly_paris();
    r.start = "2026-01-07".parse().unwrap();
    assert_eq!(r.first_handoff(), Some(ms("2026-01-12T07:00:00Z")));
    assert_eq!(r.on_call_at(ms("2026-01-10T12:00:00Z")), None);
    assert_eq!(
        r.on_call_at(ms("2026-01-12T07:00:00Z")).unwrap().member,
        reference("TECH-A")
    );
}

/// Weekly Paris with TECH-C covering Wednesday evening to Friday morning of TECH-B's week.
fn with_override() -> Rotation {
    let mut r = weekly_paris();
    r.overrides.push(cover(
        "TECH-C",
        "2026-02-04T18:00:00+01:00",
        "2026-02-06T08:00:00+01:00",
    ));
    r.check().unwrap();
    r
}

#[test]
fn an_override_wins_and_splits_the_regular_shift() {
    let r = with_override();
    assert_eq!(
        r.on_call_at(ms("2026-02-05T12:00:00Z")),
        Some(by_override(
            "TECH-C",
            "2026-02-04T17:00:00Z",
            "2026-02-06T07:00:00Z"
        ))
    );
    assert_eq!(
        r.on_call_at(ms("2026-02-03T12:00:00Z")),
        Some(shift(
            "TECH-B",
            "2026-02-02T07:00:00Z",
            "2026-02-04T17:00:00Z"
        ))
    );
    assert_eq!(
        r.on_call_at(ms("2026-02-06T07:00:00Z")),
        Some(shift(
            "TECH-B",
            "2026-02-06T07:00:00Z",
            "2026-02-09T07:00:00Z"
        ))
    );
    assert_eq!(
        r.shifts(ms("2026-02-01T00:00:00Z"), ms("2026-02-10T00:00:00Z"), 100),
        vec![
            shift("TECH-A", "2026-01-26T07:00:00Z", "2026-02-02T07:00:00Z"),
            shift("TECH-B", "2026-02-02T07:00:00Z", "2026-02-04T17:00:00Z"),
            by_override("TECH-C", "2026-02-04T17:00:00Z", "2026-02-06T07:00:00Z"),
            shift("TECH-B", "2026-02-06T07:00:00Z", "2026-02-09T07:00:00Z"),
            shift("TECH-C", "2026-02-09T07:00:00Z", "2026-02-16T07:00:00Z"),
        ]
    );
    // The limit is a bound.
    assert_eq!(
        r.shifts(ms("2026-02-01T00:00:00Z"), ms("2026-02-10T00:00:00Z"), 2)
            .len(),
        2
    );
    assert_eq!(
        r.next_change_after(ms("2026-02-03T12:00:00Z")),
        Some(ms("2026-02-04T17:00:00Z"))
    );
    assert_eq!(
        r.next_change_after(ms("2026-02-04T17:00:00Z")),
        Some(ms("2026-02-06T07:00:00Z"))
    );
}

#[test]
fn an_override_before_the_start_covers_its_own_interval() {
    let mut r = weekly_paris();
    r.overrides.push(cover(
        "TECH-B",
        "2025-12-31T18:00:00+01:00",
        "2026-01-02T08:00:00+01:00",
    ));
    assert_eq!(
        r.on_call_at(ms("2026-01-01T12:00:00Z")).unwrap().member,
        reference("TECH-B")
    );
    assert_eq!(r.on_call_at(ms("2026-01-03T12:00:00Z")), None);
    assert_eq!(
        r.next_change_after(ms("2025-12-30T00:00:00Z")),
        Some(ms("2025-12-31T17:00:00Z"))
    );
    assert_eq!(
        r.next_change_after(ms("2026-01-03T12:00:00Z")),
        Some(ms("2026-01-05T07:00:00Z"))
    );
    assert_eq!(
        r.shifts(ms("2025-12-30T00:00:00Z"), ms("2026-01-06T00:00:00Z"), 10),
        vec![
            by_override("TECH-B", "2025-12-31T17:00:00Z", "2026-01-02T07:00:00Z"),
            shift("TECH-A", "2026-01-05T07:00:00Z", "2026-01-12T07:00:00Z"),
        ]
    );
}

#[test]
fn overlapping_overrides_are_refused() {
    let mut r = with_override();
    // Touching is fine.
    r.overrides.push(cover(
        "TECH-A",
        "2026-02-06T08:00:00+01:00",
        "2026-02-07T08:00:00+01:00",
    ));
    r.check().unwrap();
    r.overrides.push(cover(
        "TECH-A",
        "2026-02-05T08:00:00+01:00",
        "2026-02-05T20:00:00+01:00",
    ));
    let error = r.check().unwrap_err();
    assert!(matches!(error, OnCallError::OverlappingOverrides { .. }));
    assert_eq!(
        error.to_string(),
        "astreinte « ASTREINTE-TECH » : les remplacements par « TECH-C » (2026-02-04T18:00:00+01:00 → 2026-02-06T08:00:00+01:00) et par « TECH-A » (2026-02-05T08:00:00+01:00 → 2026-02-05T20:00:00+01:00) se chevauchent ; lequel vaut serait ambigu"
    );
}

#[test]
fn a_swap_is_two_overrides_that_exchange_the_members() {
    let mut r = weekly_paris();
    // TECH-B's week of 2 February against TECH-C's week of 9 February.
    let [first, second] = r
        .swap(ms("2026-02-03T12:00:00Z"), ms("2026-02-10T12:00:00Z"))
        .unwrap();
    assert_eq!(
        (first.from_ms, first.to_ms, first.member.as_str()),
        (
            ms("2026-02-02T07:00:00Z"),
            ms("2026-02-09T07:00:00Z"),
            "TECH-C"
        )
    );
    assert_eq!(
        (second.from_ms, second.to_ms, second.member.as_str()),
        (
            ms("2026-02-09T07:00:00Z"),
            ms("2026-02-16T07:00:00Z"),
            "TECH-B"
        )
    );
    assert!(first.reason.as_ref().unwrap().as_str().contains("échange"));
    r.overrides.extend([first, second]);
    r.check().unwrap();
    assert_eq!(
        r.on_call_at(ms("2026-02-03T12:00:00Z")),
        Some(by_override(
            "TECH-C",
            "2026-02-02T07:00:00Z",
            "2026-02-09T07:00:00Z"
        ))
    );
    assert_eq!(
        r.on_call_at(ms("2026-02-10T12:00:00Z")).unwrap().member,
        reference("TECH-B")
    );
    // The weeks around are untouched.
    assert_eq!(
        r.on_call_at(ms("2026-02-17T12:00:00Z")).unwrap().member,
        reference("TECH-A")
    );
    // Swapping again a week that already has an override is refused.
    assert!(matches!(
        r.swap(ms("2026-02-03T12:00:00Z"), ms("2026-02-17T12:00:00Z")),
        Err(OnCallError::SwapOverlapsOverride { .. })
    ));
}

#[test]
fn swaps_that_change_nothing_or_have_no_shift_are_refused() {
    let r = weekly_paris();
    // Shifts 4 and 7 are both TECH-B's.
    let same = r
        .swap(ms("2026-02-03T12:00:00Z"), ms("2026-02-24T12:00:00Z"))
        .unwrap_err();
    assert_eq!(
        same.to_string(),
        "astreinte « ASTREINTE-TECH » : les deux gardes sont celles de « TECH-B », l'échange ne changerait rien"
    );
    let before = r
        .swap(ms("2026-01-01T12:00:00Z"), ms("2026-02-24T12:00:00Z"))
        .unwrap_err();
    assert!(matches!(before, OnCallError::NoShift { .. }));
    assert!(before.to_string().contains("2026-01-01T13:00:00+01:00"));
}

#[test]
fn before_the_start_nobody_is_on_call_and_the_rotation_is_uncovered() {
    let technicians = weekly_paris();
    let mut managers = rotation(
        "Europe/Paris",
        &["RESP-X", "RESP-Y"],
        Handoff::Weekly {
            day: Weekday::Friday,
            at: at(18, 0),
        },
        "2025-12-05",
    );
    managers.name = reference("ASTREINTE-RESP");
    managers.duty = Duty::Manager;
    let rotations = [technicians.clone(), managers];
    let new_year = ms("2026-01-01T12:00:00Z");
    assert_eq!(technicians.on_call_at(new_year), None);
    assert_eq!(
        oncall::uncovered(&rotations, new_year),
        vec![reference("ASTREINTE-TECH")]
    );
    assert_eq!(fleet_on_call(&rotations, Duty::Technician, new_year), None);
    let (name, manager) = fleet_on_call(&rotations, Duty::Manager, new_year).unwrap();
    assert_eq!(name, reference("ASTREINTE-RESP"));
    // 26 December was shift 3: RESP-Y.
    assert_eq!(manager.member, reference("RESP-Y"));
    let later = ms("2026-01-06T12:00:00Z");
    assert!(oncall::uncovered(&rotations, later).is_empty());
    assert_eq!(
        fleet_on_call(&rotations, Duty::Technician, later)
            .unwrap()
            .1
            .member,
        reference("TECH-A")
    );
}

/// Who holds `duty` for the whole fleet (no site, no territory): the rotation and interval.
fn fleet_on_call(rotations: &[Rotation], duty: Duty, at: i64) -> Option<(Reference, OnCall)> {
    let answer = oncall::route(rotations, &[], None, duty, at)?;
    Some((answer.rotation, answer.on_call))
}

#[test]
fn on_call_takes_the_first_rotation_by_name_with_someone_on_call() {
    let mut late = weekly_paris();
    late.name = reference("B-ASTREINTE");
    late.members = vec![reference("TECH-Z")];
    let mut early = weekly_paris();
    early.name = reference("A-ASTREINTE");
    early.start = "2026-03-02".parse().unwrap();
    let rotations = [late, early];
    let (name, who) =
        fleet_on_call(&rotations, Duty::Technician, ms("2026-02-10T12:00:00Z")).unwrap();
    assert_eq!(
        (name.as_str(), who.member.as_str()),
        ("B-ASTREINTE", "TECH-Z")
    );
    let (name, _) =
        fleet_on_call(&rotations, Duty::Technician, ms("2026-03-10T12:00:00Z")).unwrap();
    assert_eq!(name.as_str(), "A-ASTREINTE");
    assert_eq!(
        fleet_on_call(&rotations, Duty::Manager, ms("2026-03-10T12:00:00Z")),
        None
    );
}

#[test]
fn duties_answer_for_the_policy_recipients() {
    use vigie_domain::policy::Recipient;
    assert_eq!(Duty::Technician.recipient(), Recipient::OnCallTechnician);
    assert_eq!(
        Duty::for_recipient(Recipient::OnCallManager),
        Some(Duty::Manager)
    );
    assert_eq!(Duty::for_recipient(Recipient::Cio), None);
}

#[test]
fn check_errors_are_french_and_name_the_problem() {
    let message = |r: &Rotation| r.check().unwrap_err().to_string();

    let mut r = weekly_paris();
    r.members.clear();
    assert_eq!(
        message(&r),
        "astreinte « ASTREINTE-TECH » : aucun membre (il en faut au moins un)"
    );

    let mut r = weekly_paris();
    r.members.push(reference("TECH-B"));
    assert_eq!(
        message(&r),
        "astreinte « ASTREINTE-TECH » : « TECH-B » figure deux fois parmi les membres"
    );

    for every_days in [0, 367] {
        let mut r = weekly_paris();
        r.handoff = Handoff::Days {
            every_days,
            at: at(8, 0),
        };
        assert_eq!(
            message(&r),
            format!(
                "astreinte « ASTREINTE-TECH » : une relève tous les {every_days} jours est impossible (de 1 à 366 jours)"
            )
        );
    }

    let mut r = weekly_paris();
    r.overrides.push(cover(
        "TECH-A",
        "2026-02-05T08:00:00+01:00",
        "2026-02-05T08:00:00+01:00",
    ));
    assert_eq!(
        message(&r),
        "astreinte « ASTREINTE-TECH » : le remplacement par « TECH-A » ne finit pas après avoir commencé (2026-02-05T08:00:00+01:00 → 2026-02-05T08:00:00+01:00)"
    );

    let mut r = weekly_paris();
    r.overrides = (0..=MAX_OVERRIDES as i64)
        .map(|i| Override {
            from_ms: i * HOUR,
            to_ms: (i + 1) * HOUR,
            member: reference("TECH-A"),
            reason: None,
        })
        .collect();
    assert_eq!(
        message(&r),
        "astreinte « ASTREINTE-TECH » : 10001 remplacements, au plus 10000 sont admis"
    );
    r.overrides.pop();
    r.check().unwrap();
}

#[test]
fn out_of_range_inputs_give_nothing_and_never_panic() {
    let r = with_override();
    for instant in [
        i64::MIN,
        i64::MAX,
        -377_705_116_800_000,
        253_402_300_799_999,
    ] {
        let _ = r.on_call_at(instant);
        let _ = r.next_change_after(instant);
        let _ = r.shifts(instant, i64::MAX, 3);
        let _ = r.swap(instant, instant);
    }
    assert_eq!(r.on_call_at(i64::MAX), None);
    // A rotation at the end of the managed dates, in a zone west of UTC.
    let mut end = rotation(
        "America/Los_Angeles",
        &["TECH-A"],
        Handoff::Days {
            every_days: 366,
            at: at(23, 59),
        },
        "9999-12-31",
    );
    assert!(end.first_handoff().is_none());
    assert!(matches!(end.check(), Err(OnCallError::OutOfRange { .. })));
    end.start = "9998-06-01".parse().unwrap();
    end.check().unwrap();
    let first = end.first_handoff().unwrap();
    // The shift after the first has no computable end: nobody, rather than a panic.
    let _ = end.on_call_at(first);
    assert_eq!(end.on_call_at(first + 400 * 24 * HOUR), None);
    // An unchecked rotation (no members, every 0 days, empty or reversed overrides).
    let mut broken = weekly_paris();
    broken.members.clear();
    assert_eq!(broken.on_call_at(ms("2026-02-03T12:00:00Z")), None);
    broken.handoff = Handoff::Days {
        every_days: 0,
        at: at(8, 0),
    };
    broken.members.push(reference("TECH-A"));
    broken.overrides.push(Override {
        from_ms: 10,
        to_ms: 5,
        member: reference("TECH-A"),
        reason: None,
    });
    assert_eq!(broken.on_call_at(7), None);
    assert_eq!(broken.next_change_after(0), None);
    assert!(broken.shifts(i64::MIN, i64::MAX, usize::MAX).is_empty());
}

const EXAMPLE: &str = r#"
name = "ASTREINTE-TECH"
duty = "technician"
time_zone = "Europe/Paris"
members = ["TECH-A", "TECH-B", "TECH-C"]
handoff = { every = "week", day = "monday", at = "08:00" }
start = 2026-01-05

[[overrides]]
from = 2026-02-04T18:00:00+01:00
to = 2026-02-06T08:00:00+01:00
member = "TECH-C"
reason = "congés de TECH-B"
"#;

#[test]
fn the_toml_example_parses() {
    let parsed: Rotation = toml::from_str(EXAMPLE).unwrap();
    let mut expected = with_override();
    expected.overrides[0].reason = Some("congés de TECH-B".to_string().try_into().unwrap());
    assert_eq!(parsed, expected);
    parsed.check().unwrap();

    // Dates and instants may be strings too; an every-N-days hand-off.
    let days: Rotation = toml::from_str(
        r#"
        name = "ASTREINTE-RESP"
        duty = "manager"
        time_zone = "America/New_York"
        members = ["RESP-X"]
        handoff = { every_days = 2, at = "09:30" }
        start = "2026-03-01"
        overrides = [{ from = "2026-03-05T12:00:00Z", to = "2026-03-06T12:00:00-05:00", member = "RESP-Y" }]
        "#,
    )
    .unwrap();
    assert_eq!(days.duty, Duty::Manager);
    assert_eq!(
        days.handoff,
        Handoff::Days {
            every_days: 2,
            at: at(9, 30)
        }
    );
    assert_eq!(days.start, Date::constant(2026, 3, 1));
    assert_eq!(days.overrides[0].to_ms, ms("2026-03-06T17:00:00Z"));
}

/// The TOML blocks of `docs/oncall.md` about rotations, in order (the territory's is an
/// inventory file's, read by its own test).
fn documented_toml_blocks() -> Vec<String> {
    all_toml_blocks()
        .into_iter()
        .filter(|block| !block.contains("[[territory]]"))
        .collect()
}

fn all_toml_blocks() -> Vec<String> {
    let doc = include_str!("../../../../docs/oncall.md");
    doc.split("```toml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_string())
        .collect()
}

/// The documented territory reads as the inventory file's `[[territory]]`.
#[test]
fn the_documented_territory_is_an_inventory_record() {
    let block = all_toml_blocks()
        .into_iter()
        .find(|block| block.contains("[[territory]]"))
        .expect("a territory in docs/oncall.md");
    let parsed = vigie_domain::inventory::file::InventoryFile::parse(&block).unwrap();
    assert_eq!(parsed.inventory.territories.len(), 1);
    assert_eq!(parsed.inventory.territories[0].sites.len(), 2);
}

#[test]
fn the_documented_rotation_override_and_swap_are_what_the_code_does() {
    let blocks = documented_toml_blocks();
    assert_eq!(blocks.len(), 3);
    let mut r: Rotation = toml::from_str(&blocks[0]).unwrap();
    r.check().unwrap();
    assert_eq!(r.first_handoff(), Some(ms("2026-01-05T07:00:00Z")));
    let with_override: Rotation = toml::from_str(&format!("{}\n{}", blocks[0], blocks[1])).unwrap();
    with_override.check().unwrap();
    assert_eq!(
        with_override.on_call_at(ms("2026-07-11T12:00:00Z")),
        Some(by_override(
            "TECH-DURAND",
            "2026-07-10T16:00:00Z",
            "2026-07-13T06:00:00Z"
        ))
    );

    #[derive(serde::Deserialize)]
    struct Overrides {
        overrides: Vec<Override>,
    }
    let documented: Overrides = toml::from_str(&blocks[2]).unwrap();
    let swap = r
        .swap(ms("2026-01-13T12:00:00Z"), ms("2026-01-20T12:00:00Z"))
        .unwrap();
    assert_eq!(documented.overrides, swap.to_vec());
    r.overrides.extend(swap);
    r.check().unwrap();
}

#[test]
fn serde_round_trips_through_json_and_toml() {
    let mut r = with_override();
    r.overrides[0].reason = Some("congés".to_string().try_into().unwrap());
    r.overrides.push(cover(
        "TECH-A",
        "2026-03-01T00:00:00.250Z",
        "2026-03-02T00:00:00Z",
    ));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["start"], "2026-01-05");
    assert_eq!(
        json["handoff"],
        serde_json::json!({ "every": "week", "day": "monday", "at": "08:00" })
    );
    assert_eq!(json["overrides"][0]["from"], "2026-02-04T17:00:00Z");
    assert_eq!(serde_json::from_value::<Rotation>(json).unwrap(), r);
    let text = toml::to_string(&r).unwrap();
    assert_eq!(toml::from_str::<Rotation>(&text).unwrap(), r);

    let mut days = weekly_paris();
    days.handoff = Handoff::Days {
        every_days: 3,
        at: at(7, 45),
    };
    let json = serde_json::to_value(&days).unwrap();
    assert_eq!(
        json["handoff"],
        serde_json::json!({ "every_days": 3, "at": "07:45" })
    );
    assert_eq!(serde_json::from_value::<Rotation>(json).unwrap(), days);

    let on_call = r.on_call_at(ms("2026-02-05T12:00:00Z")).unwrap();
    let json = serde_json::to_value(&on_call).unwrap();
    assert_eq!(serde_json::from_value::<OnCall>(json).unwrap(), on_call);
}

#[test]
fn badly_written_rotations_are_refused_in_french() {
    let error = |text: &str| toml::from_str::<Rotation>(text).unwrap_err().to_string();
    let base = EXAMPLE.replace("reason = \"congés de TECH-B\"\n", "");
    let swap = |from: &str, to: &str| base.replace(from, to);

    let both = error(&swap(
        "{ every = \"week\", day = \"monday\", at = \"08:00\" }",
        "{ every = \"week\", day = \"monday\", every_days = 3, at = \"08:00\" }",
    ));
    assert!(both.contains("relève ambiguë"), "{both}");
    let no_day = error(&swap(
        "{ every = \"week\", day = \"monday\", at = \"08:00\" }",
        "{ every = \"week\", at = \"08:00\" }",
    ));
    assert!(no_day.contains("relève hebdomadaire sans jour"), "{no_day}");
    let local = error(&swap(
        "from = 2026-02-04T18:00:00+01:00",
        "from = 2026-02-04T18:00:00",
    ));
    assert!(local.contains("décalage horaire"), "{local}");
    let local_text = error(&swap(
        "from = 2026-02-04T18:00:00+01:00",
        "from = \"2026-02-04T18:00:00\"",
    ));
    assert!(local_text.contains("instant invalide"), "{local_text}");
    let datetime_start = error(&swap("start = 2026-01-05", "start = 2026-01-05T08:00:00"));
    assert!(datetime_start.contains("date invalide"), "{datetime_start}");
    let unknown = error(&swap("member = \"TECH-C\"", "membre = \"TECH-C\""));
    assert!(unknown.contains("membre"), "{unknown}");
    let zone = error(&swap("Europe/Paris", "Europe/Lutece"));
    assert!(zone.contains("fuseau horaire inconnu"), "{zone}");
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Zones with ordinary DST rules, southern ones, half-hour ones, changes at midnight (São Paulo
/// until 2019), and none.
const ZONES: &[&str] = &[
    "Europe/Paris",
    "America/New_York",
    "UTC",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/London",
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn handoffs() -> impl Strategy<Value = Handoff> {
    let time = (0u8..24, prop::sample::select(vec![0u8, 15, 30, 59]))
        .prop_map(|(hour, minute)| LocalTime { hour, minute });
    prop_oneof![
        (prop::sample::select(WEEKDAYS.to_vec()), time.clone())
            .prop_map(|(day, at)| Handoff::Weekly { day, at }),
        (1u32..=10, time.clone()).prop_map(|(every_days, at)| Handoff::Days { every_days, at }),
        (1u32..=366, time).prop_map(|(every_days, at)| Handoff::Days { every_days, at }),
    ]
}

/// Random rotations without overrides, starting between 1990 and 2060.
fn rotations_in(zones: &'static [&'static str]) -> impl Strategy<Value = Rotation> {
    (
        prop::sample::select(zones.to_vec()),
        1usize..=5,
        handoffs(),
        0i64..(70 * 365),
    )
        .prop_map(|(zone, count, handoff, day)| Rotation {
            name: reference("ROT"),
            duty: Duty::Technician,
            time_zone: TimeZoneName::parse(zone).unwrap(),
            members: (0..count).map(|i| reference(&format!("M{i}"))).collect(),
            handoff,
            start: Date::constant(1990, 1, 1)
                .checked_add(Span::new().days(day))
                .unwrap(),
            overrides: Vec::new(),
            territory: None,
            rank: 1,
        })
}

/// Adds non-overlapping overrides around the first hand-off: (gap, length) pairs in minutes.
fn with_overrides(mut rotation: Rotation, pieces: Vec<(i64, i64, bool)>) -> Rotation {
    let mut cursor = rotation.first_handoff().unwrap() - 10 * 24 * HOUR;
    for (gap, length, outsider) in pieces {
        let from = cursor + gap * 60_000;
        let to = from + length * 60_000;
        let member = if outsider {
            reference("OUTSIDER")
        } else {
            rotation.members[0].clone()
        };
        rotation.overrides.push(Override {
            from_ms: from,
            to_ms: to,
            member,
            reason: None,
        });
        cursor = to;
    }
    rotation.check().unwrap();
    rotation
}

fn overrides() -> impl Strategy<Value = Vec<(i64, i64, bool)>> {
    prop::collection::vec(
        (0i64..(20 * 24 * 60), 1i64..(9 * 24 * 60), any::<bool>()),
        0..5,
    )
}

/// The regular shift holding `t`, found the slow way: walking hand-offs from the start, each
/// computed by civil date-time arithmetic and jiff's own `to_zoned` (compatible, as the rule).
fn naive_shift(rotation: &Rotation, t: i64) -> Option<(Reference, i64, i64)> {
    let zone = rotation.time_zone.time_zone();
    let handoff_time = rotation.handoff.at();
    let time = Time::new(handoff_time.hour as i8, handoff_time.minute as i8, 0, 0).unwrap();
    let mut first = rotation.start;
    let period = match rotation.handoff {
        Handoff::Weekly { day, .. } => {
            let index = WEEKDAYS.iter().position(|d| *d == day).unwrap() as i8;
            while first.weekday().to_monday_zero_offset() != index {
                first = first.tomorrow().unwrap();
            }
            7
        }
        Handoff::Days { every_days, .. } => i64::from(every_days),
    };
    let start = DateTime::from_parts(first, time);
    let handoff = |k: i64| {
        start
            .checked_add(Span::new().days(k * period))
            .unwrap()
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp()
            .as_millisecond()
    };
    if handoff(0) > t {
        return None;
    }
    let mut k = 0;
    while handoff(k + 1) <= t {
        k += 1;
    }
    let member = rotation.members[(k as usize) % rotation.members.len()].clone();
    Some((member, handoff(k), handoff(k + 1)))
}

const YEAR: i64 = 365 * 24 * HOUR;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_shift_found_by_arithmetic_is_the_one_found_by_walking(
        rotation in rotations_in(ZONES),
        offset in -(30 * 24 * HOUR)..(2 * YEAR),
    ) {
        let t = rotation.first_handoff().unwrap() + offset;
        let found = rotation.on_call_at(t).map(|s| (s.member, s.from_ms, s.to_ms));
        prop_assert_eq!(found, naive_shift(&rotation, t));
    }

    #[test]
    fn the_shift_holding_an_instant_holds_it_from_end_to_end(
        rotation in rotations_in(ZONES),
        pieces in overrides(),
        offset in -(30 * 24 * HOUR)..(3 * YEAR),
    ) {
        let rotation = with_overrides(rotation, pieces);
        let t = rotation.first_handoff().unwrap() + offset;
        match rotation.on_call_at(t) {
            Some(s) => {
                prop_assert!(s.from_ms <= t && t < s.to_ms, "{:?} does not hold {}", s, t);
                let first = rotation.on_call_at(s.from_ms).unwrap();
                let last = rotation.on_call_at(s.to_ms - 1).unwrap();
                prop_assert_eq!(&first, &s);
                prop_assert_eq!(&last, &s);
                // (5) the next change is the end of the shift.
                prop_assert_eq!(rotation.next_change_after(t), Some(s.to_ms));
            }
            None => {
                prop_assert!(t < rotation.first_handoff().unwrap());
                prop_assert!(rotation.next_change_after(t).unwrap() > t);
            }
        }
    }

    #[test]
    fn listed_shifts_tile_the_interval(
        rotation in rotations_in(ZONES),
        pieces in overrides(),
        offset in 0i64..YEAR,
        length in 1i64..(120 * 24 * HOUR),
    ) {
        let rotation = with_overrides(rotation, pieces);
        let from = rotation.first_handoff().unwrap() + offset;
        let to = from + length;
        let listed = rotation.shifts(from, to, 10_000);
        prop_assert!(!listed.is_empty());
        prop_assert!(listed[0].from_ms <= from && from < listed[0].to_ms);
        prop_assert!(listed.last().unwrap().to_ms >= to);
        for pair in listed.windows(2) {
            prop_assert_eq!(pair[0].to_ms, pair[1].from_ms);
        }
        for s in &listed {
            prop_assert!(s.from_ms < s.to_ms);
            prop_assert_eq!(rotation.on_call_at(s.from_ms), Some(s.clone()));
        }
    }

    #[test]
    fn regular_shifts_cycle_through_the_members_in_order(rotation in rotations_in(ZONES)) {
        let first = rotation.first_handoff().unwrap();
        let listed = rotation.shifts(first, first + 41 * YEAR, 40);
        prop_assert_eq!(listed.len(), 40);
        for (k, s) in listed.iter().enumerate() {
            prop_assert_eq!(&s.member, &rotation.members[k % rotation.members.len()]);
            prop_assert!(!s.by_override);
        }
    }

    #[test]
    fn without_dst_weekly_shifts_last_exactly_168_hours(
        rotation in rotations_in(&["UTC", "Asia/Kolkata"]),
        offset in 0i64..(5 * YEAR),
    ) {
        prop_assume!(matches!(rotation.handoff, Handoff::Weekly { .. }));
        let from = rotation.first_handoff().unwrap() + offset;
        for s in rotation.shifts(from, from + YEAR, 60) {
            prop_assert_eq!(s.to_ms - s.from_ms, 168 * HOUR);
        }
    }

    #[test]
    fn weekly_shifts_last_167_168_or_169_hours_in_paris(
        rotation in rotations_in(&["Europe/Paris"]),
        offset in 0i64..(5 * YEAR),
    ) {
        prop_assume!(matches!(rotation.handoff, Handoff::Weekly { .. }));
        let from = rotation.first_handoff().unwrap() + offset;
        for s in rotation.shifts(from, from + YEAR, 60) {
            prop_assert!([167, 168, 169].contains(&((s.to_ms - s.from_ms) / HOUR)));
            prop_assert_eq!((s.to_ms - s.from_ms) % HOUR, 0);
        }
    }

    #[test]
    fn nothing_panics_on_any_input(
        rotation in rotations_in(ZONES),
        a in any::<i64>(),
        b in any::<i64>(),
    ) {
        let _ = rotation.on_call_at(a);
        let _ = rotation.next_change_after(a);
        let _ = rotation.shifts(a, b, 5);
        let _ = rotation.swap(a, b);
    }
}

/// Issue 25, item 10: the on-call feed a phone subscribes to.
mod calendar_feed {
    use proptest::prelude::*;
    use vigie_domain::oncall::{CalendarShift, calendar_feed};

    fn shift(summary: &str, description: &str) -> CalendarShift {
        CalendarShift {
            uid: "ASTREINTE-TECH-1773644400000@vigie".into(),
            from_ms: 1_773_644_400_000,
            to_ms: 1_774_249_200_000,
            summary: summary.into(),
            description: description.into(),
        }
    }

    /// The feed's lines unfolded (RFC 5545 §3.1).
    fn unfolded(feed: &str) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for line in feed.split("\r\n") {
            match line.strip_prefix(' ') {
                Some(rest) => lines.last_mut().unwrap().push_str(rest),
                None => lines.push(line.to_owned()),
            }
        }
        lines
    }

    #[test]
    fn a_shift_is_an_event_in_utc_with_its_text_escaped() {
        let feed = calendar_feed(
            "Astreinte ASTREINTE-TECH",
            &[shift(
                "Astreinte : Kevin Lambert",
                "Relève ; lundi, 08:00\nVigie",
            )],
            1_773_600_000_000,
        );
        assert!(
            feed.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{feed}"
        );
        assert!(feed.ends_with("END:VCALENDAR\r\n"), "{feed}");
        let lines = unfolded(&feed);
        assert!(
            lines.contains(&"DTSTART:20260316T070000Z".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"DTEND:20260323T070000Z".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"DESCRIPTION:Relève \\; lundi\\, 08:00\\nVigie".to_owned()),
            "{lines:?}"
        );
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
    }

    proptest! {
        /// Whatever the names, no line is longer than 75 octets, none is cut inside a
        /// character, and unfolding gives back the escaped text whole.
        #[test]
        fn lines_are_folded_within_75_octets(summary in "\\PC{0,200}", description in "[a-zé,;\\\\\n ]{0,300}") {
            let feed = calendar_feed("Astreinte", &[shift(&summary, &description)], 0);
            for line in feed.split("\r\n") {
                prop_assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
            }
            let lines = unfolded(&feed);
            let summary_line = lines.iter().find(|l| l.starts_with("SUMMARY:")).unwrap();
            prop_assert!(!summary_line.contains('\n'));
            prop_assert_eq!(lines.iter().filter(|l| l.starts_with("DESCRIPTION:")).count(), 1);
        }
    }
}

// --- Territories: coverage ahead (issue 26, item 1) -------------------------------------------

fn territory(
    reference_text: &str,
    sites: &[&str],
    clients: &[&str],
) -> vigie_domain::inventory::Territory {
    vigie_domain::inventory::Territory {
        reference: reference(reference_text),
        name: vigie_domain::Name::parse(reference_text).unwrap(),
        sites: sites.iter().map(|s| reference(s)).collect(),
        clients: clients.iter().map(|c| reference(c)).collect(),
    }
}

/// A site whose territory's rotations leave a gap in the coming 14 days is found before the
/// gap comes; a site the fleet's rotation covers is not; sites with the same rotations share
/// one gap.
#[test]
fn coverage_gaps_are_found_ahead_site_by_site() {
    use vigie_domain::oncall::{COVERAGE_HORIZON_MS, Place, coverage_gaps};
    let now = ms("2026-03-02T09:00:00+01:00");
    // Lyon's weekly rotation starts only on Monday 9 March at 08:00.
    let mut lyon = weekly_paris();
    lyon.name = reference("ASTREINTE-LYON");
    lyon.territory = Some(reference("TER-LYON"));
    lyon.start = "2026-03-09".parse().unwrap();
    // Paris's rotation covers every week.
    let mut paris = weekly_paris();
    paris.name = reference("ASTREINTE-PARIS");
    paris.territory = Some(reference("TER-PARIS"));
    let territories = [
        territory("TER-LYON", &["LYON-1", "LYON-2"], &[]),
        territory("TER-PARIS", &[], &["CLI-PARIS"]),
    ];
    let rotations = [lyon, paris];
    let (lyon_1, lyon_2, paris_site, nowhere) = (
        reference("LYON-1"),
        reference("LYON-2"),
        reference("PARIS-1"),
        reference("NULLE-PART"),
    );
    let (client_lyon, client_paris, other) = (
        reference("CLI-LYON"),
        reference("CLI-PARIS"),
        reference("CLI-AUTRE"),
    );
    let sites = [
        Place {
            site: &lyon_1,
            client: &client_lyon,
        },
        Place {
            site: &lyon_2,
            client: &client_lyon,
        },
        Place {
            site: &paris_site,
            client: &client_paris,
        },
        Place {
            site: &nowhere,
            client: &other,
        },
    ];
    let gaps = coverage_gaps(
        &rotations,
        &territories,
        &sites,
        Duty::Technician,
        now,
        now + COVERAGE_HORIZON_MS,
    );
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    // Lyon's two sites: from now until the first hand-off.
    assert_eq!(
        (gaps[0].from_ms, gaps[0].to_ms, gaps[0].sites.clone()),
        (
            now,
            ms("2026-03-09T08:00:00+01:00"),
            vec![lyon_1.clone(), lyon_2.clone()]
        )
    );
    // A site no territory and no fleet rotation covers: the whole horizon.
    assert_eq!(
        (gaps[1].from_ms, gaps[1].to_ms, gaps[1].sites.clone()),
        (now, now + COVERAGE_HORIZON_MS, vec![nowhere.clone()])
    );
    // A fleet rotation (no territory) covers every site, Lyon's gap included.
    let mut fleet = weekly_paris();
    fleet.name = reference("ASTREINTE-NATIONALE");
    let with_fleet = [rotations[0].clone(), rotations[1].clone(), fleet];
    assert!(
        coverage_gaps(
            &with_fleet,
            &territories,
            &sites,
            Duty::Technician,
            now,
            now + COVERAGE_HORIZON_MS
        )
        .is_empty()
    );
}

/// A secondary rotation is not an alarm when it has nobody on call (it may cover only nights
/// by design); a primary is.
#[test]
fn only_a_primary_rotation_with_nobody_on_call_is_uncovered() {
    let before_start = ms("2026-01-05T07:00:00+01:00");
    let primary = weekly_paris();
    let mut secondary = weekly_paris();
    secondary.name = reference("ASTREINTE-SECOURS");
    secondary.rank = 2;
    assert_eq!(
        vigie_domain::oncall::uncovered(&[primary, secondary.clone()], before_start),
        vec![reference("ASTREINTE-TECH")]
    );
    secondary.rank = 0;
    assert!(secondary.check().is_err());
    secondary.rank = 10;
    assert_eq!(
        secondary.check().unwrap_err().to_string(),
        "astreinte « ASTREINTE-SECOURS » : rang 10 ; 1 (principale) à 9 (secours successifs)"
    );
}

proptest! {
    /// Coverage gaps agree with asking instant by instant (issue 26, item 1): inside a gap
    /// no rotation of the site answers; outside every gap, one does; gaps are ordered, within
    /// the horizon, and never touch.
    #[test]
    fn coverage_gaps_agree_with_routing_instant_by_instant(
        starts in prop::collection::vec(0i64..40, 1..4),
        territorial in prop::collection::vec(any::<bool>(), 4),
        probe_minutes in prop::collection::vec(0i64..(14 * 24 * 60), 40),
    ) {
        use vigie_domain::oncall::{Place, coverage_gaps, route};
        let now = ms("2026-03-02T09:00:00+01:00");
        let horizon = now + 14 * 24 * HOUR;
        let site = reference("SITE-1");
        let client = reference("CLI-1");
        let territory = vigie_domain::inventory::Territory {
            reference: reference("TER-1"),
            name: vigie_domain::Name::parse("Territoire").unwrap(),
            sites: vec![site.clone()],
            clients: Vec::new(),
        };
        // Rotations starting some days from now (nobody before), some in the territory.
        let rotations: Vec<Rotation> = starts
            .iter()
            .enumerate()
            .map(|(i, days)| {
                let mut r = rotation(
                    "Europe/Paris",
                    &["TECH-A"],
                    Handoff::Days { every_days: 1, at: at(8, 0) },
                    "2026-03-02",
                );
                r.name = reference(&format!("ROT-{i}"));
                r.start = jiff::civil::date(2026, 3, 2)
                    .checked_add(Span::new().days(*days))
                    .unwrap();
                r.territory = territorial[i].then(|| reference("TER-1"));
                r
            })
            .collect();
        let place = Place { site: &site, client: &client };
        let gaps = coverage_gaps(
            &rotations,
            std::slice::from_ref(&territory),
            &[place],
            Duty::Technician,
            now,
            horizon,
        );
        for pair in gaps.windows(2) {
            prop_assert!(pair[0].to_ms < pair[1].from_ms, "{gaps:?}");
        }
        for gap in &gaps {
            prop_assert!(now <= gap.from_ms && gap.from_ms < gap.to_ms && gap.to_ms <= horizon);
        }
        for minutes in probe_minutes {
            let at = now + minutes * 60_000;
            let in_gap = gaps.iter().any(|g| g.from_ms <= at && at < g.to_ms);
            let answered = route(
                &rotations,
                std::slice::from_ref(&territory),
                Some(place),
                Duty::Technician,
                at,
            )
            .is_some();
            prop_assert_eq!(in_gap, !answered, "at {} : {:?}", at, gaps);
        }
    }
}

/// A fleet with no rotation at all is one gap naming every site: its list is bounded, its
/// count is not (issue 26, item 1).
#[test]
fn a_gap_lists_a_bounded_number_of_sites_and_counts_them_all() {
    use vigie_domain::oncall::{CoverageGap, Place, coverage_gaps};
    let now = ms("2026-03-02T09:00:00+01:00");
    let client = reference("CLI-1");
    let sites: Vec<Reference> = (0..1_200)
        .map(|n| reference(&format!("SITE-{n:04}")))
        .collect();
    let places: Vec<Place<'_>> = sites
        .iter()
        .map(|site| Place {
            site,
            client: &client,
        })
        .collect();
    let gaps = coverage_gaps(&[], &[], &places, Duty::Technician, now, now + HOUR);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].site_count, 1_200);
    assert_eq!(gaps[0].sites.len(), CoverageGap::SITES_LISTED);
    assert_eq!(gaps[0].sites[0], reference("SITE-0000"));
    assert!(!vigie_domain::french::count_of(1_200, "site", "sites").starts_with("1200"));
    let paris = TimeZone::get("Europe/Paris").unwrap();
    let said = gaps[0].french(&paris);
    let count = vigie_domain::french::count_of(1_200, "site", "sites");
    assert!(
        said.contains(&format!("pour {count} : SITE-0000")),
        "{said}"
    );
    assert!(said.ends_with(" autres"), "{said}");
}
