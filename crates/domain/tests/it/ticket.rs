//! A ticket's SLA timers (CM-3, CM-4, INC-2, INC-4, SAV-4, DEC-4, DEC-5): named cases and the
//! pause arithmetic as properties. The scenarios in `scenarios/` show the same code end to end.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use vigie_domain::inventory::{ContractTier, Priority, SlaMeasure};
use vigie_domain::policy::Policy;
use vigie_domain::ticket::{
    Action, Happening, StatedCriticality, Status, TicketSla, priority_from,
};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn due_of(happenings: &[Happening], measure: SlaMeasure) -> Option<Timestamp> {
    happenings.iter().rev().find_map(|h| match h {
        Happening::Due { timer, due } if *timer == measure => Some(*due),
        _ => None,
    })
}

#[test]
fn stated_criticality_gives_the_priority_and_doubt_gives_p1() {
    assert_eq!(
        priority_from(Some(StatedCriticality::Critical)),
        Priority::P1
    ); // DEC-4
    assert_eq!(
        priority_from(Some(StatedCriticality::Standard)),
        Priority::P2
    );
    assert_eq!(
        priority_from(Some(StatedCriticality::Informative)),
        Priority::P3
    );
    assert_eq!(priority_from(None), Priority::P1); // SAV-4
}

#[test]
fn an_action_at_the_deadline_meets_it_and_a_minute_later_is_too_late() {
    let policy = Policy::default_policy();
    let received = at("2026-05-13T15:00:00Z"); // Wednesday 17:00 in Paris, before Ascension
    let (mut ticket, opened) = TicketSla::open(
        &policy,
        Priority::P2,
        ContractTier::Standard,
        false,
        received,
    )
    .unwrap();
    let take_charge = due_of(&opened, SlaMeasure::TakeCharge).unwrap();
    assert_eq!(take_charge, at("2026-05-15T09:00:00Z")); // Friday 11:00, INC-2
    let met = ticket.apply(Action::TakeCharge, take_charge).unwrap();
    assert!(met.contains(&Happening::Met {
        timer: SlaMeasure::TakeCharge,
        due: take_charge
    }));
    assert_eq!(ticket.status, Status::InProgress);

    let (mut late, _) = TicketSla::open(
        &policy,
        Priority::P2,
        ContractTier::Standard,
        false,
        received,
    )
    .unwrap();
    let breached = late.on_time(take_charge);
    assert!(breached.contains(&Happening::Breached {
        timer: SlaMeasure::TakeCharge,
        due: take_charge
    }));
    let after = late
        .apply(
            Action::TakeCharge,
            take_charge + SignedDuration::from_mins(1),
        )
        .unwrap();
    assert!(
        !after.iter().any(|h| matches!(h, Happening::Met { .. })),
        "{after:?}"
    );
}

#[test]
fn a_missed_client_update_is_still_owed_and_the_next_one_restarts_the_cadence() {
    let policy = Policy::default_policy();
    let received = at("2026-05-18T08:00:00Z"); // Monday 10:00
    let (mut ticket, opened) = TicketSla::open(
        &policy,
        Priority::P2,
        ContractTier::Standard,
        false,
        received,
    )
    .unwrap();
    let first = due_of(&opened, SlaMeasure::ClientUpdate).unwrap();
    assert_eq!(first, at("2026-05-18T10:00:00Z")); // INC-4: every 2 hours (P2)
    ticket.apply(Action::Acknowledge, received).unwrap();
    assert_eq!(
        ticket.on_time(first),
        vec![Happening::Breached {
            timer: SlaMeasure::ClientUpdate,
            due: first
        }]
    );
    // Take-charge (Monday 14:00) and on-site still run; the update waits for the next one.
    assert_eq!(ticket.next_wake(), Some(at("2026-05-18T12:00:00Z")));
    let late = at("2026-05-18T10:30:00Z");
    let rearmed = ticket.apply(Action::UpdateClient, late).unwrap();
    assert_eq!(
        rearmed,
        vec![Happening::Due {
            timer: SlaMeasure::ClientUpdate,
            due: at("2026-05-18T12:30:00Z")
        }]
    );
    ticket.apply(Action::Resolve, late).unwrap();
    assert_eq!(ticket.next_wake(), None, "nothing is due once resolved");
}

#[test]
fn p1_deadlines_run_round_the_clock_only_under_a_24_7_contract() {
    let policy = Policy::default_policy();
    let saturday_night = at("2026-05-16T20:00:00Z"); // 22:00 in Paris
    let (_, with_option) = TicketSla::open(
        &policy,
        Priority::P1,
        ContractTier::Premium,
        true,
        saturday_night,
    )
    .unwrap();
    assert_eq!(
        due_of(&with_option, SlaMeasure::TakeCharge),
        Some(at("2026-05-16T21:00:00Z"))
    );
    assert_eq!(
        due_of(&with_option, SlaMeasure::OnSite),
        Some(at("2026-05-16T22:00:00Z"))
    ); // 2 h Premium
    let (_, without) = TicketSla::open(
        &policy,
        Priority::P1,
        ContractTier::Standard,
        false,
        saturday_night,
    )
    .unwrap();
    // Monday 08:00 + 1 h and + 4 h (DEC-5).
    assert_eq!(
        due_of(&without, SlaMeasure::TakeCharge),
        Some(at("2026-05-18T07:00:00Z"))
    );
    assert_eq!(
        due_of(&without, SlaMeasure::OnSite),
        Some(at("2026-05-18T10:00:00Z"))
    );
}

#[test]
fn waiting_for_the_client_pauses_only_the_timers_the_policy_names() {
    let policy = Policy::default_policy();
    let received = at("2026-05-11T08:00:00Z"); // Monday 10:00
    let (mut ticket, _) = TicketSla::open(
        &policy,
        Priority::P3,
        ContractTier::Standard,
        false,
        received,
    )
    .unwrap();
    let paused = ticket
        .apply(Action::WaitForClient, at("2026-05-11T09:00:00Z"))
        .unwrap();
    let paused: Vec<SlaMeasure> = paused
        .iter()
        .filter_map(|h| match h {
            Happening::Paused { timer } => Some(*timer),
            _ => None,
        })
        .collect();
    // CM-4: take-charge deadlines run from receipt, without pause.
    assert_eq!(
        paused,
        vec![SlaMeasure::OnSite, SlaMeasure::InterventionPlanning]
    );
    assert_eq!(ticket.status, Status::WaitingForClient);
    // The take-charge and acknowledgement timers still run while waiting.
    assert_eq!(ticket.next_wake(), Some(at("2026-05-11T08:30:00Z")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// CM-4: after a pause, the on-site deadline is pushed back by exactly the business time
    /// the pause lasted, whatever the instants (weekends, holidays, DST changes included).
    #[test]
    fn a_pause_shifts_the_deadline_by_the_business_time_it_lasted(
        received_minutes in 0i64..(20 * 365 * 24 * 60),
        pause_after in 1i64..(60 * 24 * 10),
        pause_for in 0i64..(60 * 24 * 20),
    ) {
        let policy = Policy::default_policy();
        let business = policy.calendar("business").unwrap().clone();
        let received = at("2020-01-01T00:00:00Z") + SignedDuration::from_mins(received_minutes);
        let (mut ticket, opened) =
            TicketSla::open(&policy, Priority::P2, ContractTier::Standard, false, received).unwrap();
        let original = due_of(&opened, SlaMeasure::OnSite).unwrap();
        let pause = received + SignedDuration::from_mins(pause_after);
        let resume = pause + SignedDuration::from_mins(pause_for);
        prop_assume!(pause < original);
        ticket.apply(Action::WaitForClient, pause).unwrap();
        let resumed = ticket.apply(Action::ClientReplied, resume).unwrap();
        let new_due = due_of(&resumed, SlaMeasure::OnSite).unwrap();
        // The open time left is the same before the pause and after the resumption.
        prop_assert_eq!(business.elapsed(pause, original), business.elapsed(resume, new_due));
        prop_assert!(new_due >= original);
        // And the business time between the two deadlines is the business time paused.
        prop_assert_eq!(business.elapsed(original, new_due), business.elapsed(pause, resume));
    }
}
