//! Escalation (NOT-1…NOT-8, DEC-3, DEC-5) through the public API of
//! `vigie_domain::alarm::escalation`: the timers a told alarm arms, whether a step fires when
//! its timer falls due, who is paged by which channel and under which key, the fallback of a
//! failed Critical page, the next Minor digest, and the French messages; then properties over
//! random instants of 2026–2027, random alarm states and random repeat settings.
//!
//! Instants are written in RFC 3339 with the Europe/Paris offset of the day (+01:00 in winter,
//! +02:00 from 29 March to 25 October 2026) and compared as UTC epoch milliseconds.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use vigie_domain::alarm::escalation::{
    self, AckInvite, CONSOLE, Decision, DigestEntry, Directory, MAX_DIGEST_ENTRIES, Missing,
    Notice, Page, Skip, Timer,
};
use vigie_domain::alarm::lifecycle::{Alarm, AlarmId, Closure, ClosureReport, Stamp};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::inventory::{Contact, ContractOption, Site, Staff};
use vigie_domain::oncall::Rotation;
use vigie_domain::policy::{Channel, EscalationStep, Policy, Recipient, Severity, Unless};
use vigie_domain::{Reference, TimeZoneName};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const ALARM: AlarmId = 42;

// --- Fixtures ------------------------------------------------------------------------------

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

fn policy() -> Policy {
    Policy::default_policy()
}

fn no_options() -> BTreeSet<ContractOption> {
    BTreeSet::new()
}

fn direct_notifications() -> BTreeSet<ContractOption> {
    BTreeSet::from([ContractOption::DirectNotifications])
}

/// An alarm of the site SITE-LYON, raised and told at `told`, nobody on it yet.
fn alarm(severity: Severity, told: i64) -> Alarm {
    let (mut alarm, _) = Alarm::raised(
        ALARM,
        Some(reference("SITE-LYON")),
        Some(reference("CAM-HALL")),
        ConditionKey::whole(Condition::SignalLost),
        severity,
        false,
        told,
    );
    alarm.notified_at = Some(told);
    alarm
}

fn stamp(by: &str, at: i64) -> Stamp {
    Stamp {
        by: reference(by),
        at,
    }
}

fn acknowledged(mut alarm: Alarm, at: i64) -> Alarm {
    alarm.acknowledged = Some(stamp("TECH-A", at));
    alarm
}

/// Taken in charge, which acknowledges it too (as `Alarm::take_charge` does).
fn taken_in_charge(mut alarm: Alarm, at: i64) -> Alarm {
    alarm.acknowledged = Some(stamp("TECH-A", at));
    alarm.taken_in_charge = Some(stamp("TECH-A", at));
    alarm
}

fn closure(at: i64) -> Closure {
    Closure {
        by: reference("TECH-A"),
        at,
        report: ClosureReport::new("caméra redémarrée", 20, "alimentation PoE"),
    }
}

fn timer(severity: Severity, step: &str, round: u32, due: i64) -> Timer {
    Timer {
        alarm: ALARM,
        severity,
        step: step.into(),
        round,
        due,
    }
}

fn step<'p>(policy: &'p Policy, severity: Severity, name: &str) -> &'p EscalationStep {
    policy
        .chain(severity)
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in the {severity:?} chain"))
}

/// Every timer as (key, due).
fn dues(timers: &[Timer]) -> Vec<(String, i64)> {
    timers.iter().map(|t| (t.key(), t.due)).collect()
}

fn staff(toml_text: &str) -> Staff {
    toml::from_str(toml_text).unwrap()
}

fn contact(toml_text: &str) -> Contact {
    toml::from_str(toml_text).unwrap()
}

fn site(security_manager: Option<&str>) -> Site {
    let mut text = String::from(
        r#"
        ref = "SITE-LYON"
        client = "CLI-BANQUE"
        contract = "CTR-BANQUE"
        name = "Agence Lyon Part-Dieu"
        time_zone = "Europe/Paris"
        technical_contact = "CT-TC"
        "#,
    );
    if let Some(manager) = security_manager {
        text.push_str(&format!("security_manager = \"{manager}\"\n"));
    }
    toml::from_str(&text).unwrap()
}

/// The integrator's staff. TECH-C has no phone; nobody else lacks anything.
fn team() -> Vec<Staff> {
    vec![
        staff(
            r#"ref = "TECH-A"
            name = "Alice Martin"
            roles = ["technician"]
            email = "alice.martin@mileo.fr"
            phone = "+33611111111""#,
        ),
        staff(
            r#"ref = "TECH-B"
            name = "Bruno Petit"
            roles = ["technician"]
            email = "bruno.petit@mileo.fr"
            phone = "+33622222222""#,
        ),
        staff(
            r#"ref = "TECH-C"
            name = "Chloé Durand"
            roles = ["technician"]
            email = "chloe.durand@mileo.fr""#,
        ),
        staff(
            r#"ref = "RA-1"
            name = "Romain Astier"
            roles = ["on_call_manager"]
            email = "romain.astier@mileo.fr"
            phone = "+33633333333""#,
        ),
        staff(
            r#"ref = "RA-2"
            name = "Rachel Aubert"
            roles = ["on_call_manager"]
            email = "rachel.aubert@mileo.fr"
            phone = "+33644444444""#,
        ),
        staff(
            r#"ref = "RT-1"
            name = "Régis Thomas"
            roles = ["technical_manager"]
            email = "regis.thomas@mileo.fr"
            phone = "+33655555555""#,
        ),
        staff(
            r#"ref = "SUP-1"
            name = "Salle de supervision"
            roles = ["supervision"]
            email = "supervision@mileo.fr""#,
        ),
    ]
}

/// The client's contacts: a named security manager, a second one only by role, a technical
/// contact and a CIO.
fn client_contacts() -> Vec<Contact> {
    vec![
        contact(
            r#"ref = "CT-RS"
            client = "CLI-BANQUE"
            name = "Sophie Renard"
            roles = ["security_manager"]
            email = "sophie.renard@banque.fr"
            phone = "+33677777777""#,
        ),
        contact(
            r#"ref = "CT-RS2"
            client = "CLI-BANQUE"
            name = "Serge Roux"
            roles = ["security_manager"]
            email = "serge.roux@banque.fr"
            phone = "+33688888888""#,
        ),
        contact(
            r#"ref = "CT-TC"
            client = "CLI-BANQUE"
            name = "Thierry Colin"
            roles = ["technical_contact"]
            email = "thierry.colin@banque.fr"
            phone = "+33699999999""#,
        ),
        contact(
            r#"ref = "CT-DSI"
            client = "CLI-BANQUE"
            name = "Diane Simon"
            roles = ["cio"]
            email = "diane.simon@banque.fr"
            phone = "+33612121212""#,
        ),
    ]
}

/// Weekly technicians' rotation, Monday 08:00 Paris, from Monday 5 January 2026: shift k is
/// members[k % 3]. Week of 2 March (shift 8) is TECH-C's, week of 9 March (shift 9) TECH-A's.
fn technicians_rotation() -> Rotation {
    toml::from_str(
        r#"
        name = "ASTREINTE-TECH"
        duty = "technician"
        time_zone = "Europe/Paris"
        members = ["TECH-A", "TECH-B", "TECH-C"]
        handoff = { every = "week", day = "monday", at = "08:00" }
        start = 2026-01-05
        "#,
    )
    .unwrap()
}

fn managers_rotation() -> Rotation {
    toml::from_str(
        r#"
        name = "ASTREINTE-RESP"
        duty = "manager"
        time_zone = "Europe/Paris"
        members = ["RA-2", "RA-1"]
        handoff = { every = "week", day = "monday", at = "08:00" }
        start = 2026-01-05
        "#,
    )
    .unwrap()
}

fn names(people: &[escalation::Person]) -> Vec<String> {
    people.iter().map(|p| p.reference.to_string()).collect()
}

fn page_keys(pages: &[Page]) -> Vec<String> {
    pages.iter().map(|p| p.key.clone()).collect()
}

// --- arm (NOT-3, NOT-4, NOT-5, NOT-7, DEC-3, DEC-5) ------------------------------------------

#[test]
fn not_3_not_4_not_7_critical_told_on_a_tuesday_morning_arms_its_whole_chain() {
    let told = ms("2026-03-03T10:05:00+01:00");
    let timers = escalation::arm(&policy(), ALARM, Severity::Critical, told).unwrap();
    assert_eq!(
        dues(&timers),
        vec![
            (
                "42/critical/astreinte#0".into(),
                ms("2026-03-03T10:05:00+01:00")
            ),
            (
                "42/critical/client#0".into(),
                ms("2026-03-03T10:05:00+01:00")
            ),
            // NOT-3: 30 minutes when told in business hours.
            (
                "42/critical/echeance-acquittement#0".into(),
                ms("2026-03-03T10:35:00+01:00")
            ),
            // NOT-4 (issue 26): the emergency conference call at the same deadline.
            (
                "42/critical/conference#0".into(),
                ms("2026-03-03T10:35:00+01:00")
            ),
            // NOT-7: not handled within the hour.
            (
                "42/critical/responsable-astreinte#0".into(),
                ms("2026-03-03T11:05:00+01:00")
            ),
            (
                "42/critical/responsable-technique#0".into(),
                ms("2026-03-03T12:05:00+01:00")
            ),
        ]
    );
    for t in &timers {
        assert_eq!(
            (t.alarm, t.severity, t.round),
            (ALARM, Severity::Critical, 0)
        );
    }
}

/// DEC-3, NOT-8 (issue 22, joint 3): a Major alarm told at 14:05 that becomes Critical at 14:25.
/// The Critical chain's acknowledgement deadline runs from the upgrade (14:55), and the page
/// says that same instant; NOT-7's steps keep their delay from the first notification (the
/// on-call manager at 15:05, one hour after it), never before the upgrade.
#[test]
fn dec_3_a_worsened_alarm_keeps_its_deadlines_ahead_and_its_hour() {
    let told = ms("2026-03-03T14:05:00+01:00");
    let upgrade = ms("2026-03-03T14:25:00+01:00");
    let timers =
        escalation::arm_worsened(&policy(), ALARM, Severity::Critical, upgrade, told).unwrap();
    assert_eq!(
        dues(&timers),
        vec![
            ("42/critical/astreinte#0".into(), upgrade),
            ("42/critical/client#0".into(), upgrade),
            (
                "42/critical/echeance-acquittement#0".into(),
                ms("2026-03-03T14:55:00+01:00")
            ),
            // NOT-4 (issue 26): the emergency conference call at the same deadline.
            (
                "42/critical/conference#0".into(),
                ms("2026-03-03T14:55:00+01:00")
            ),
            (
                "42/critical/responsable-astreinte#0".into(),
                ms("2026-03-03T15:05:00+01:00")
            ),
            (
                "42/critical/responsable-technique#0".into(),
                ms("2026-03-03T16:05:00+01:00")
            ),
        ]
    );
    let mut worsened = alarm(Severity::Major, told);
    worsened
        .change_severity(
            Severity::Critical,
            vigie_domain::alarm::lifecycle::SeverityCause::Worsened,
            upgrade,
        )
        .unwrap();
    let deadline = escalation::acknowledge_by(&policy(), &worsened).unwrap();
    assert_eq!(deadline, ms("2026-03-03T14:55:00+01:00"));
    assert!(deadline > upgrade);
    // Eight hours later (NOT-8), every step is due at the upgrade at the earliest.
    let late = ms("2026-03-03T22:05:00+01:00");
    for timer in escalation::arm_worsened(&policy(), ALARM, Severity::Critical, late, told).unwrap()
    {
        assert!(timer.due >= late, "{timer:?}");
    }
}

fn critical_ack_deadline(told: i64) -> i64 {
    escalation::arm(&policy(), ALARM, Severity::Critical, told)
        .unwrap()
        .into_iter()
        .find(|t| t.step == "echeance-acquittement")
        .unwrap()
        .due
}

#[test]
fn not_3_critical_ack_deadline_is_one_hour_outside_business_hours() {
    // A weekday night.
    assert_eq!(
        critical_ack_deadline(ms("2026-03-04T03:00:00+01:00")),
        ms("2026-03-04T04:00:00+01:00")
    );
    // DEC-5: Ascension (Thursday 14 May 2026) is a public holiday, closed all day.
    assert_eq!(
        critical_ack_deadline(ms("2026-05-14T10:05:00+02:00")),
        ms("2026-05-14T11:05:00+02:00")
    );
    // Saturday.
    assert_eq!(
        critical_ack_deadline(ms("2026-03-07T10:05:00+01:00")),
        ms("2026-03-07T11:05:00+01:00")
    );
    // The evening of a business day, at closing time exactly: closed.
    assert_eq!(
        critical_ack_deadline(ms("2026-03-03T18:00:00+01:00")),
        ms("2026-03-03T19:00:00+01:00")
    );
}

#[test]
fn not_3_critical_ack_deadline_is_thirty_minutes_from_opening_to_just_before_closing() {
    assert_eq!(
        critical_ack_deadline(ms("2026-03-03T08:00:00+01:00")),
        ms("2026-03-03T08:30:00+01:00")
    );
    // Elapsed minutes, not business minutes: 30 minutes even across the 18:00 closing.
    assert_eq!(
        critical_ack_deadline(ms("2026-03-03T17:59:00+01:00")),
        ms("2026-03-03T18:29:00+01:00")
    );
    // The day after Ascension is an ordinary Friday.
    assert_eq!(
        critical_ack_deadline(ms("2026-05-15T10:05:00+02:00")),
        ms("2026-05-15T10:35:00+02:00")
    );
}

#[test]
fn not_5_major_told_friday_afternoon_is_due_monday_after_four_business_hours() {
    let policy = policy();
    let told = ms("2026-03-06T16:05:00+01:00");
    // 16:05 → 18:00 is 1 h 55 on Friday; the remaining 2 h 05 from Monday 08:00.
    let monday = ms("2026-03-09T10:05:00+01:00");
    let due = policy.acknowledgement_due(Severity::Major, told).unwrap();
    assert_eq!(due, monday);
    assert_eq!(
        escalation::acknowledge_by(&policy, &alarm(Severity::Major, told)),
        Some(monday)
    );
    let timers = escalation::arm(&policy, ALARM, Severity::Major, told).unwrap();
    assert_eq!(
        dues(&timers),
        vec![
            ("42/major/responsable-securite#0".into(), told),
            ("42/major/astreinte#0".into(), told),
            ("42/major/responsable-astreinte#0".into(), told + HOUR),
            ("42/major/responsable-technique#0".into(), told + 2 * HOUR),
        ]
    );
}

#[test]
fn acknowledge_by_is_none_before_the_alarm_is_told_and_follows_not_3_once_it_is() {
    let policy = policy();
    let mut untold = alarm(Severity::Critical, ms("2026-03-03T10:05:00+01:00"));
    untold.notified_at = None;
    assert_eq!(escalation::acknowledge_by(&policy, &untold), None);
    // Raised during a maintenance window, told at its end (a Saturday at 02:00): measured
    // from the telling, and outside business hours.
    let mut late = alarm(Severity::Critical, ms("2026-03-06T22:00:00+01:00"));
    late.notified_at = Some(ms("2026-03-07T02:00:00+01:00"));
    assert_eq!(
        escalation::acknowledge_by(&policy, &late),
        Some(ms("2026-03-07T03:00:00+01:00"))
    );
}

#[test]
fn not_1_not_6_minor_chain_tells_the_console_and_the_digest_at_once() {
    let told = ms("2026-03-06T14:05:00+01:00");
    let timers = escalation::arm(&policy(), ALARM, Severity::Minor, told).unwrap();
    assert_eq!(
        dues(&timers),
        vec![
            ("42/minor/console#0".into(), told),
            ("42/minor/rapport-quotidien#0".into(), told),
        ]
    );
}

#[test]
fn timer_keys_are_unique_per_alarm_chain_step_and_round() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let mut all = Vec::new();
    for severity in [Severity::Critical, Severity::Major, Severity::Minor] {
        for id in [ALARM, 43] {
            all.extend(escalation::arm(&policy, id, severity, told).unwrap());
        }
    }
    let keys: BTreeSet<String> = all.iter().map(Timer::key).collect();
    assert_eq!(keys.len(), all.len());
    assert_eq!(all.len(), 2 * (6 + 4 + 2));
    assert!(keys.contains("43/major/astreinte#0"));
    assert!(keys.contains("42/critical/astreinte#0"));

    let first = timer(Severity::Critical, "astreinte", 0, told);
    assert_eq!(first.key(), "42/critical/astreinte#0");
    assert_eq!(first.step_label(), "critical/astreinte");
    let second = timer(Severity::Critical, "astreinte", 2, told + 30 * MINUTE);
    assert_eq!(second.key(), "42/critical/astreinte#2");
    assert_eq!(second.step_label(), "critical/astreinte#2");
    assert_ne!(first.key(), second.key());
    let major = timer(Severity::Major, "astreinte", 0, told);
    assert_eq!(major.key(), "42/major/astreinte#0");
    assert_eq!(major.step_label(), "major/astreinte");
}

#[test]
fn arming_is_refused_for_an_instant_out_of_range() {
    assert!(escalation::arm(&policy(), ALARM, Severity::Critical, i64::MAX).is_err());
}

// --- decide (NOT-2, NOT-3, NOT-4, NOT-7, NOT-8, DEC-3) ----------------------------------------

fn fires(decision: &Decision<'_>) -> bool {
    matches!(decision, Decision::Fire { .. })
}

#[test]
fn a_fresh_critical_alarm_fires_every_step_of_its_chain() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let fresh = alarm(Severity::Critical, told);
    for t in escalation::arm(&policy, ALARM, Severity::Critical, told).unwrap() {
        let decision = escalation::decide(&policy, &t, &fresh, &direct_notifications());
        match decision {
            Decision::Fire { step, .. } => assert_eq!(step.name, t.step),
            // The default policy has no conference bridge (issue 26): its step waits for one.
            Decision::Skip(escalation::Skip::NoBridge) if t.step == "conference" => {}
            Decision::Skip(skip) => panic!("{} skipped: {skip:?}", t.key()),
        }
    }
}

#[test]
fn not_4_ack_deadline_step_is_skipped_once_acknowledged() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let deadline = timer(
        Severity::Critical,
        "echeance-acquittement",
        0,
        told + 30 * MINUTE,
    );
    let fresh = alarm(Severity::Critical, told);
    assert_eq!(
        escalation::decide(&policy, &deadline, &fresh, &no_options()),
        Decision::Fire {
            step: step(&policy, Severity::Critical, "echeance-acquittement"),
            repeat: None,
        }
    );
    let seen = acknowledged(fresh.clone(), told + 10 * MINUTE);
    assert_eq!(
        escalation::decide(&policy, &deadline, &seen, &no_options()),
        Decision::Skip(Skip::Acknowledged)
    );
    let handled = taken_in_charge(fresh, told + 10 * MINUTE);
    assert_eq!(
        escalation::decide(&policy, &deadline, &handled, &no_options()),
        Decision::Skip(Skip::Acknowledged)
    );
}

#[test]
fn not_7_steps_fire_when_only_acknowledged_and_are_skipped_when_taken_in_charge() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    for (severity, name, after) in [
        (Severity::Critical, "responsable-astreinte", HOUR),
        (Severity::Critical, "responsable-technique", 2 * HOUR),
        (Severity::Major, "responsable-astreinte", HOUR),
        (Severity::Major, "responsable-technique", 2 * HOUR),
    ] {
        let t = timer(severity, name, 0, told + after);
        let fresh = alarm(severity, told);
        // NOT-7: "acquittée *et* traitée": acknowledging alone does not stop it.
        let seen = acknowledged(fresh.clone(), told + 5 * MINUTE);
        assert_eq!(
            escalation::decide(&policy, &t, &seen, &no_options()),
            Decision::Fire {
                step: step(&policy, severity, name),
                repeat: None,
            },
            "{severity:?} {name}"
        );
        let handled = taken_in_charge(fresh, told + 5 * MINUTE);
        assert_eq!(
            escalation::decide(&policy, &t, &handled, &no_options()),
            Decision::Skip(Skip::Handled),
            "{severity:?} {name}"
        );
    }
}

#[test]
fn resolved_and_closed_alarms_escalate_no_more() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let t = timer(Severity::Critical, "responsable-astreinte", 0, told + HOUR);
    let mut resolved = alarm(Severity::Critical, told);
    resolved.resolved_at = Some(told + 20 * MINUTE);
    assert_eq!(
        escalation::decide(&policy, &t, &resolved, &no_options()),
        Decision::Skip(Skip::Resolved)
    );
    let mut closed = taken_in_charge(resolved, told + 10 * MINUTE);
    closed.closure = Some(closure(told + 50 * MINUTE));
    assert_eq!(
        escalation::decide(&policy, &t, &closed, &no_options()),
        Decision::Skip(Skip::Closed)
    );
}

#[test]
fn not_8_a_major_timer_is_superseded_once_the_alarm_became_critical() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let major_timer = timer(Severity::Major, "responsable-astreinte", 0, told + HOUR);
    let worsened = alarm(Severity::Critical, told);
    assert_eq!(
        escalation::decide(&policy, &major_timer, &worsened, &no_options()),
        Decision::Skip(Skip::Superseded)
    );
    // The other way round: a Critical timer on an alarm recorded Major is not that chain's.
    let critical_timer = timer(Severity::Critical, "astreinte", 0, told);
    assert_eq!(
        escalation::decide(
            &policy,
            &critical_timer,
            &alarm(Severity::Major, told),
            &no_options()
        ),
        Decision::Skip(Skip::Superseded)
    );
}

#[test]
fn not_2_the_client_step_needs_the_direct_notifications_option() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let t = timer(Severity::Critical, "client", 0, told);
    let fresh = alarm(Severity::Critical, told);
    assert_eq!(
        escalation::decide(&policy, &t, &fresh, &no_options()),
        Decision::Skip(Skip::NotInContract)
    );
    assert_eq!(
        escalation::decide(
            &policy,
            &t,
            &fresh,
            &BTreeSet::from([ContractOption::Supervision, ContractOption::RoundTheClock])
        ),
        Decision::Skip(Skip::NotInContract)
    );
    assert_eq!(
        escalation::decide(&policy, &t, &fresh, &direct_notifications()),
        Decision::Fire {
            step: step(&policy, Severity::Critical, "client"),
            repeat: None,
        }
    );
}

#[test]
fn a_step_the_policy_no_longer_has_is_skipped() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let fresh = alarm(Severity::Critical, told);
    for t in [
        timer(Severity::Critical, "ancienne-etape", 0, told),
        // A Minor step's name in the Critical chain.
        timer(Severity::Critical, "rapport-quotidien", 0, told),
    ] {
        assert_eq!(
            escalation::decide(&policy, &t, &fresh, &direct_notifications()),
            Decision::Skip(Skip::UnknownStep)
        );
    }
    assert_eq!(Skip::UnknownStep.key(), "unknown_step");
    assert_eq!(Skip::NotInContract.key(), "not_in_contract");
}

#[test]
fn the_astreinte_step_is_sent_again_every_15_minutes_three_times_while_unacknowledged() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let fresh = alarm(Severity::Critical, told);
    let astreinte = step(&policy, Severity::Critical, "astreinte");
    let mut current = timer(Severity::Critical, "astreinte", 0, told);
    let mut expected_repeats = Vec::new();
    for round in 1..=3 {
        expected_repeats.push(timer(
            Severity::Critical,
            "astreinte",
            round,
            told + i64::from(round) * 15 * MINUTE,
        ));
    }
    for expected in &expected_repeats {
        let decision = escalation::decide(&policy, &current, &fresh, &no_options());
        assert_eq!(
            decision,
            Decision::Fire {
                step: astreinte,
                repeat: Some(expected.clone()),
            }
        );
        current = expected.clone();
    }
    assert_eq!(current.due, ms("2026-03-03T10:50:00+01:00"));
    assert_eq!(
        escalation::decide(&policy, &current, &fresh, &no_options()),
        Decision::Fire {
            step: astreinte,
            repeat: None,
        }
    );
}

#[test]
fn a_repeat_round_is_skipped_once_acknowledged_but_the_first_round_still_goes() {
    let policy = policy();
    let told = ms("2026-03-03T10:05:00+01:00");
    let seen = acknowledged(alarm(Severity::Critical, told), told + 5 * MINUTE);
    let repeat = timer(Severity::Critical, "astreinte", 1, told + 15 * MINUTE);
    assert_eq!(
        escalation::decide(&policy, &repeat, &seen, &no_options()),
        Decision::Skip(Skip::Acknowledged)
    );
    // Round 0 has no `unless`: an alarm acknowledged before its first page (by the console)
    // still reaches on-call and the security manager (NOT-3), with its repeat armed.
    let first = timer(Severity::Critical, "astreinte", 0, told);
    assert!(fires(&escalation::decide(
        &policy,
        &first,
        &seen,
        &no_options()
    )));
}

// --- Directory::resolve and plan (NOT-1, NOT-3, NOT-4, NOT-7) ----------------------------------

struct World {
    site: Site,
    contacts: Vec<Contact>,
    staff: Vec<Staff>,
    rotations: Vec<Rotation>,
    territories: Vec<vigie_domain::inventory::Territory>,
}

impl World {
    fn new() -> World {
        World {
            site: site(Some("CT-RS")),
            contacts: client_contacts(),
            staff: team(),
            rotations: vec![technicians_rotation()],
            territories: Vec::new(),
        }
    }

    fn directory(&self) -> Directory<'_> {
        Directory {
            site: Some(&self.site),
            contacts: &self.contacts,
            staff: &self.staff,
            rotations: &self.rotations,
            territories: &self.territories,
        }
    }
}

#[test]
fn not_3_the_on_call_technician_changes_at_the_monday_0800_hand_off() {
    let world = World::new();
    let directory = world.directory();
    let on_call = |at: &str| {
        names(
            &directory
                .resolve(Recipient::OnCallTechnician, ms(at))
                .unwrap(),
        )
    };
    assert_eq!(on_call("2026-03-03T10:05:00+01:00"), vec!["TECH-C"]);
    assert_eq!(on_call("2026-03-09T07:59:59+01:00"), vec!["TECH-C"]);
    assert_eq!(on_call("2026-03-09T08:00:00+01:00"), vec!["TECH-A"]);
    assert_eq!(on_call("2026-03-16T08:00:00+01:00"), vec!["TECH-B"]);
    // After the spring change, the hand-off is still 08:00 on the wall clock.
    assert_eq!(on_call("2026-03-30T07:59:00+02:00"), vec!["TECH-C"]);
    assert_eq!(on_call("2026-03-30T08:00:00+02:00"), vec!["TECH-A"]);

    let alice = directory
        .resolve(Recipient::OnCallTechnician, ms("2026-03-10T10:05:00+01:00"))
        .unwrap();
    assert_eq!(
        alice,
        vec![escalation::Person {
            reference: reference("TECH-A"),
            name: "Alice Martin".into(),
            email: Some("alice.martin@mileo.fr".into()),
            phone: Some("+33611111111".into()),
            channels: Vec::new(),
        }]
    );
}

#[test]
fn nobody_on_call_is_said_in_french() {
    // Without any on-call manager either: before the rotation's first hand-off (Monday
    // 5 January 2026, 08:00), and with no rotation at all.
    let no_manager = World {
        staff: team()
            .into_iter()
            .filter(|s| !s.reference.as_str().starts_with("RA-"))
            .collect(),
        ..World::new()
    };
    assert_eq!(
        no_manager
            .directory()
            .resolve(Recipient::OnCallTechnician, ms("2026-01-05T07:59:00+01:00")),
        Err("personne d'astreinte (technicien d'astreinte)".to_string())
    );
    let no_rotation = World {
        rotations: Vec::new(),
        ..no_manager
    };
    assert_eq!(
        no_rotation
            .directory()
            .resolve(Recipient::OnCallTechnician, ms("2026-03-10T10:05:00+01:00")),
        Err("personne d'astreinte (technicien d'astreinte)".to_string())
    );
    assert_eq!(
        no_rotation
            .directory()
            .resolve(Recipient::OnCallManager, ms("2026-03-10T10:05:00+01:00")),
        Err("personne d'astreinte (responsable d'astreinte)".to_string())
    );
}

/// Issue 26, item 1: primary, secondary, then the on-call manager. A technicians' duty
/// nobody holds goes to the on-call managers, and the step says so.
#[test]
fn nobody_on_call_among_technicians_goes_to_the_on_call_manager() {
    let world = World::new();
    let resolved = world
        .directory()
        .resolve_routed(Recipient::OnCallTechnician, ms("2026-01-05T07:59:00+01:00"))
        .unwrap();
    assert_eq!(names(&resolved.people), vec!["RA-1", "RA-2"]);
    assert_eq!(
        resolved.routed,
        Some(escalation::Routed {
            role: Recipient::OnCallTechnician,
            note: "astreinte ASTREINTE-TECH sans personne : relayée au responsable d'astreinte"
                .into()
        })
    );
    // With a managers' rotation, its member only.
    let mut managers = managers_rotation();
    managers.start = "2025-12-29".parse().unwrap();
    let with_managers = World {
        rotations: vec![technicians_rotation(), managers],
        ..World::new()
    };
    let resolved = with_managers
        .directory()
        .resolve_routed(Recipient::OnCallTechnician, ms("2026-01-05T07:59:00+01:00"))
        .unwrap();
    assert_eq!(resolved.people.len(), 1);
}

fn territory(
    reference: &str,
    sites: &[&str],
    clients: &[&str],
) -> vigie_domain::inventory::Territory {
    vigie_domain::inventory::Territory {
        reference: vigie_domain::Reference::parse(reference).unwrap(),
        name: vigie_domain::Name::parse(reference).unwrap(),
        sites: sites
            .iter()
            .map(|s| vigie_domain::Reference::parse(s).unwrap())
            .collect(),
        clients: clients
            .iter()
            .map(|c| vigie_domain::Reference::parse(c).unwrap())
            .collect(),
    }
}

fn rotation_of(
    name: &str,
    members: &[&str],
    territory: Option<&str>,
    rank: u8,
    start: &str,
) -> Rotation {
    let mut rotation = technicians_rotation();
    rotation.name = vigie_domain::Reference::parse(name).unwrap();
    rotation.members = members
        .iter()
        .map(|m| vigie_domain::Reference::parse(m).unwrap())
        .collect();
    rotation.territory = territory.map(|t| vigie_domain::Reference::parse(t).unwrap());
    rotation.rank = rank;
    rotation.start = start.parse().unwrap();
    rotation
}

/// Issue 26, item 1: a site's on-call technician comes from its territory's rotation (the
/// territory naming the site before the one naming its client, before the fleet's), and
/// when the primary has nobody, from the secondary, with the fallback noted.
#[test]
fn routing_by_territory_with_fallback() {
    let at = ms("2026-03-10T10:05:00+01:00");
    let world = World {
        rotations: vec![
            // The fleet's rotation: TECH-A that week.
            technicians_rotation(),
            // The client's own arrangement: TECH-B, every week.
            rotation_of(
                "ASTREINTE-BANQUE",
                &["TECH-B"],
                Some("TER-BANQUE"),
                1,
                "2026-01-05",
            ),
            // The site's agency: its primary starts only in April, its secondary covers.
            rotation_of(
                "ASTREINTE-LYON",
                &["TECH-A"],
                Some("TER-LYON"),
                1,
                "2026-04-06",
            ),
            rotation_of(
                "ASTREINTE-LYON-SECOURS",
                &["TECH-C"],
                Some("TER-LYON"),
                2,
                "2026-01-05",
            ),
        ],
        territories: vec![
            territory("TER-BANQUE", &[], &["CLI-BANQUE"]),
            territory("TER-LYON", &["SITE-LYON"], &[]),
        ],
        ..World::new()
    };
    let directory = world.directory();
    let resolved = directory
        .resolve_routed(Recipient::OnCallTechnician, at)
        .unwrap();
    assert_eq!(names(&resolved.people), vec!["TECH-C"]);
    assert_eq!(
        resolved.routed.unwrap().note,
        "astreinte ASTREINTE-LYON sans personne : relayée par l'astreinte ASTREINTE-LYON-SECOURS"
    );
    // From April, the agency's primary answers, no fallback.
    let april = directory
        .resolve_routed(Recipient::OnCallTechnician, ms("2026-04-07T10:00:00+02:00"))
        .unwrap();
    assert_eq!(names(&april.people), vec!["TECH-A"]);
    assert_eq!(april.routed, None);
    // Without the agency's territory, the client's own rotation answers before the fleet's.
    let client_only = World {
        territories: vec![territory("TER-BANQUE", &[], &["CLI-BANQUE"])],
        ..world
    };
    assert_eq!(
        names(
            &client_only
                .directory()
                .resolve(Recipient::OnCallTechnician, at)
                .unwrap()
        ),
        vec!["TECH-B"]
    );
    // Another client's site has only the fleet's rotation.
    let other = World {
        site: {
            let mut site = site(None);
            site.client = vigie_domain::Reference::parse("AUTRE").unwrap();
            site.reference = vigie_domain::Reference::parse("AILLEURS").unwrap();
            site
        },
        ..client_only
    };
    assert_eq!(
        names(
            &other
                .directory()
                .resolve(Recipient::OnCallTechnician, at)
                .unwrap()
        ),
        vec!["TECH-A"]
    );
}

#[test]
fn not_3_security_manager_is_the_sites_named_contact_else_every_contact_with_the_role() {
    let at = ms("2026-03-10T10:05:00+01:00");
    let named = World::new();
    assert_eq!(
        names(
            &named
                .directory()
                .resolve(Recipient::SecurityManager, at)
                .unwrap()
        ),
        vec!["CT-RS"]
    );
    let unnamed = World {
        site: site(None),
        ..World::new()
    };
    assert_eq!(
        names(
            &unnamed
                .directory()
                .resolve(Recipient::SecurityManager, at)
                .unwrap()
        ),
        vec!["CT-RS", "CT-RS2"]
    );
    // A site naming a contact that is not (or no longer) the client's.
    let dangling = World {
        site: site(Some("CT-PARTI")),
        ..World::new()
    };
    assert_eq!(
        names(
            &dangling
                .directory()
                .resolve(Recipient::SecurityManager, at)
                .unwrap()
        ),
        vec!["CT-RS", "CT-RS2"]
    );
    // The site's technical contact (NOT-2).
    assert_eq!(
        names(
            &named
                .directory()
                .resolve(Recipient::TechnicalContact, at)
                .unwrap()
        ),
        vec!["CT-TC"]
    );
    let nobody = World {
        site: site(None),
        contacts: Vec::new(),
        ..World::new()
    };
    assert_eq!(
        nobody.directory().resolve(Recipient::SecurityManager, at),
        Err("personne n'a le rôle « responsable sécurité du site »".to_string())
    );
}

#[test]
fn not_4_cio_comes_from_the_clients_contacts_and_technical_manager_from_staff() {
    let at = ms("2026-03-10T10:05:00+01:00");
    let world = World::new();
    let directory = world.directory();
    assert_eq!(
        directory.resolve(Recipient::Cio, at).unwrap(),
        vec![escalation::Person {
            reference: reference("CT-DSI"),
            name: "Diane Simon".into(),
            email: Some("diane.simon@banque.fr".into()),
            phone: Some("+33612121212".into()),
            channels: Vec::new(),
        }]
    );
    assert_eq!(
        names(&directory.resolve(Recipient::TechnicalManager, at).unwrap()),
        vec!["RT-1"]
    );
    assert_eq!(
        names(&directory.resolve(Recipient::TechnicalTeam, at).unwrap()),
        vec!["TECH-A", "TECH-B", "TECH-C"]
    );
    assert_eq!(
        directory.resolve(Recipient::Management, at),
        Err("personne n'a le rôle « direction du client »".to_string())
    );
}

#[test]
fn not_7_on_call_manager_from_the_managers_rotation_else_every_on_call_manager() {
    let at = ms("2026-03-10T10:05:00+01:00");
    let without = World::new();
    assert_eq!(
        names(
            &without
                .directory()
                .resolve(Recipient::OnCallManager, at)
                .unwrap()
        ),
        vec!["RA-1", "RA-2"]
    );
    let with = World {
        rotations: vec![technicians_rotation(), managers_rotation()],
        ..World::new()
    };
    // Shift 9 of ["RA-2", "RA-1"] is RA-1's; shift 8 (week of 2 March) RA-2's.
    assert_eq!(
        names(
            &with
                .directory()
                .resolve(Recipient::OnCallManager, at)
                .unwrap()
        ),
        vec!["RA-1"]
    );
    assert_eq!(
        names(
            &with
                .directory()
                .resolve(Recipient::OnCallManager, ms("2026-03-03T10:05:00+01:00"))
                .unwrap()
        ),
        vec!["RA-2"]
    );
}

fn sms(recipient: &str, name: &str, phone: &str, email: &str, label: &str) -> Page {
    Page {
        key: format!("{ALARM}/{label}/{recipient}/sms"),
        alarm: ALARM,
        severity: severity_of(label),
        step: label.into(),
        recipient: recipient.into(),
        name: name.into(),
        channel: Channel::Sms,
        address: phone.into(),
        alternate: Some(email.into()),
        staff: is_staff(recipient),
        follow_up_ms: 0,
    }
}

/// The directory's client contacts are `CT-…`; everyone else is the integrator's staff, whose
/// pages may stop the escalation (NOT-4).
fn is_staff(recipient: &str) -> bool {
    !recipient.starts_with("CT-")
}

fn email(recipient: &str, name: &str, email: &str, label: &str) -> Page {
    Page {
        key: format!("{ALARM}/{label}/{recipient}/email"),
        alarm: ALARM,
        severity: severity_of(label),
        step: label.into(),
        recipient: recipient.into(),
        name: name.into(),
        channel: Channel::Email,
        address: email.into(),
        alternate: None,
        staff: is_staff(recipient),
        follow_up_ms: 0,
    }
}

fn console(label: &str) -> Page {
    Page {
        key: format!("{ALARM}/{label}/supervision/console"),
        alarm: ALARM,
        severity: severity_of(label),
        step: label.into(),
        recipient: CONSOLE.into(),
        name: "équipe de supervision".into(),
        channel: Channel::Console,
        address: CONSOLE.into(),
        alternate: None,
        staff: false,
        follow_up_ms: 0,
    }
}

fn severity_of(label: &str) -> Severity {
    match label.split('/').next().unwrap() {
        "critical" => Severity::Critical,
        "major" => Severity::Major,
        "minor" => Severity::Minor,
        other => panic!("{other}"),
    }
}

#[test]
fn not_3_critical_astreinte_pages_on_call_and_security_manager_by_sms_and_email() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-10T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &["gtc-banque".to_string()],
        at,
    );
    let label = "critical/astreinte";
    assert_eq!(
        plan.pages,
        vec![
            sms(
                "TECH-A",
                "Alice Martin",
                "+33611111111",
                "alice.martin@mileo.fr",
                label
            ),
            email("TECH-A", "Alice Martin", "alice.martin@mileo.fr", label),
            sms(
                "CT-RS",
                "Sophie Renard",
                "+33677777777",
                "sophie.renard@banque.fr",
                label
            ),
            email("CT-RS", "Sophie Renard", "sophie.renard@banque.fr", label),
            console(label),
        ]
    );
    assert_eq!(plan.missing, Vec::<Missing>::new());
    // The key format, spelled out: alarm/severity/step/recipient/channel.
    assert_eq!(plan.pages[0].key, "42/critical/astreinte/TECH-A/sms");
    assert_eq!(
        plan.pages[4].key,
        "42/critical/astreinte/supervision/console"
    );
}

#[test]
fn a_repeat_round_pages_under_its_own_keys() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-10T10:20:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 1, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &[],
        at,
    );
    assert_eq!(
        page_keys(&plan.pages),
        vec![
            "42/critical/astreinte#1/TECH-A/sms",
            "42/critical/astreinte#1/TECH-A/email",
            "42/critical/astreinte#1/CT-RS/sms",
            "42/critical/astreinte#1/CT-RS/email",
            "42/critical/astreinte#1/supervision/console",
        ]
    );
    assert!(plan.pages.iter().all(|p| p.step == "critical/astreinte#1"));
}

#[test]
fn a_person_without_phone_is_missing_for_sms_and_still_gets_the_email() {
    let policy = policy();
    let world = World::new();
    // Week of 2 March: TECH-C, who has no phone, is on call.
    let at = ms("2026-03-03T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &[],
        at,
    );
    assert_eq!(
        plan.missing,
        vec![Missing {
            role: Recipient::OnCallTechnician,
            reason: "Chloé Durand (TECH-C) n'a pas de numéro de téléphone".into(),
        }]
    );
    assert!(
        plan.missing[0]
            .reason
            .contains("n'a pas de numéro de téléphone")
    );
    let label = "critical/astreinte";
    assert_eq!(
        plan.pages,
        vec![
            email("TECH-C", "Chloé Durand", "chloe.durand@mileo.fr", label),
            sms(
                "CT-RS",
                "Sophie Renard",
                "+33677777777",
                "sophie.renard@banque.fr",
                label
            ),
            email("CT-RS", "Sophie Renard", "sophie.renard@banque.fr", label),
            console(label),
        ]
    );
}

#[test]
fn nobody_on_call_is_missing_and_the_rest_of_the_step_still_goes() {
    let policy = policy();
    // No rotation and no on-call manager to fall back on (issue 26, item 1).
    let world = World {
        rotations: Vec::new(),
        staff: team()
            .into_iter()
            .filter(|s| !s.reference.as_str().starts_with("RA-"))
            .collect(),
        ..World::new()
    };
    let at = ms("2026-03-10T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &[],
        at,
    );
    assert_eq!(
        plan.missing,
        vec![Missing {
            role: Recipient::OnCallTechnician,
            reason: "personne d'astreinte (technicien d'astreinte)".into(),
        }]
    );
    assert_eq!(
        page_keys(&plan.pages),
        vec![
            "42/critical/astreinte/CT-RS/sms",
            "42/critical/astreinte/CT-RS/email",
            "42/critical/astreinte/supervision/console",
        ]
    );
}

#[test]
fn not_4_the_ack_deadline_step_pages_technical_manager_and_cio() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-10T10:35:00+01:00");
    let t = timer(Severity::Critical, "echeance-acquittement", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "echeance-acquittement"),
        &world.directory(),
        &[],
        at,
    );
    assert_eq!(
        page_keys(&plan.pages),
        vec![
            "42/critical/echeance-acquittement/RT-1/sms",
            "42/critical/echeance-acquittement/RT-1/email",
            "42/critical/echeance-acquittement/CT-DSI/sms",
            "42/critical/echeance-acquittement/CT-DSI/email",
            "42/critical/echeance-acquittement/supervision/console",
        ]
    );
    assert!(plan.missing.is_empty());
}

#[test]
fn a_person_holding_two_roles_of_a_step_is_paged_once_per_channel() {
    let world = World {
        staff: vec![staff(
            r#"ref = "RT-1"
            name = "Régis Thomas"
            roles = ["technical_manager", "on_call_manager"]
            email = "regis.thomas@mileo.fr"
            phone = "+33655555555""#,
        )],
        rotations: Vec::new(),
        ..World::new()
    };
    let mut both = step(&policy(), Severity::Critical, "responsable-astreinte").clone();
    both.notify = vec![Recipient::OnCallManager, Recipient::TechnicalManager];
    let at = ms("2026-03-10T11:05:00+01:00");
    let t = timer(Severity::Critical, "responsable-astreinte", 0, at);
    let plan = escalation::plan(&t, &both, &world.directory(), &[], at);
    let label = "critical/responsable-astreinte";
    assert_eq!(
        plan.pages,
        vec![
            sms(
                "RT-1",
                "Régis Thomas",
                "+33655555555",
                "regis.thomas@mileo.fr",
                label
            ),
            email("RT-1", "Régis Thomas", "regis.thomas@mileo.fr", label),
            console(label),
        ]
    );
    assert!(plan.missing.is_empty());

    // The on-call technician is also one of the technical team.
    let world = World::new();
    let mut team_step = both.clone();
    team_step.notify = vec![Recipient::OnCallTechnician, Recipient::TechnicalTeam];
    team_step.channels = vec![Channel::Email];
    let at = ms("2026-03-10T10:05:00+01:00");
    let plan = escalation::plan(&t, &team_step, &world.directory(), &[], at);
    assert_eq!(
        page_keys(&plan.pages),
        vec![
            "42/critical/responsable-astreinte/TECH-A/email",
            "42/critical/responsable-astreinte/TECH-B/email",
            "42/critical/responsable-astreinte/TECH-C/email",
            "42/critical/responsable-astreinte/supervision/console",
        ]
    );
}

#[test]
fn not_1_the_console_step_pages_the_console_alone() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-06T14:05:00+01:00");
    let t = timer(Severity::Minor, "console", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Minor, "console"),
        &world.directory(),
        &["gtc-banque".to_string()],
        at,
    );
    assert_eq!(plan.pages, vec![console("minor/console")]);
    assert!(plan.missing.is_empty());
}

#[test]
fn not_5_major_security_manager_step_is_email_only_with_the_console() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-06T16:05:00+01:00");
    let t = timer(Severity::Major, "responsable-securite", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Major, "responsable-securite"),
        &world.directory(),
        &[],
        at,
    );
    let label = "major/responsable-securite";
    assert_eq!(
        plan.pages,
        vec![
            email("CT-RS", "Sophie Renard", "sophie.renard@banque.fr", label),
            console(label),
        ]
    );
}

#[test]
fn webhooks_are_paged_only_when_the_step_lists_that_channel() {
    let policy = policy();
    let world = World::new();
    let at = ms("2026-03-10T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let hooks = ["gtc-banque".to_string(), "hypervision".to_string()];
    let without = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &hooks,
        at,
    );
    assert!(without.pages.iter().all(|p| p.channel != Channel::Webhook));

    let mut hooked = step(&policy, Severity::Critical, "astreinte").clone();
    hooked.channels = vec![Channel::Email, Channel::Webhook];
    let with = escalation::plan(&t, &hooked, &world.directory(), &hooks, at);
    assert_eq!(
        page_keys(&with.pages),
        vec![
            "42/critical/astreinte/TECH-A/email",
            "42/critical/astreinte/CT-RS/email",
            "42/critical/astreinte/gtc-banque/webhook",
            "42/critical/astreinte/hypervision/webhook",
            "42/critical/astreinte/supervision/console",
        ]
    );
    let webhook = &with.pages[2];
    assert_eq!(
        (
            webhook.recipient.as_str(),
            webhook.name.as_str(),
            webhook.address.as_str(),
            webhook.alternate.clone()
        ),
        ("gtc-banque", "gtc-banque", "gtc-banque", None)
    );
}

// --- fallback (NOT-3) -------------------------------------------------------------------------

#[test]
fn a_failed_critical_sms_falls_back_to_the_persons_email() {
    let page = sms(
        "TECH-A",
        "Alice Martin",
        "+33611111111",
        "alice.martin@mileo.fr",
        "critical/astreinte",
    );
    assert_eq!(
        escalation::fallback(&page, false),
        Some(email(
            "TECH-A",
            "Alice Martin",
            "alice.martin@mileo.fr",
            "critical/astreinte"
        ))
    );
    assert_eq!(
        escalation::fallback(&page, false).unwrap().key,
        "42/critical/astreinte/TECH-A/email"
    );
}

#[test]
fn a_failed_critical_email_or_alternate_less_sms_falls_back_to_the_console() {
    let page = email(
        "TECH-A",
        "Alice Martin",
        "alice.martin@mileo.fr",
        "critical/astreinte",
    );
    let expected = Page {
        key: "42/critical/astreinte/TECH-A/console".into(),
        channel: Channel::Console,
        address: CONSOLE.into(),
        alternate: None,
        ..page.clone()
    };
    assert_eq!(escalation::fallback(&page, false), Some(expected.clone()));
    let bare_sms = Page {
        alternate: None,
        ..sms(
            "TECH-A",
            "Alice Martin",
            "+33611111111",
            "x@y.fr",
            "critical/astreinte",
        )
    };
    assert_eq!(escalation::fallback(&bare_sms, false), Some(expected));
}

#[test]
fn only_critical_pages_fall_back_and_never_the_console() {
    let major = sms(
        "TECH-A",
        "Alice Martin",
        "+33611111111",
        "alice.martin@mileo.fr",
        "major/astreinte",
    );
    assert_eq!(escalation::fallback(&major, true), None);
    assert_eq!(
        escalation::fallback(
            &email(
                "CT-RS",
                "Sophie Renard",
                "sophie.renard@banque.fr",
                "major/responsable-securite"
            ),
            true
        ),
        None
    );
    assert_eq!(
        escalation::fallback(&console("critical/astreinte"), true),
        None
    );
}

/// Issue 26, item 3: with a voice gateway, a Critical SMS failing for good becomes a call on
/// the same phone (keeping the email for a call that fails too), and a failed call becomes
/// the email.
#[test]
fn a_failed_critical_sms_falls_back_to_a_call_then_to_the_email() {
    let page = sms(
        "TECH-A",
        "Alice Martin",
        "+33611111111",
        "alice.martin@mileo.fr",
        "critical/astreinte",
    );
    let call = escalation::fallback(&page, true).unwrap();
    assert_eq!(
        call,
        Page {
            key: "42/critical/astreinte/TECH-A/voice".into(),
            channel: Channel::Voice,
            ..page.clone()
        }
    );
    assert_eq!(
        escalation::fallback(&call, true),
        Some(email(
            "TECH-A",
            "Alice Martin",
            "alice.martin@mileo.fr",
            "critical/astreinte"
        ))
    );
}

fn with_channels(staff: &mut [Staff], reference: &str, order: &str) {
    let person = staff
        .iter_mut()
        .find(|s| s.reference.as_str() == reference)
        .unwrap();
    #[derive(serde::Deserialize)]
    struct Order {
        channels: Vec<vigie_domain::inventory::ChannelChoice>,
    }
    person.channels = toml::from_str::<Order>(order).unwrap().channels;
}

/// Issue 26, item 3: a person's channel order replaces the step's SMS: here an SMS at once,
/// then a call 5 minutes later; the step's email still goes at once, and a client's contact
/// (no order) keeps the step's channels.
#[test]
fn a_persons_channel_order_pages_by_sms_then_calls_later() {
    let policy = policy();
    let mut world = World::new();
    with_channels(
        &mut world.staff,
        "TECH-A",
        r#"channels = [{ channel = "sms" }, { channel = "voice", after_minutes = 5 }]"#,
    );
    let at = ms("2026-03-10T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &[],
        at,
    );
    let label = "critical/astreinte";
    let tech_sms = sms(
        "TECH-A",
        "Alice Martin",
        "+33611111111",
        "alice.martin@mileo.fr",
        label,
    );
    let call = Page {
        key: "42/critical/astreinte/TECH-A/voice".into(),
        channel: Channel::Voice,
        follow_up_ms: 5 * 60_000,
        ..tech_sms.clone()
    };
    assert_eq!(
        plan.pages,
        vec![
            tech_sms,
            call,
            email("TECH-A", "Alice Martin", "alice.martin@mileo.fr", label),
            sms(
                "CT-RS",
                "Sophie Renard",
                "+33677777777",
                "sophie.renard@banque.fr",
                label
            ),
            email("CT-RS", "Sophie Renard", "sophie.renard@banque.fr", label),
            console(label),
        ]
    );
    // Voice first, the SMS 2 minutes later: the order is the person's.
    with_channels(
        &mut world.staff,
        "TECH-A",
        r#"channels = [{ channel = "voice" }, { channel = "sms", after_minutes = 2 }]"#,
    );
    let plan = escalation::plan(
        &t,
        step(&policy, Severity::Critical, "astreinte"),
        &world.directory(),
        &[],
        at,
    );
    let tech: Vec<(Channel, i64)> = plan
        .pages
        .iter()
        .filter(|p| p.recipient == "TECH-A")
        .map(|p| (p.channel, p.follow_up_ms))
        .collect();
    assert_eq!(
        tech,
        vec![
            (Channel::Voice, 0),
            (Channel::Sms, 2 * 60_000),
            (Channel::Email, 0)
        ]
    );
}

/// A step that sends no SMS is not made louder by a person's order: a Minor alarm's email
/// stays one email.
#[test]
fn a_channel_order_does_not_make_an_email_step_louder() {
    let policy = policy();
    let mut world = World::new();
    with_channels(
        &mut world.staff,
        "TECH-A",
        r#"channels = [{ channel = "sms" }, { channel = "voice", after_minutes = 5 }]"#,
    );
    let at = ms("2026-03-10T10:05:00+01:00");
    let t = timer(Severity::Critical, "astreinte", 0, at);
    let mut email_only = step(&policy, Severity::Critical, "astreinte").clone();
    email_only.channels = vec![Channel::Email];
    let plan = escalation::plan(&t, &email_only, &world.directory(), &[], at);
    assert!(
        plan.pages
            .iter()
            .filter(|p| p.recipient == "TECH-A")
            .all(|p| p.channel == Channel::Email && p.follow_up_ms == 0),
        "{:?}",
        plan.pages
    );
    // A step may call as a channel of its own: at once, the email kept for a failed call.
    let mut call_only = email_only.clone();
    call_only.channels = vec![Channel::Voice];
    let plan = escalation::plan(&t, &call_only, &world.directory(), &[], at);
    let calls: Vec<(&str, Option<&str>, i64)> = plan
        .pages
        .iter()
        .filter(|p| p.channel == Channel::Voice)
        .map(|p| (p.recipient.as_str(), p.alternate.as_deref(), p.follow_up_ms))
        .collect();
    assert!(
        calls.contains(&("TECH-A", Some("alice.martin@mileo.fr"), 0)),
        "{:?}",
        plan.pages
    );
}

// --- next_digest and digest_page (NOT-6, DEC-5) -----------------------------------------------

#[test]
fn not_6_a_minor_alarm_on_friday_afternoon_waits_for_monday_0800() {
    let policy = policy();
    let next = |after: &str| escalation::next_digest(&policy, ms(after));
    assert_eq!(
        next("2026-03-06T14:05:00+01:00"),
        Some(ms("2026-03-09T08:00:00+01:00"))
    );
    assert_eq!(
        next("2026-03-09T07:00:00+01:00"),
        Some(ms("2026-03-09T08:00:00+01:00"))
    );
    // Strictly after: a digest at 08:00 sharp is the next day's.
    assert_eq!(
        next("2026-03-09T08:00:00+01:00"),
        Some(ms("2026-03-10T08:00:00+01:00"))
    );
    assert_eq!(
        next("2026-03-09T07:59:59.999+01:00"),
        Some(ms("2026-03-09T08:00:00+01:00"))
    );
    // Ascension (Thursday 14 May 2026) is skipped.
    assert_eq!(
        next("2026-05-13T15:00:00+02:00"),
        Some(ms("2026-05-15T08:00:00+02:00"))
    );
    // Across the spring change: Monday 30 March, 08:00 summer time.
    assert_eq!(
        next("2026-03-27T09:00:00+01:00"),
        Some(ms("2026-03-30T08:00:00+02:00"))
    );
    // Christmas Friday, then the weekend.
    assert_eq!(
        next("2026-12-24T12:00:00+01:00"),
        Some(ms("2026-12-28T08:00:00+01:00"))
    );
}

#[test]
fn digest_page_is_named_by_the_recipient_and_the_local_date() {
    let page = email(
        "CT-RS",
        "Sophie Renard",
        "sophie.renard@banque.fr",
        "minor/rapport-quotidien",
    );
    let paris = TimeZone::get("Europe/Paris").unwrap();
    let due = ms("2026-03-09T08:00:00+01:00");
    let digest = escalation::digest_page(&page, due, &paris);
    assert_eq!(
        digest,
        Page {
            key: "digest/2026-03-09/CT-RS/email".into(),
            step: "digest/2026-03-09".into(),
            ..page.clone()
        }
    );
    // The local date, not UTC's: 00:30 in Paris is still the previous day in UTC.
    let early = escalation::digest_page(&page, ms("2026-03-10T00:30:00+01:00"), &paris);
    assert_eq!(early.key, "digest/2026-03-10/CT-RS/email");
    // Two alarms of one day share one digest page per recipient.
    let other = Page {
        alarm: 43,
        key: "43/minor/rapport-quotidien/CT-RS/email".into(),
        ..page.clone()
    };
    assert_eq!(escalation::digest_page(&other, due, &paris).key, digest.key);
}

// --- render (NOT-3, X-4) ----------------------------------------------------------------------

fn critical_notice(zone: &str, site_name: &str, equipment: Option<&str>) -> Notice {
    let told = ms("2026-03-03T10:05:00+01:00");
    let policy = policy();
    let alarm = alarm(Severity::Critical, told);
    Notice {
        page: sms(
            "TECH-A",
            "Alice Martin",
            "+33611111111",
            "alice.martin@mileo.fr",
            "critical/astreinte",
        ),
        acknowledge_by: escalation::acknowledge_by(&policy, &alarm),
        alarm,
        client_name: "Banque Exemple".into(),
        site_name: site_name.into(),
        equipment_name: equipment.map(str::to_owned),
        time_zone: TimeZoneName::parse(zone).unwrap(),
        digest: Vec::new(),
        digest_omitted: 0,
        conference: None,
    }
}

fn invite() -> AckInvite {
    AckInvite {
        link: "https://vigie.example.fr/ack/7Qx2".into(),
        short_link: "https://vigie.example.fr/a/12345-AbCdEfGhIjK".into(),
        code: "482193".into(),
    }
}

/// Issue 26, item 3: what a call reads — the alarm, where, the deadline said as it is spoken
/// and « tapez 1 » for the staff only — within its bound.
#[test]
fn a_call_reads_the_alarm_and_asks_the_staff_for_the_key() {
    let notice = critical_notice("Europe/Paris", "Agence Lyon Part-Dieu", Some("Caméra hall"));
    assert_eq!(
        escalation::render_voice(&notice, true),
        "Bonjour, ici Vigie. Alarme critique numéro 42 : perte du signal vidéo. Caméra hall, \
         site Agence Lyon Part-Dieu, client Banque Exemple. À acquitter avant 10 h 35. Pour \
         acquitter cette alarme, tapez 1."
    );
    let told = escalation::render_voice(&notice, false);
    assert!(!told.contains("tapez"), "{told}");
    // A deadline on another day says its date.
    let mut late = notice.clone();
    late.acknowledge_by = Some(ms("2026-03-04T08:30:00+01:00"));
    assert!(
        escalation::render_voice(&late, false).contains("avant le 04/03 à 08 h 30"),
        "{}",
        escalation::render_voice(&late, false)
    );
    // An invitation to the conference reads the number and the PIN digit by digit.
    let mut invited = notice.clone();
    invited.conference = Some(vigie_domain::policy::Invitation {
        bridge: "pont".into(),
        room: "vigie-alarme-42".into(),
        dial_in: "+33 1 84".into(),
        pin: "4821".into(),
        join_url: None,
    });
    assert!(
        escalation::render_voice(&invited, false)
            .contains("Conférence d'urgence : appelez le plus 3 3, 1, 8 4, code 4 8 2 1."),
        "{}",
        escalation::render_voice(&invited, false)
    );
    // Long names are shortened: the keypad prompt is always heard.
    let long = "Caméra ".repeat(200);
    let long_notice = critical_notice("Europe/Paris", &long, Some(&long));
    let text = escalation::render_voice(&long_notice, true);
    assert!(
        text.chars().count() <= escalation::MAX_VOICE_CHARS,
        "{text}"
    );
    assert!(text.ends_with("tapez 1."), "{text}");
}

/// Issue 26, item 3: a later turn of a person's order goes only while the alarm waits.
#[test]
fn a_later_turn_is_needless_once_the_alarm_is_answered() {
    let at = ms("2026-03-03T10:05:00+01:00");
    let open = alarm(Severity::Critical, at);
    assert_eq!(escalation::follow_up_needless(&open), None);
    let mut acknowledged = open.clone();
    acknowledged.acknowledged = Some(stamp("TECH-A", at + 60_000));
    assert_eq!(
        escalation::follow_up_needless(&acknowledged).as_deref(),
        Some("non envoyée : alarme acquittée avant son tour")
    );
    let mut resolved = open.clone();
    resolved.resolved_at = Some(at + 60_000);
    assert_eq!(
        escalation::follow_up_needless(&resolved).as_deref(),
        Some("non envoyée : alarme résolue avant son tour")
    );
}

#[test]
fn x_4_a_critical_page_reads_in_french_with_the_ack_deadline_in_the_sites_zone() {
    let notice = critical_notice("Europe/Paris", "Agence Lyon Part-Dieu", Some("Caméra hall"));
    assert_eq!(notice.acknowledge_by, Some(ms("2026-03-03T10:35:00+01:00")));
    let message = escalation::render(&notice, Some(&invite()));
    assert_eq!(
        message.subject,
        "[Vigie] Alarme Critique n°42 : perte du signal vidéo — Caméra hall — Agence Lyon Part-Dieu"
    );
    assert_eq!(
        message.text,
        "Alarme Critique n°42 : perte du signal vidéo\n\
         Client : Banque Exemple\n\
         Site : Agence Lyon Part-Dieu\n\
         Équipement : Caméra hall\n\
         Levée le 03/03/2026 10:05\n\
         À acquitter avant le 03/03/2026 10:35\n\
         Étape d'escalade : critical/astreinte\n\
         \n\
         Acquitter sans se connecter : https://vigie.example.fr/ack/7Qx2\n\
         Ou répondre 482193 au SMS d'alerte.\n"
    );
    // Issue 26, item 6: one GSM segment — what, where, until when, the reply code and the
    // short link; the site's name lost its last words to make room (the email has it whole).
    assert_eq!(
        message.sms,
        "Vigie Critique #42 : perte du signal vidéo. Caméra hall - Agence. \
         Acquittez avant 03/03 10:35 : répondez 482193 ou https://vigie.example.fr/a/12345-AbCdEfGhIjK"
    );
    let sms = vigie_domain::sms::compose(&message.sms);
    assert_eq!(
        (sms.encoding, sms.segments),
        (vigie_domain::sms::Encoding::Gsm7, 1)
    );
    assert!(
        message
            .html
            .starts_with("<!DOCTYPE html><html lang=\"fr\">")
    );
    assert!(
        message
            .html
            .contains("<a href=\"https://vigie.example.fr/ack/7Qx2\">")
    );
    assert!(
        message
            .html
            .contains("<li>À acquitter avant le 03/03/2026 10:35</li>")
    );
}

#[test]
fn without_invite_there_is_no_link_nor_code() {
    let notice = critical_notice("Europe/Paris", "Agence Lyon Part-Dieu", None);
    let message = escalation::render(&notice, None);
    assert_eq!(
        message.subject,
        "[Vigie] Alarme Critique n°42 : perte du signal vidéo — Agence Lyon Part-Dieu"
    );
    assert!(!message.text.contains("Équipement"));
    assert!(!message.text.contains("Acquitter sans se connecter"));
    assert_eq!(
        message.sms,
        "Vigie Critique #42 : perte du signal vidéo. Agence Lyon Part-Dieu. \
         Acquittement attendu avant 03/03 10:35."
    );
}

/// ALR-8 (issue 22, joint 9): a site's alarm names its offline cameras in its email and SMS,
/// twenty at most and how many more.
#[test]
fn alr_8_a_sites_alarm_names_its_cameras() {
    let mut notice = critical_notice("Europe/Paris", "Stade", None);
    notice.alarm.cameras = vec![reference("STA-CAM-05"), reference("STA-CAM-25")];
    let message = escalation::render(&notice, None);
    assert!(
        message
            .text
            .contains("Caméras hors ligne : STA-CAM-05, STA-CAM-25 (2)\n"),
        "{}",
        message.text
    );
    assert!(
        message
            .sms
            .contains("Caméras : STA-CAM-05, STA-CAM-25 (2)."),
        "{}",
        message.sms
    );
    notice.alarm.cameras = (1..=45)
        .map(|n| reference(&format!("CAM-{n:02}")))
        .collect();
    let message = escalation::render(&notice, None);
    assert!(
        message.text.contains("CAM-20 et 25 autres (45)"),
        "{}",
        message.text
    );
    assert!(!message.text.contains("CAM-21"), "{}", message.text);
    assert_eq!(vigie_domain::sms::compose(&message.sms).segments, 1);
}

#[test]
fn times_are_written_in_the_sites_zone() {
    // Martinique is UTC−4 all year: 09:05Z is 05:05, the deadline 09:35Z is 05:35.
    let notice = critical_notice("America/Martinique", "Agence Fort-de-France", None);
    let message = escalation::render(&notice, None);
    assert!(message.text.contains("Levée le 03/03/2026 05:05\n"));
    assert!(
        message
            .text
            .contains("À acquitter avant le 03/03/2026 05:35\n")
    );
    assert!(
        message
            .sms
            .contains("Acquittement attendu avant 03/03 05:35.")
    );
}

#[test]
fn html_escapes_names() {
    let notice = critical_notice(
        "Europe/Paris",
        "Site \"A\" & <b>B</b>",
        Some("<script>alert('x')</script>"),
    );
    let message = escalation::render(&notice, Some(&invite()));
    assert!(!message.html.contains("<script>"));
    assert!(!message.html.contains("<b>"));
    assert!(
        message
            .html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
    );
    assert!(
        message
            .html
            .contains("<li>Site : Site &quot;A&quot; &amp; &lt;b&gt;B&lt;/b&gt;</li>")
    );
    // Text and SMS are not HTML: the names stay as written.
    assert!(
        message
            .text
            .contains("Équipement : <script>alert('x')</script>\n")
    );
}

/// Issue 26, item 6: whatever the names, a page keeps what happened, the deadline, the code
/// and the link in one segment; long names lose their last words, the email keeps them.
#[test]
fn the_sms_keeps_one_segment_and_the_code_and_link_whatever_the_names() {
    use vigie_domain::sms::{self, Encoding};
    let site_name = "Centre logistique régional de la grande couronne ".repeat(6);
    let equipment = "Caméra dôme extérieure quai de chargement numéro ".repeat(6);
    let notice = critical_notice("Europe/Paris", &site_name, Some(&equipment));
    let message = escalation::render(&notice, Some(&invite()));
    let sms = sms::compose(&message.sms);
    assert_eq!(
        (sms.encoding, sms.segments),
        (Encoding::Gsm7, 1),
        "{}",
        sms.text
    );
    assert!(
        message
            .sms
            .starts_with("Vigie Critique #42 : perte du signal vidéo. Caméra dome"),
        "{}",
        message.sms
    );
    assert!(
        message.sms.ends_with(
            "Acquittez avant 03/03 10:35 : répondez 482193 ou https://vigie.example.fr/a/12345-AbCdEfGhIjK"
        ),
        "{}",
        message.sms
    );
    assert!(message.subject.chars().count() <= 200);
    // The text and the email keep the names whole.
    assert!(message.text.contains(site_name.trim()));
    let without = sms::compose(&escalation::render(&notice, None).sms);
    assert_eq!(without.segments, 1, "{}", without.text);
    // A single word longer than the room is cut to the shortest a name gets (here one
    // septet too many remains: two segments, still the code and link whole).
    let word = "Caméra".repeat(60);
    let notice = critical_notice("Europe/Paris", &word, Some(&word));
    let sms = sms::compose(&escalation::render(&notice, Some(&invite())).sms);
    assert!(
        sms.text.contains("CaméraCamé - CaméraCamé."),
        "{}",
        sms.text
    );
    assert_eq!(sms.segments, 2, "{}", sms.text);
}

/// Issue 26, item 6: a name written in an alphabet GSM lacks is sent as written, in UCS-2,
/// within the bound.
#[test]
fn a_greek_site_name_is_sent_in_ucs2_and_stays_bounded() {
    use vigie_domain::sms::{self, Encoding, MAX_SEGMENTS};
    let notice = critical_notice(
        "Europe/Athens",
        "Υποκατάστημα Αθήνας",
        Some("Κάμερα εισόδου"),
    );
    let sms = sms::compose(&escalation::render(&notice, Some(&invite())).sms);
    assert_eq!(sms.encoding, Encoding::Ucs2);
    assert!(sms.segments <= MAX_SEGMENTS, "{}", sms.text);
    assert!(sms.text.contains("Κάμερα"), "{}", sms.text);
    assert!(
        sms.text
            .ends_with("https://vigie.example.fr/a/12345-AbCdEfGhIjK"),
        "{}",
        sms.text
    );
}

fn digest_notice(entries: Vec<DigestEntry>) -> Notice {
    let told = ms("2026-03-06T14:05:00+01:00");
    let mut alarm = alarm(Severity::Minor, told);
    alarm.id = 7;
    alarm.condition = ConditionKey::whole(Condition::ClockOutOfSync);
    Notice {
        page: escalation::digest_page(
            &email(
                "CT-RS",
                "Sophie Renard",
                "sophie.renard@banque.fr",
                "minor/rapport-quotidien",
            ),
            ms("2026-03-09T08:00:00+01:00"),
            &TimeZone::get("Europe/Paris").unwrap(),
        ),
        alarm,
        client_name: "Banque Exemple".into(),
        site_name: "Agence Lyon Part-Dieu".into(),
        equipment_name: Some("NVR-1".into()),
        time_zone: TimeZoneName::paris(),
        acknowledge_by: None,
        digest: entries,
        digest_omitted: 0,
        conference: None,
    }
}

#[test]
fn not_6_a_digest_lists_its_alarms_under_rapport_quotidien() {
    let mut notice = digest_notice(Vec::new());
    let first = notice.digest_entry();
    assert_eq!(
        first,
        DigestEntry {
            alarm: 7,
            severity: Severity::Minor,
            condition: "horloge désynchronisée".into(),
            site_name: "Agence Lyon Part-Dieu".into(),
            equipment_name: Some("NVR-1".into()),
            raised_at: ms("2026-03-06T14:05:00+01:00"),
        }
    );
    let second = DigestEntry {
        alarm: 9,
        severity: Severity::Minor,
        condition: "certificat bientôt expiré".into(),
        site_name: "Agence <Vaise>".into(),
        equipment_name: None,
        raised_at: ms("2026-03-08T23:30:00+01:00"),
    };
    notice.digest = vec![first, second];
    let message = escalation::render(&notice, Some(&invite()));
    assert_eq!(
        message.subject,
        "[Vigie] Rapport quotidien : 2 alarme(s) mineure(s)"
    );
    assert_eq!(
        message.text,
        "Bonjour Sophie Renard,\n\
         \n\
         Alarmes mineures notifiées depuis le dernier rapport (2) :\n\
         - n°7 Mineure : horloge désynchronisée, NVR-1 — Agence Lyon Part-Dieu, levée le 06/03/2026 14:05\n\
         - n°9 Mineure : certificat bientôt expiré, Agence <Vaise>, levée le 08/03/2026 23:30\n\
         \n\
         À traiter lors de la prochaine visite planifiée ou sous 5 jours ouvrés (NOT-6).\n"
    );
    assert!(
        message
            .html
            .contains("<h1>[Vigie] Rapport quotidien : 2 alarme(s) mineure(s)</h1>")
    );
    assert!(message.html.contains("<li>n°9 Mineure : certificat bientôt expiré, Agence &lt;Vaise&gt;, levée le 08/03/2026 23:30</li>"));
    assert!(!message.text.contains("https://"));
    assert_eq!(message.sms, message.subject);
}

#[test]
fn a_digest_lists_at_most_its_bound_and_says_how_many_more() {
    let notice = digest_notice(Vec::new());
    let entry = notice.digest_entry();
    let notice = digest_notice(vec![entry; MAX_DIGEST_ENTRIES + 3]);
    let message = escalation::render(&notice, None);
    assert_eq!(
        message
            .text
            .lines()
            .filter(|l| l.starts_with("- n°7"))
            .count(),
        MAX_DIGEST_ENTRIES
    );
    assert!(message.text.contains("\n… et 3 autre(s).\n"));
    assert!(message.subject.contains("503 alarme(s)"));
}

#[test]
fn not_6_a_digest_stays_bounded_however_many_minor_alarms_join_it() {
    let mut notice = digest_notice(Vec::new());
    let template = notice.digest_entry();
    for alarm in 1..=(MAX_DIGEST_ENTRIES as u64 + 40) {
        notice.add_to_digest(DigestEntry {
            alarm,
            ..template.clone()
        });
    }
    // An alarm already listed is not listed or counted twice.
    notice.add_to_digest(DigestEntry {
        alarm: 1,
        ..template.clone()
    });
    assert_eq!(notice.digest.len(), MAX_DIGEST_ENTRIES);
    assert_eq!(notice.digest_omitted, 40);
    let message = escalation::render(&notice, None);
    assert!(
        message.text.contains("\n… et 40 autre(s).\n"),
        "{}",
        message.text
    );
    assert!(
        message
            .subject
            .contains(&format!("{} alarme(s)", MAX_DIGEST_ENTRIES + 40))
    );
}

// --- Properties (NOT-3, NOT-7, DEC-3, DEC-5) --------------------------------------------------

/// French public holidays of 2026 and 2027 (DEC-5), written out rather than computed, so
/// that the oracle does not share the calendar's arithmetic. Easter is 5 April 2026 and
/// 28 March 2027.
const HOLIDAYS: [(i16, i8, i8); 22] = [
    (2026, 1, 1),
    (2026, 4, 6),
    (2026, 5, 1),
    (2026, 5, 8),
    (2026, 5, 14),
    (2026, 5, 25),
    (2026, 7, 14),
    (2026, 8, 15),
    (2026, 11, 1),
    (2026, 11, 11),
    (2026, 12, 25),
    (2027, 1, 1),
    (2027, 3, 29),
    (2027, 5, 1),
    (2027, 5, 6),
    (2027, 5, 8),
    (2027, 5, 17),
    (2027, 7, 14),
    (2027, 8, 15),
    (2027, 11, 1),
    (2027, 11, 11),
    (2027, 12, 25),
];

/// DEC-5 by hand: Monday–Friday 08:00–18:00 in Paris, public holidays closed.
fn business_open(at: i64) -> bool {
    let local = Timestamp::from_millisecond(at)
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Paris").unwrap());
    let date = local.date();
    if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return false;
    }
    if HOLIDAYS.contains(&(date.year(), date.month(), date.day())) {
        return false;
    }
    (8..18).contains(&local.hour())
}

/// A told instant in 2026–2027: any millisecond, or a whole minute of a day (to land on
/// 08:00, 18:00 and the DST changes often).
fn told_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        ms("2026-01-01T00:00:00+01:00")..ms("2028-01-01T00:00:00+01:00"),
        (0i64..730, 0i64..1440).prop_map(|(day, minute)| {
            let date = jiff::civil::date(2026, 1, 1)
                .checked_add(jiff::Span::new().days(day))
                .unwrap();
            date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
                .to_zoned(TimeZone::get("Europe/Paris").unwrap())
                .unwrap()
                .timestamp()
                .as_millisecond()
        }),
    ]
}

fn severity_strategy() -> impl Strategy<Value = Severity> {
    prop_oneof![
        Just(Severity::Critical),
        Just(Severity::Major),
        Just(Severity::Minor)
    ]
}

/// An alarm as it may stand, whatever the order of its stamps.
fn alarm_strategy() -> impl Strategy<Value = Alarm> {
    (
        severity_strategy(),
        told_strategy(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0i64..(3 * HOUR),
    )
        .prop_map(
            |(severity, told, ack, in_charge, resolved, closed, later)| {
                let mut a = alarm(severity, told);
                if ack {
                    a.acknowledged = Some(stamp("TECH-A", told + later));
                }
                if in_charge {
                    a.taken_in_charge = Some(stamp("TECH-B", told + later));
                }
                if resolved {
                    a.resolved_at = Some(told + later);
                }
                if closed {
                    a.closure = Some(closure(told + later));
                }
                a
            },
        )
}

/// The default policy with the astreinte step's repeat settings changed.
fn policy_with_repeats(repeat: u32, every_minutes: u32) -> Policy {
    let text = vigie_domain::policy::DEFAULT_POLICY
        .replacen(
            "repeat_every = \"15m\"",
            &format!("repeat_every = \"{every_minutes}m\""),
            1,
        )
        .replacen("repeat = 3 ", &format!("repeat = {repeat} "), 1);
    let policy = Policy::parse(&text).unwrap();
    let astreinte = step(&policy, Severity::Critical, "astreinte");
    assert_eq!(astreinte.repeat, repeat);
    assert_eq!(
        astreinte.repeat_every.unwrap().seconds(),
        u64::from(every_minutes) * 60
    );
    policy
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) No step falls due before the alarm is told.
    #[test]
    fn every_armed_timer_is_due_at_or_after_told(
        told in told_strategy(),
        severity in severity_strategy(),
    ) {
        let policy = policy();
        let timers = escalation::arm(&policy, ALARM, severity, told).unwrap();
        prop_assert_eq!(timers.len(), policy.chain(severity).len());
        for t in &timers {
            prop_assert!(t.due >= told, "{} due {} before told {}", t.key(), t.due, told);
            prop_assert_eq!(t.round, 0);
            prop_assert_eq!(t.severity, severity);
        }
    }

    /// (b) NOT-3: 30 minutes when the business calendar is open at `told`, else 1 hour.
    #[test]
    fn not_3_critical_ack_deadline_is_30_min_when_open_else_1_h(told in told_strategy()) {
        let expected = if business_open(told) { told + 30 * MINUTE } else { told + HOUR };
        prop_assert_eq!(critical_ack_deadline(told), expected);
        let mut a = alarm(Severity::Critical, told);
        a.notified_at = Some(told);
        prop_assert_eq!(escalation::acknowledge_by(&policy(), &a), Some(expected));
    }

    /// (c) `unless = acknowledged` never fires on an acknowledged alarm; NOT-7 steps never
    /// fire on one taken in charge.
    #[test]
    fn unless_conditions_hold_for_any_alarm_state(
        a in alarm_strategy(),
        round in 0u32..5,
        direct in any::<bool>(),
    ) {
        let policy = policy();
        let options = if direct { direct_notifications() } else { no_options() };
        let mut checked = 0;
        for severity in [Severity::Critical, Severity::Major, Severity::Minor] {
            for s in policy.chain(severity) {
                let t = timer(severity, &s.name, round, a.raised_at);
                let decision = escalation::decide(&policy, &t, &a, &options);
                if s.unless == Unless::Acknowledged
                    && (a.acknowledged.is_some() || a.taken_in_charge.is_some())
                {
                    prop_assert!(!fires(&decision), "{} fired on {:?}", t.key(), a);
                    checked += 1;
                }
                if s.unless == Unless::Handled && a.taken_in_charge.is_some() {
                    prop_assert!(!fires(&decision), "{} fired on {:?}", t.key(), a);
                    checked += 1;
                }
                // A repeat round never fires on an acknowledged alarm either.
                if round > 0 && a.acknowledged.is_some() {
                    prop_assert!(!fires(&decision), "{} fired on {:?}", t.key(), a);
                }
                if fires(&decision) {
                    prop_assert!(a.closure.is_none() && a.resolved_at.is_none());
                    prop_assert_eq!(a.severity, severity);
                }
            }
        }
        if a.taken_in_charge.is_some() {
            // 2 steps `unless = acknowledged` (NOT-4's deadline and its conference call)
            // and 4 NOT-7 steps in the default policy.
            prop_assert_eq!(checked, 6);
        }
    }

    /// (d) Following `decide`'s repeat timers, a step fires `repeat` more times, every
    /// `repeat_every`, and no more; an acknowledgement stops the following rounds.
    #[test]
    fn repeats_stop_after_their_count(
        repeat in 1u32..=48,
        every_minutes in 1u32..=180,
        told in told_strategy(),
        acknowledged_before_round in proptest::option::of(1u32..=48),
    ) {
        let policy = policy_with_repeats(repeat, every_minutes);
        let fresh = alarm(Severity::Critical, told);
        let mut t = escalation::arm(&policy, ALARM, Severity::Critical, told)
            .unwrap()
            .into_iter()
            .find(|t| t.step == "astreinte")
            .unwrap();
        let mut fired = Vec::new();
        let mut last = None;
        for _ in 0..=(2 * repeat + 2) {
            let state = match acknowledged_before_round {
                Some(round) if t.round >= round => acknowledged(fresh.clone(), t.due - 1),
                _ => fresh.clone(),
            };
            match escalation::decide(&policy, &t, &state, &no_options()) {
                Decision::Fire { repeat: Some(next), .. } => {
                    fired.push((t.round, t.due));
                    prop_assert_eq!(next.round, t.round + 1);
                    t = next;
                }
                Decision::Fire { repeat: None, .. } => {
                    fired.push((t.round, t.due));
                    last = None;
                    break;
                }
                Decision::Skip(skip) => {
                    last = Some(skip);
                    break;
                }
            }
        }
        let every = i64::from(every_minutes) * MINUTE;
        let rounds = match acknowledged_before_round {
            Some(round) if round <= repeat => round,
            _ => repeat + 1,
        };
        let expected: Vec<(u32, i64)> =
            (0..rounds).map(|k| (k, told + i64::from(k) * every)).collect();
        prop_assert_eq!(fired, expected);
        match acknowledged_before_round {
            Some(round) if round <= repeat => prop_assert_eq!(last, Some(Skip::Acknowledged)),
            _ => prop_assert_eq!(last, None),
        }
    }
}

// --- An alarm about no site: a rotation with nobody on call --------------------------------

/// The alarm the book raises for ASTREINTE-TECH with nobody on call.
fn nobody_on_call_alarm(told: i64) -> Alarm {
    let (mut alarm, _) = Alarm::raised(
        ALARM,
        None,
        None,
        ConditionKey {
            condition: Condition::NobodyOnCall,
            part: Some("ASTREINTE-TECH".into()),
        },
        Severity::Major,
        false,
        told,
    );
    alarm.notified_at = Some(told);
    alarm
}

#[test]
fn an_alarm_about_no_site_misses_no_client_contact_but_still_misses_the_on_call_technician() {
    let policy = policy();
    let world = World::new();
    // Before the rotation's first hand-off (5 January 2026): nobody on call.
    let at = ms("2026-01-03T10:00:00+01:00");
    let directory = Directory {
        site: None,
        ..world.directory()
    };
    let security = escalation::plan(
        &timer(Severity::Major, "responsable-securite", 0, at),
        step(&policy, Severity::Major, "responsable-securite"),
        &directory,
        &[],
        at,
    );
    assert_eq!(
        page_keys(&security.pages),
        vec!["42/major/responsable-securite/supervision/console"]
    );
    assert!(security.missing.is_empty(), "{:?}", security.missing);
    let on_call = escalation::plan(
        &timer(Severity::Major, "astreinte", 0, at),
        step(&policy, Severity::Major, "astreinte"),
        &directory,
        &[],
        at,
    );
    // Nobody on call among the technicians: the on-call managers are told instead, and the
    // step says why (issue 26, item 1); with no on-call manager either, the technician is
    // missing.
    assert!(on_call.missing.is_empty(), "{:?}", on_call.missing);
    assert_eq!(
        on_call.routed.iter().map(|r| r.role).collect::<Vec<_>>(),
        vec![Recipient::OnCallTechnician]
    );
    assert!(on_call.pages.iter().any(|p| p.recipient == "RA-1"));
    let staff: Vec<Staff> = team()
        .into_iter()
        .filter(|s| !s.reference.as_str().starts_with("RA-"))
        .collect();
    let alone = Directory {
        staff: &staff,
        ..directory
    };
    let on_call = escalation::plan(
        &timer(Severity::Major, "astreinte", 0, at),
        step(&policy, Severity::Major, "astreinte"),
        &alone,
        &[],
        at,
    );
    assert_eq!(
        on_call.missing.iter().map(|m| m.role).collect::<Vec<_>>(),
        vec![Recipient::OnCallTechnician]
    );
    // The same step for an alarm of a site does miss its security manager when it has none.
    let bare = site(None);
    let with_site = Directory {
        site: Some(&bare),
        contacts: &[],
        ..world.directory()
    };
    let missed = escalation::plan(
        &timer(Severity::Major, "responsable-securite", 0, at),
        step(&policy, Severity::Major, "responsable-securite"),
        &with_site,
        &[],
        at,
    );
    assert_eq!(
        missed.missing.iter().map(|m| m.role).collect::<Vec<_>>(),
        vec![Recipient::SecurityManager]
    );
}

#[test]
fn a_nobody_on_call_page_names_the_rotation_and_no_client() {
    let told = ms("2026-01-03T10:00:00+01:00");
    let alarm = nobody_on_call_alarm(told);
    let notice = Notice {
        page: sms(
            "ST-CHEF",
            "Marc Petit",
            "+33600000000",
            "marc.petit@mileo.fr",
            "major/responsable-technique",
        ),
        acknowledge_by: None,
        alarm,
        client_name: String::new(),
        site_name: "astreinte ASTREINTE-TECH".into(),
        equipment_name: None,
        time_zone: TimeZoneName::parse("Europe/Paris").unwrap(),
        digest: Vec::new(),
        digest_omitted: 0,
        conference: None,
    };
    let message = escalation::render(&notice, None);
    assert_eq!(
        message.subject,
        "[Vigie] Alarme Majeure n°42 : astreinte sans personne d'astreinte — astreinte ASTREINTE-TECH"
    );
    assert!(
        message.text.contains("\nAstreinte : ASTREINTE-TECH\n"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains("Personne n'est d'astreinte"),
        "{}",
        message.text
    );
    assert!(!message.text.contains("Client :"), "{}", message.text);
    assert!(!message.text.contains("Site :"), "{}", message.text);
    assert!(
        message.text.contains("Levée le 03/01/2026 10:00\n"),
        "{}",
        message.text
    );
}

/// Issue 25: pages and histories say a step in words, never its policy key.
#[test]
fn a_step_is_said_in_words() {
    use vigie_domain::alarm::escalation::{step_parts, step_words};
    assert_eq!(step_words("critical/astreinte"), "Critique — astreinte");
    assert_eq!(
        step_words("major/responsable-astreinte#2"),
        "Majeure — responsable astreinte, relance 2"
    );
    assert_eq!(step_words("texte libre"), "texte libre");
    assert_eq!(step_words("critical/astreinte#x"), "critical/astreinte#x");
    assert_eq!(
        step_parts("minor/maintenance#1"),
        Some((Severity::Minor, "maintenance", Some(1)))
    );
}

/// NOT-4 (issue 26, item 2): with a bridge, the conference step fires at the deadline and its
/// pages are invitations — number, PIN, one-tap link, one GSM segment — to the on-call
/// technician and the technical manager, and the client's people only under the contract's
/// option.
#[test]
fn not_4_the_conference_step_invites_with_number_pin_and_link() {
    use vigie_domain::sms::{self, Encoding};
    let overlay: toml::Table = toml::from_str(
        r#"
        [[conference.bridges]]
        name = "pont-astreinte"
        dial_in = "+33 1 84 88 00 00"
        pin = "482193"
        join_url = "https://visio.integrateur.fr/{room}"
        "#,
    )
    .unwrap();
    let policy = policy().with_overlay(&overlay).unwrap();
    let told = ms("2026-03-03T10:05:00+01:00");
    let fresh = alarm(Severity::Critical, told);
    let timer = escalation::arm(&policy, ALARM, Severity::Critical, told)
        .unwrap()
        .into_iter()
        .find(|t| t.step == "conference")
        .unwrap();
    let Decision::Fire { step, .. } = escalation::decide(&policy, &timer, &fresh, &no_options())
    else {
        panic!("the conference step fires with a bridge");
    };
    assert!(step.conference);
    // Without the contract's option, the client's roles are left out of the invitation.
    let without = escalation::for_contract(step, &no_options());
    assert_eq!(
        without.notify,
        [Recipient::OnCallTechnician, Recipient::TechnicalManager]
    );
    assert_eq!(
        escalation::for_contract(step, &direct_notifications())
            .notify
            .len(),
        4
    );
    let invitation = policy
        .conference
        .invitation(&escalation::conference_room(ALARM), ALARM)
        .unwrap();
    assert_eq!(
        invitation.join_url.as_deref(),
        Some("https://visio.integrateur.fr/vigie-alarme-42")
    );
    let mut notice = critical_notice("Europe/Paris", "Agence Lyon Part-Dieu", Some("Caméra hall"));
    notice.conference = Some(invitation);
    let message = escalation::render(&notice, Some(&invite()));
    assert!(
        message
            .subject
            .starts_with("[Vigie] Conférence d'urgence — alarme Critique n°42")
    );
    assert!(
        message.text.contains("Appeler le +33 1 84 88 00 00\n"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains("Code de la conférence : 482193\n"),
        "{}",
        message.text
    );
    // An invitation asks nothing to acknowledge: no code, no acknowledgement link.
    assert!(!message.sms.contains("répondez"), "{}", message.sms);
    let sent = sms::compose(&message.sms);
    assert_eq!(
        (sent.encoding, sent.segments),
        (Encoding::Gsm7, 1),
        "{}",
        sent.text
    );
    assert!(
        sent.text.ends_with(
            "Appelez +33 1 84 88 00 00 code 482193 ou https://visio.integrateur.fr/vigie-alarme-42"
        ),
        "{}",
        sent.text
    );
    // A bridge must be usable: a number, a PIN in digits, an https link.
    let bad: toml::Table = toml::from_str(
        "[[conference.bridges]]\nname = \"x\"\ndial_in = \"appelez-nous\"\npin = \"12a\"\njoin_url = \"http://x\"\n",
    )
    .unwrap();
    let refused = Policy::default_policy()
        .with_overlay(&bad)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("dial_in"), "{refused}");
    assert!(refused.contains("pin en chiffres"), "{refused}");
    assert!(refused.contains("https://"), "{refused}");
    // The console's step may not share a chain step's name (it would fire it unasked).
    let clash: toml::Table =
        toml::from_str("[conference.on_demand]\nname = \"conference\"\n").unwrap();
    let clashed = Policy::default_policy()
        .with_overlay(&clash)
        .unwrap_err()
        .to_string();
    assert!(
        clashed.contains("déjà celui d'une étape d'escalade"),
        "{clashed}"
    );
}
