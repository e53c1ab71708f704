//! A ticket's SLA timers (CM-3, CM-4, INC-2, INC-4, SAV-4, DEC-4, DEC-5): named cases and the
//! pause arithmetic as properties. The scenarios in `scenarios/` show the same code end to end.

use jiff::Timestamp;
use proptest::prelude::*;
use vigie_domain::inventory::{ContractTier, Priority, SlaMeasure};
use vigie_domain::policy::Policy;
use vigie_domain::ticket::{
    Action, Happening, StatedCriticality, Status, TicketSla, priority_from,
};

/// An instant written RFC 3339, as the domain takes it: UTC epoch milliseconds.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn due_of(happenings: &[Happening], measure: SlaMeasure) -> Option<i64> {
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
        .apply(Action::TakeCharge, take_charge + 60_000)
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
    // INC-4: the client is updated once the ticket is taken in charge, not before.
    assert_eq!(due_of(&opened, SlaMeasure::ClientUpdate), None);
    ticket.apply(Action::Acknowledge, received).unwrap();
    let taken = at("2026-05-18T08:30:00Z");
    let taken_happenings = ticket.apply(Action::TakeCharge, taken).unwrap();
    let first = due_of(&taken_happenings, SlaMeasure::ClientUpdate).unwrap();
    assert_eq!(first, at("2026-05-18T10:30:00Z")); // every 2 hours (P2)
    assert_eq!(
        ticket.on_time(first),
        vec![Happening::Breached {
            timer: SlaMeasure::ClientUpdate,
            due: first
        }]
    );
    // On-site still runs; the update waits for the next one.
    assert_eq!(ticket.next_wake(), due_of(&opened, SlaMeasure::OnSite));
    let late = at("2026-05-18T11:00:00Z");
    let rearmed = ticket.apply(Action::UpdateClient, late).unwrap();
    assert_eq!(
        rearmed,
        vec![Happening::Due {
            timer: SlaMeasure::ClientUpdate,
            due: at("2026-05-18T13:00:00Z")
        }]
    );
    // Taking charge again (another technician) does not restart the cadence.
    assert_eq!(
        due_of(
            &ticket.apply(Action::TakeCharge, late).unwrap(),
            SlaMeasure::ClientUpdate
        ),
        None
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
        let received = at("2020-01-01T00:00:00Z") + received_minutes * 60_000;
        let (mut ticket, opened) =
            TicketSla::open(&policy, Priority::P2, ContractTier::Standard, false, received).unwrap();
        let original = due_of(&opened, SlaMeasure::OnSite).unwrap();
        let pause = received + pause_after * 60_000;
        let resume = pause + pause_for * 60_000;
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

// --- The service desk's ticket (ticket::desk) ----------------------------------------------

mod desk {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::ticket::desk::{
        self, DeskError, EventKind, Impact, Kind, Report, Source, Terms, Ticket,
    };

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    fn report(source: Source) -> Report {
        Report {
            client: reference("CLI-A"),
            site: Some(reference("SITE-A")),
            equipment: None,
            kind: Kind::Request,
            source,
            symptom: "L'enregistreur ne répond plus".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm: None,
            topic: None,
        }
    }

    const STANDARD: Terms = Terms {
        tier: ContractTier::Standard,
        round_the_clock: false,
    };

    fn camera(role: &str) -> vigie_domain::inventory::Equipment {
        serde_json::from_value(serde_json::json!({
            "ref": "CAM-1", "site": "SITE-A", "name": "Caméra", "kind": "camera",
            "camera_role": role, "checks": {"ping": {}},
        }))
        .unwrap()
    }

    #[test]
    fn qualification_takes_the_highest_of_criticality_impact_and_equipment() {
        use StatedCriticality::*;
        let cases = [
            (None, None, None, Priority::P1),                  // SAV-4
            (None, Some(Impact::Unknown), None, Priority::P1), // SAV-4
            (None, Some(Impact::SecurityCompromised), None, Priority::P1), // INC-1
            (None, Some(Impact::PartialLoss), None, Priority::P2), // INC-1
            (None, Some(Impact::OneEquipment), None, Priority::P2), // SAV-3
            (None, Some(Impact::NoSecurityImpact), None, Priority::P3), // INC-1
            (None, Some(Impact::Question), None, Priority::P3), // SAV-3
            (
                Some(Informative),
                Some(Impact::PartialLoss),
                None,
                Priority::P2,
            ),
            (Some(Critical), Some(Impact::Question), None, Priority::P1),
            (Some(Standard), None, None, Priority::P2),
            (Some(Informative), None, None, Priority::P3),
            // A priority camera down is at least P2, not for a mere question.
            (
                None,
                Some(Impact::NoSecurityImpact),
                Some("priority"),
                Priority::P2,
            ),
            (
                None,
                Some(Impact::NoSecurityImpact),
                Some("secondary"),
                Priority::P3,
            ),
            (None, Some(Impact::Question), Some("priority"), Priority::P3),
        ];
        for (stated, impact, role, expected) in cases {
            let equipment = role.map(camera);
            assert_eq!(
                desk::qualify(stated, impact, equipment.as_ref()),
                expected,
                "{stated:?} {impact:?} {role:?}"
            );
        }
    }

    #[test]
    fn an_alarms_ticket_owes_no_acknowledgement_to_a_client() {
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let (portal, events) = Ticket::open(
            1,
            report(Source::Portal),
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        assert!(portal.sla.dues().contains_key(&SlaMeasure::Acknowledgement));
        assert_eq!(events[0].kind.key(), "opened");
        let (alarm, events) = Ticket::open(
            2,
            Report {
                kind: Kind::Maintenance,
                alarm: Some(7),
                ..report(Source::Alarm)
            },
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        assert!(!alarm.sla.dues().contains_key(&SlaMeasure::Acknowledgement));
        assert!(alarm.sla.dues().contains_key(&SlaMeasure::TakeCharge));
        assert!(events.iter().all(|e| !matches!(
            e.kind,
            EventKind::SlaDue {
                timer: SlaMeasure::Acknowledgement,
                ..
            }
        )));
    }

    /// Issue 25, item 9: the queue shows the open time left on the deadline's own calendar:
    /// a P2 take-charge deadline (4 business hours) asked on Friday at 17:00 falls on Monday
    /// morning, 3 days away on the wall clock but 4 hours away in business time.
    #[test]
    fn the_open_time_left_counts_business_hours_only() {
        let policy = Policy::default_policy();
        // Friday 6 March 2026, 17:00 in Paris.
        let received = at("2026-03-06T16:00:00Z");
        let (ticket, _) = Ticket::open(
            1,
            report(Source::Phone),
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let due = ticket.sla.dues()[&SlaMeasure::TakeCharge];
        let hour = 3_600_000;
        assert!(due - received > 48 * hour, "falls after the weekend");
        let left = ticket
            .sla
            .open_time_left(&policy, SlaMeasure::TakeCharge, received)
            .unwrap();
        assert_eq!(left, 4 * hour);
        // Saturday noon: the weekend counts for nothing.
        let saturday = at("2026-03-07T11:00:00Z");
        let left_on_saturday = ticket
            .sla
            .open_time_left(&policy, SlaMeasure::TakeCharge, saturday)
            .unwrap();
        assert_eq!(left_on_saturday, left - hour);
        // A timer that is not running has no time left to tell.
        let dues = ticket.sla.dues();
        for measure in [
            SlaMeasure::Acknowledgement,
            SlaMeasure::TakeCharge,
            SlaMeasure::OnSite,
            SlaMeasure::InterventionPlanning,
            SlaMeasure::ClientUpdate,
        ] {
            assert_eq!(
                ticket
                    .sla
                    .open_time_left(&policy, measure, received)
                    .is_some(),
                dues.contains_key(&measure),
                "{measure:?}"
            );
        }
    }

    #[test]
    fn requalification_measures_the_new_deadlines_from_receipt_and_keeps_what_was_met() {
        let policy = Policy::default_policy();
        // Tuesday 3 March 2026, 10:00 in Paris.
        let received = at("2026-03-03T09:00:00Z");
        let (mut ticket, _) = Ticket::open(
            1,
            report(Source::Phone),
            Priority::P3,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let tech = reference("TECH-A");
        let minute = 60_000;
        ticket
            .act(&policy, Action::Acknowledge, &tech, received + 10 * minute)
            .unwrap();
        assert!(
            ticket
                .requalify(&policy, Priority::P1, "  ", &tech, received)
                .is_err()
        );
        let events = ticket
            .requalify(
                &policy,
                Priority::P1,
                "toute la zone des quais est aveugle",
                &tech,
                received + 20 * minute,
            )
            .unwrap();
        assert_eq!(
            events[0].kind,
            EventKind::Requalified {
                from: Priority::P3,
                to: Priority::P1,
                reason: "toute la zone des quais est aveugle".into()
            }
        );
        let dues = ticket.sla.dues();
        // P1: take charge within 1 h of receipt (INC-2), not of the re-qualification.
        assert_eq!(dues[&SlaMeasure::TakeCharge], received + 60 * minute);
        // The acknowledgement was met: it is not due again.
        assert!(!dues.contains_key(&SlaMeasure::Acknowledgement));
        assert_eq!(ticket.priority, Priority::P1);
        // The same priority again is refused, as is anything on a closed ticket.
        assert!(matches!(
            ticket.requalify(&policy, Priority::P1, "encore", &tech, received),
            Err(DeskError::Conflict(_))
        ));
        ticket
            .close(
                &policy,
                Some("demande retirée par le client"),
                &tech,
                received + 30 * minute,
            )
            .unwrap();
        assert_eq!(ticket.status, Status::Closed);
        assert_eq!(ticket.closed_at, Some(received + 30 * minute));
        assert!(matches!(
            ticket.update_client(&policy, "point", &tech, received + 40 * minute),
            Err(DeskError::Conflict(_))
        ));
    }

    #[test]
    fn an_unconfirmed_fix_is_reminded_then_closed_and_followed_up_on_its_equipment() {
        let policy = Policy::default_policy();
        let minute = 60_000;
        let hour = 60 * minute;
        // Tuesday 3 March 2026, 10:00 in Paris.
        let received = at("2026-03-03T09:00:00Z");
        let (mut ticket, _) = Ticket::open(
            1,
            Report {
                equipment: Some(reference("CAM-1")),
                ..report(Source::Portal)
            },
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let tech = reference("TECH-A");
        ticket
            .act(&policy, Action::TakeCharge, &tech, received + hour)
            .unwrap();
        let resolved = received + 2 * hour;
        ticket
            .act(&policy, Action::Resolve, &tech, resolved)
            .unwrap();
        // SAV-6: reminded after 2 business days (at the close of Thursday, 18:00), closed 5
        // days after that.
        let reminder = at("2026-03-05T17:00:00Z");
        assert_eq!(ticket.aftercare.closure_reminder_due, Some(reminder));
        // CM-7: follow-ups 24 h, 72 h and 7 days after the intervention.
        let dues: Vec<i64> = ticket.aftercare.follow_ups.iter().map(|f| f.due).collect();
        assert_eq!(
            dues,
            vec![
                resolved + 24 * hour,
                resolved + 72 * hour,
                resolved + 168 * hour
            ]
        );
        assert_eq!(ticket.next_due(), Some(resolved + 24 * hour));
        // The 24 h follow-up finds nothing: the fix holds, the ticket stays resolved.
        let quiet = ticket
            .on_time(&policy, resolved + 24 * hour, &Default::default())
            .unwrap();
        assert_eq!(
            quiet.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
            vec![EventKind::FollowUp {
                due: resolved + 24 * hour,
                relapses: vec![],
                reopened: false
            }]
        );
        let events = ticket
            .on_time(&policy, reminder, &Default::default())
            .unwrap();
        let close_at = at("2026-03-10T17:00:00Z");
        assert_eq!(
            events.last().unwrap().kind,
            EventKind::ClosureReminder { close_at }
        );
        assert_eq!(events.last().unwrap().at, reminder);
        assert_eq!(ticket.status, Status::Resolved);
        // The 72 h and 7-day follow-ups pass too; at close_at, closed without an answer.
        let events = ticket
            .on_time(&policy, close_at, &Default::default())
            .unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.key()).collect();
        assert_eq!(
            kinds,
            vec!["follow_up", "follow_up", "auto_closed", "action", "status"]
        );
        assert_eq!(ticket.status, Status::Closed);
        assert_eq!(ticket.closed_at, Some(close_at));
        assert_eq!(ticket.next_due(), None);
    }

    #[test]
    fn a_relapse_before_the_clients_confirmation_reopens_the_ticket() {
        let policy = Policy::default_policy();
        let hour = 3_600_000;
        let received = at("2026-03-03T09:00:00Z");
        let (mut ticket, _) = Ticket::open(
            1,
            Report {
                equipment: Some(reference("CAM-1")),
                ..report(Source::Phone)
            },
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let tech = reference("TECH-A");
        ticket
            .act(&policy, Action::Resolve, &tech, received + hour)
            .unwrap();
        let due = received + 25 * hour;
        let relapses = std::collections::BTreeMap::from([(due, vec![42])]);
        let events = ticket.on_time(&policy, due, &relapses).unwrap();
        assert_eq!(
            events[0].kind,
            EventKind::FollowUp {
                due,
                relapses: vec![42],
                reopened: true
            }
        );
        assert_eq!(ticket.status, Status::InProgress);
        // Open again: no confirmation is awaited, no reminder.
        assert_eq!(ticket.aftercare.closure_reminder_due, None);
        assert_eq!(ticket.aftercare.follow_ups[0].relapses, vec![42]);
    }

    #[test]
    fn sav_7_a_closed_ticket_takes_one_survey_answer_with_marks_from_1_to_5() {
        use vigie_domain::ticket::desk::SurveyAnswers;
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let (mut ticket, _) = Ticket::open(
            1,
            report(Source::Portal),
            Priority::P3,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let answers = |r, q, c, comment: Option<&str>| SurveyAnswers {
            responsiveness: r,
            quality: q,
            communication: c,
            comment: comment.map(str::to_owned),
        };
        // Not closed yet: the survey follows the closure.
        assert!(matches!(
            ticket.answer_survey(answers(4, 4, 4, None), received),
            Err(DeskError::Conflict(_))
        ));
        let tech = reference("TECH-A");
        ticket
            .close(
                &policy,
                Some("confirmé par téléphone par le client"),
                &tech,
                received + 1,
            )
            .unwrap();
        for (r, q, c) in [(0, 3, 3), (3, 6, 3), (3, 3, 255)] {
            assert!(matches!(
                ticket.answer_survey(answers(r, q, c, None), received + 2),
                Err(DeskError::Invalid(_))
            ));
        }
        let long = "x".repeat(SurveyAnswers::MAX_COMMENT + 1);
        assert!(
            ticket
                .answer_survey(answers(3, 3, 3, Some(&long)), received + 2)
                .is_err()
        );
        let event = ticket
            .answer_survey(answers(5, 4, 2, Some("  ")), received + 3)
            .unwrap();
        // A blank comment is no comment.
        assert_eq!(
            event.kind,
            EventKind::SurveyAnswered {
                answers: answers(5, 4, 2, None)
            }
        );
        assert_eq!(ticket.survey, Some(answers(5, 4, 2, None)));
        assert!(matches!(
            ticket.answer_survey(answers(1, 1, 1, None), received + 4),
            Err(DeskError::Conflict(_))
        ));
    }

    #[test]
    fn sav_6_only_a_resolved_ticket_is_confirmed_by_its_link() {
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let (mut ticket, _) = Ticket::open(
            1,
            report(Source::Email),
            Priority::P2,
            &policy,
            STANDARD,
            received,
            None,
        )
        .unwrap();
        let tech = reference("TECH-A");
        ticket
            .act(&policy, Action::TakeCharge, &tech, received + 1)
            .unwrap();
        assert!(matches!(
            ticket.confirmed_by_link(&policy, received + 2),
            Err(DeskError::Conflict(_))
        ));
        ticket
            .act(&policy, Action::Resolve, &tech, received + 3)
            .unwrap();
        let events = ticket.confirmed_by_link(&policy, received + 4).unwrap();
        // Confirmed by the link's holder: Vigie records no name.
        assert_eq!(events[0].by, None);
        assert_eq!(
            events[0].kind,
            EventKind::Action {
                action: Action::ClientConfirms
            }
        );
        assert_eq!(ticket.status, Status::Closed);
        assert!(matches!(
            ticket.confirmed_by_link(&policy, received + 5),
            Err(DeskError::Conflict(_))
        ));
    }

    fn action_of(index: u8) -> Action {
        [
            Action::Acknowledge,
            Action::TakeCharge,
            Action::PlanIntervention,
            Action::ArriveOnSite,
            Action::UpdateClient,
            Action::WaitForClient,
            Action::ClientReplied,
            Action::Resolve,
            Action::ClientConfirms,
            Action::Close,
        ][usize::from(index) % 10]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// A ticket stored and read back between every step (as the service desk does) takes
        /// exactly the same steps, deadlines and breaches as one kept in memory.
        #[test]
        fn storing_a_ticket_between_steps_changes_nothing(
            received_minutes in 0i64..(5 * 365 * 24 * 60),
            priority in 0u8..3,
            steps in proptest::collection::vec((0u8..12, 1i64..(3 * 24 * 60)), 1..20),
        ) {
            let policy = Policy::default_policy();
            let priority = [Priority::P1, Priority::P2, Priority::P3][usize::from(priority)];
            let received = at("2021-01-01T00:00:00Z") + received_minutes * 60_000;
            let tech = reference("TECH-A");
            let (mut kept, first) =
                Ticket::open(1, report(Source::Portal), priority, &policy, STANDARD, received, None).unwrap();
            let mut stored = serde_json::to_string(&kept).unwrap();
            let mut now = received;
            let mut kept_events = first.clone();
            let mut stored_events = first;
            for (step, minutes) in steps {
                now += minutes * 60_000;
                let mut read: Ticket = serde_json::from_str(&stored).unwrap();
                let (a, b) = if step >= 10 {
                    // Time passes: breaches.
                    (kept.on_time(&policy, now, &Default::default()), read.on_time(&policy, now, &Default::default()))
                } else {
                    let action = action_of(step);
                    (kept.act(&policy, action, &tech, now), read.act(&policy, action, &tech, now))
                };
                prop_assert_eq!(a.is_ok(), b.is_ok());
                if let (Ok(a), Ok(b)) = (a, b) {
                    kept_events.extend(a);
                    stored_events.extend(b);
                }
                prop_assert_eq!(&kept, &read);
                stored = serde_json::to_string(&read).unwrap();
            }
            // Every breach is written at its deadline, which had passed when it was noticed.
            for event in &kept_events {
                if let EventKind::SlaBreached { due, .. } = event.kind {
                    prop_assert_eq!(event.at, due);
                    prop_assert!(due <= now);
                }
            }
            prop_assert_eq!(kept_events, stored_events);
        }
    }
}

mod recurrence {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::ticket::desk::{self, Kind, Report, Source, Terms, Ticket};

    const DAY: i64 = 86_400_000;

    fn ticket(number: u64, site: &str, topic: Option<&str>, alarm: Option<u64>, at: i64) -> Ticket {
        let report = Report {
            client: Reference::parse("CLI-A").unwrap(),
            site: Some(Reference::parse(site).unwrap()),
            equipment: None,
            kind: if alarm.is_some() {
                Kind::Maintenance
            } else {
                Kind::Request
            },
            source: if alarm.is_some() {
                Source::Alarm
            } else {
                Source::Portal
            },
            symptom: "Caméra injoignable".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm,
            topic: topic.map(str::to_owned),
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        Ticket::open(
            number,
            report,
            Priority::P2,
            &Policy::default_policy(),
            terms,
            at,
            None,
        )
        .unwrap()
        .0
    }

    /// INC-7, the decision the store asks of the domain: the earlier tickets of the problem,
    /// one per alarm, and the open review of that kind of equipment it joins.
    #[test]
    fn inc_7_a_recurrence_names_one_ticket_per_alarm_and_joins_the_open_review() {
        let window = 90 * DAY;
        let t0 = at("2026-01-05T09:00:00Z");
        let now = ticket(20, "SITE-A", Some("camera/unreachable"), Some(20), t0 + DAY);
        let review = |number: u64, topic: &str, closed: bool| {
            let mut review = ticket(number, "SITE-A", Some(topic), None, t0);
            review.report.kind = Kind::Review;
            if closed {
                review.closed_at = Some(t0 + 1);
            }
            review
        };
        // Newest first, as the store reads them: alarm 3's two tickets count once.
        let others = [
            review(19, "camera", true),
            ticket(18, "SITE-A", Some("camera/unreachable"), Some(3), t0),
            ticket(17, "SITE-A", Some("camera/unreachable"), Some(3), t0),
            review(16, "nvr", false),
            ticket(15, "SITE-A", Some("camera"), None, t0),
        ];
        let found = desk::recurrence(&now, &others, window).expect("une récurrence");
        assert_eq!(found.earlier, vec![15, 18]);
        // The closed review and the review of recorders are not this one's.
        assert_eq!(found.open_review, None);
        let mut with_review = others.to_vec();
        with_review.insert(0, review(21, "camera", false));
        let found = desk::recurrence(&now, &with_review, window).unwrap();
        assert_eq!(found.open_review, Some(21));
        // Nothing earlier of the same type: no recurrence, even with an open review.
        assert_eq!(
            desk::recurrence(&now, &[review(21, "camera", false)], window),
            None
        );
        // A review never recurs, nor a ticket without a type.
        assert_eq!(
            desk::recurrence(&review(22, "camera", false), &others, window),
            None
        );
        let untyped = ticket(23, "SITE-A", None, None, t0 + DAY);
        assert_eq!(desk::recurrence(&untyped, &others, window), None);
    }

    #[test]
    fn inc_7_same_type_same_site_within_the_window_recurs_and_nothing_else_does() {
        let window = 90 * DAY;
        let t0 = at("2026-01-05T09:00:00Z");
        let now = ticket(
            9,
            "SITE-A",
            Some("camera/unreachable"),
            Some(9),
            t0 + 60 * DAY,
        );
        let cases = [
            (
                ticket(1, "SITE-A", Some("camera/unreachable"), Some(1), t0),
                true,
            ),
            // The window's edge counts, a day more does not.
            (
                ticket(
                    2,
                    "SITE-A",
                    Some("camera/unreachable"),
                    Some(2),
                    t0 - 30 * DAY,
                ),
                true,
            ),
            (
                ticket(
                    3,
                    "SITE-A",
                    Some("camera/unreachable"),
                    Some(3),
                    t0 - 31 * DAY,
                ),
                false,
            ),
            (
                ticket(4, "SITE-B", Some("camera/unreachable"), Some(4), t0),
                false,
            ),
            (
                ticket(5, "SITE-A", Some("nvr/unreachable"), Some(5), t0),
                false,
            ),
            // The same alarm's other ticket (maintenance, then intervention) is one incident.
            (
                ticket(6, "SITE-A", Some("camera/unreachable"), Some(9), t0),
                false,
            ),
            (ticket(7, "SITE-A", None, None, t0), false),
            // Issue 22, joint 12: a client's report on a camera of the site, then an alarm on
            // a camera: the same problem, whatever opened the ticket.
            (ticket(8, "SITE-A", Some("camera"), None, t0), true),
            (ticket(11, "SITE-A", Some("nvr"), None, t0), false),
            // Another alarm told at the very same instant is the same event.
            (
                ticket(
                    12,
                    "SITE-A",
                    Some("camera/unreachable"),
                    Some(12),
                    t0 + 60 * DAY,
                ),
                false,
            ),
        ];
        for (earlier, expected) in &cases {
            assert_eq!(
                desk::recurs(&now, earlier, window),
                *expected,
                "ticket n°{}",
                earlier.number
            );
        }
        // Without a type, a ticket never recurs.
        let untyped = ticket(10, "SITE-A", None, None, t0 + 60 * DAY);
        assert!(!desk::recurs(&untyped, &cases[6].0, window));
        let review = desk::review_report(&now, &[1, 2], "Entrepôt");
        assert_eq!(review.kind, Kind::Review);
        assert!(review.symptom.contains("3 incidents"), "{}", review.symptom);
        assert!(
            review.symptom.contains("n°1, n°2, n°9"),
            "{}",
            review.symptom
        );
    }
}

/// SAV-1, SAV-6: what the desk makes of a message of the support mailbox.
mod mail {
    use super::*;
    use vigie_domain::ticket::desk::{EventKind, Kind, MailNote, Report, Source, Terms, Ticket};
    use vigie_domain::ticket::mail::{
        self, Disposition, Known, MailFacts, Reply, SetAside, is_confirmation, ticket_number_in,
    };
    use vigie_domain::{EmailAddress, Reference};

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    fn facts(from: &str, subject: &str, text: &str) -> MailFacts {
        MailFacts {
            from: Some(address(from)),
            subject: subject.into(),
            headers: Vec::new(),
            text: text.into(),
            readable: true,
        }
    }

    fn ticket(number: u64, client: &str, reply_to: Option<&str>) -> Ticket {
        let report = Report {
            client: reference(client),
            site: None,
            equipment: None,
            kind: Kind::Request,
            source: Source::Email,
            symptom: "Caméra du parking noire".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: reply_to.map(address),
            alarm: None,
            topic: None,
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        let received = at("2026-03-03T09:00:00Z");
        Ticket::open(
            number,
            report,
            Priority::P2,
            &Policy::default_policy(),
            terms,
            received,
            None,
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_subject_names_its_ticket_as_vigie_writes_it() {
        for (subject, number) in [
            ("RE: [Vigie] Ticket n°42 pris en charge", Some(42)),
            ("TR: Re: ticket nº 7 résolu", Some(7)),
            ("Ticket no 1234", Some(1234)),
            ("Ticket #9 : suite", Some(9)),
            ("Re: TICKET N°  15", Some(15)),
            ("Caméra en panne, voir ticket", None),
            ("Ticket n°12a", None),
            ("Ticketing n°3", None),
            ("", None),
        ] {
            assert_eq!(ticket_number_in(subject), number, "{subject:?}");
        }
    }

    #[test]
    fn only_the_confirmation_the_notice_asks_for_confirms() {
        for text in [
            "CONFIRMÉ",
            "confirme",
            "Je confirme.",
            "\n\n  Confirmé !\n> Votre demande n°3 est résolue",
            "Confirmé, merci beaucoup !",
        ] {
            assert!(is_confirmation(text), "{text:?}");
        }
        for text in [
            "Merci",
            "Non, toujours en panne. Confirmé ?? pas du tout",
            "> CONFIRMÉ\nToujours noir",
            "Je ne confirme pas",
            "Confirmé ? Pas du tout, toujours noir",
            "Je confirme la panne",
            "Confirmer quoi ? Rien ne marche",
            "",
        ] {
            assert!(!is_confirmation(text), "{text:?}");
        }
    }

    #[test]
    fn auto_replies_bounces_and_lists_are_automatic_and_a_person_is_not() {
        let header = |name: &str, value: &str| vec![(name.to_owned(), value.to_owned())];
        assert!(mail::automatic(&header("auto-submitted", "auto-replied"), "Absent").is_some());
        assert!(mail::automatic(&header("auto-submitted", "no"), "Panne").is_none());
        assert!(mail::automatic(&header("precedence", "bulk"), "x").is_some());
        assert!(mail::automatic(&header("list-id", "<x.example.fr>"), "x").is_some());
        assert!(
            mail::automatic(
                &header(
                    "content-type",
                    "multipart/report; report-type=delivery-status"
                ),
                "x"
            )
            .is_some()
        );
        assert!(mail::automatic(&[], "Réponse automatique : absent jusqu'au 3").is_some());
        assert!(mail::automatic(&[], "Out of Office: back Monday").is_some());
        assert!(mail::automatic(&[], "Caméra du hall en panne").is_none());
    }

    #[test]
    fn a_known_contact_opens_a_ticket_for_its_client_and_no_one_else_does() {
        let a = [reference("CLI-A")];
        let two = [reference("CLI-A"), reference("CLI-B")];
        let own = [address("support@integrateur.fr")];
        let known = |clients: &'static [Reference]| Known {
            clients,
            ticket: None,
            opened_recently: 0,
            own_addresses: &[],
        };
        let a: &'static [Reference] = Box::leak(Box::new(a));
        let two: &'static [Reference] = Box::leak(Box::new(two));
        let mail = facts(
            "rssi@client-a.fr",
            "Caméra du hall en panne",
            "Noire depuis ce matin",
        );
        assert_eq!(
            mail::sort(&mail, &known(a), 5),
            Disposition::Open {
                client: reference("CLI-A"),
                follows: None
            }
        );
        assert_eq!(
            mail::sort(&mail, &known(&[]), 5),
            Disposition::SetAside(SetAside::UnknownSender)
        );
        assert_eq!(
            mail::sort(&mail, &known(two), 5),
            Disposition::SetAside(SetAside::AmbiguousSender)
        );
        // A flood: the sixth ticket within the hour is set aside, not opened.
        let flooding = Known {
            opened_recently: 5,
            ..known(a)
        };
        assert_eq!(
            mail::sort(&mail, &flooding, 5),
            Disposition::SetAside(SetAside::Flood { limit: 5 })
        );
        // An auto-responder never gets a ticket (nor its acknowledgement).
        let mut absent = facts("rssi@client-a.fr", "Absence du bureau", "De retour lundi");
        absent.headers = vec![("auto-submitted".into(), "auto-replied".into())];
        assert!(matches!(
            mail::sort(&absent, &known(a), 5),
            Disposition::SetAside(SetAside::Automatic { .. })
        ));
        // Vigie's own messages coming back are a loop.
        let looped = facts("support@integrateur.fr", "Ticket n°3", "");
        let with_own = Known {
            own_addresses: &own,
            ..known(a)
        };
        assert_eq!(
            mail::sort(&looped, &with_own, 5),
            Disposition::SetAside(SetAside::Loop)
        );
        let mut keyed = mail.clone();
        keyed.headers = vec![("x-vigie-key".into(), "ticket/3/ack".into())];
        assert_eq!(
            mail::sort(&keyed, &known(a), 5),
            Disposition::SetAside(SetAside::Loop)
        );
        let unreadable = MailFacts {
            from: None,
            ..mail.clone()
        };
        assert_eq!(
            mail::sort(&unreadable, &known(a), 5),
            Disposition::SetAside(SetAside::Unreadable)
        );
    }

    #[test]
    fn a_reply_threads_into_its_ticket_only_for_that_tickets_client() {
        let policy = Policy::default_policy();
        let a: &[Reference] = &[reference("CLI-A")];
        let b: &[Reference] = &[reference("CLI-B")];
        let mut open = ticket(3, "CLI-A", Some("inconnu@ailleurs.fr"));
        let reply = facts(
            "rssi@client-a.fr",
            "RE: [Vigie] Ticket n°3 pris en charge",
            "Merci",
        );
        fn known<'a>(clients: &'a [Reference], ticket: &'a Ticket) -> Known<'a> {
            Known {
                clients,
                ticket: Some(ticket),
                opened_recently: 0,
                own_addresses: &[],
            }
        }
        assert_eq!(
            mail::sort(&reply, &known(a, &open), 5),
            Disposition::Thread {
                ticket: 3,
                reply: Reply::Recorded
            }
        );
        // Another client's contact naming ticket 3 does not reach it: it opens its own.
        assert_eq!(
            mail::sort(&reply, &known(b, &open), 5),
            Disposition::Open {
                client: reference("CLI-B"),
                follows: None
            }
        );
        // The reporter outside Vigie the ticket answers is its client's voice.
        let outsider = facts("inconnu@ailleurs.fr", "Re: Ticket n°3", "Toujours noir");
        assert!(matches!(
            mail::sort(&outsider, &known(&[], &open), 5),
            Disposition::Thread { ticket: 3, .. }
        ));
        // Waiting for the client: the answer resumes the timers.
        let tech = reference("TECH-A");
        let t0 = open.received_at;
        open.act(&policy, Action::TakeCharge, &tech, t0 + 1)
            .unwrap();
        open.act(&policy, Action::WaitForClient, &tech, t0 + 2)
            .unwrap();
        let disposition = mail::sort(&reply, &known(a, &open), 5);
        assert_eq!(
            disposition,
            Disposition::Thread {
                ticket: 3,
                reply: Reply::Answers
            }
        );
        let note = |text: &str| MailNote {
            mail: 1,
            from: "RSSI <rssi@client-a.fr>".into(),
            subject: "RE: Ticket n°3".into(),
            text: text.into(),
            attachments: vec!["photo.jpg".into()],
        };
        let events = open
            .mail_received(&policy, note("Voici la photo"), Reply::Answers, t0 + 3)
            .unwrap();
        assert!(matches!(
            events[0].kind,
            EventKind::MailReceived {
                reply: Reply::Answers,
                ..
            }
        ));
        assert_eq!(open.status, Status::InProgress);
        // Resolved: "merci" reopens (a person reads it), "CONFIRMÉ" closes (SAV-6).
        open.act(&policy, Action::Resolve, &tech, t0 + 4).unwrap();
        assert_eq!(
            mail::sort(&reply, &known(a, &open), 5),
            Disposition::Thread {
                ticket: 3,
                reply: Reply::Reopens
            }
        );
        let mut reopened = open.clone();
        reopened
            .mail_received(&policy, note("Merci"), Reply::Reopens, t0 + 5)
            .unwrap();
        assert_eq!(reopened.status, Status::InProgress);
        let confirmation = facts(
            "rssi@client-a.fr",
            "RE: Ticket n°3 résolu",
            "Confirmé\n> ...",
        );
        let reply = match mail::sort(&confirmation, &known(a, &open), 5) {
            Disposition::Thread { reply, .. } => reply,
            other => panic!("{other:?}"),
        };
        assert_eq!(reply, Reply::Confirms);
        open.mail_received(&policy, note("Confirmé"), reply, t0 + 6)
            .unwrap();
        assert_eq!(open.status, Status::Closed);
        // A reply to a closed ticket opens a new one that follows it.
        assert_eq!(
            mail::sort(&confirmation, &known(a, &open), 5),
            Disposition::Open {
                client: reference("CLI-A"),
                follows: Some(3)
            }
        );
        // A stale reply (recorded for a status the ticket left) changes nothing.
        let mut stale = ticket(4, "CLI-A", None);
        let events = stale
            .mail_received(&policy, note("Confirmé"), Reply::Confirms, t0 + 7)
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(stale.status, Status::New);
    }

    #[test]
    fn a_mail_ticket_states_its_subject_then_its_text_within_bounds() {
        let symptom = mail::symptom_of("Caméra noire", "Depuis 8 h", Some(3));
        assert_eq!(symptom, "Suite du ticket n°3 : Caméra noire\n\nDepuis 8 h");
        let long = mail::symptom_of("", &"x".repeat(10_000), None);
        assert!(long.starts_with("(sans objet)"));
        assert_eq!(long.chars().count(), vigie_domain::ticket::desk::MAX_TEXT);
        assert_eq!(
            mail::stated_in("[Critique] plus d'image"),
            Some(vigie_domain::ticket::StatedCriticality::Critical)
        );
        assert_eq!(mail::stated_in("plus d'image"), None);
    }

    proptest! {
        /// Whatever the subject, finding a ticket number never panics, and a number Vigie
        /// wrote is found again.
        #[test]
        fn any_subject_is_read_safely(subject in "\\PC{0,120}", number in 1u64..1_000_000) {
            let _ = ticket_number_in(&subject);
            let _ = mail::automatic(&[], &subject);
            let _ = is_confirmation(&subject);
            let written = format!("RE: {subject} [Vigie] Ticket n°{number} pris en charge");
            let found = ticket_number_in(&written);
            // The subject before it may hold a ticket number of its own.
            prop_assert!(found == Some(number) || ticket_number_in(&subject).is_some());
        }
    }
}

/// INC-5: the resolution states its cause, actions and impact on the security data; data lost
/// opens the GDPR information duty with its own deadline.
mod resolution {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::ticket::desk::{
        DataImpact, DeskError, EventKind, Kind, Report, Resolution, Source, Terms, Ticket,
    };

    fn incident() -> Ticket {
        let report = Report {
            client: Reference::parse("CLI-A").unwrap(),
            site: None,
            equipment: None,
            kind: Kind::Incident,
            source: Source::Phone,
            symptom: "Enregistreur arrêté".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm: None,
            topic: None,
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        let received = at("2026-03-03T09:00:00Z");
        Ticket::open(
            1,
            report,
            Priority::P1,
            &Policy::default_policy(),
            terms,
            received,
            None,
        )
        .unwrap()
        .0
    }

    fn resolution(footage_lost: bool, description: &str) -> Resolution {
        Resolution {
            root_cause: "Disque de l'enregistreur plein".into(),
            actions: "Disque remplacé, rétention reconfigurée".into(),
            intervention_minutes: 90,
            data_impact: DataImpact {
                footage_lost,
                accesses_untracked: false,
                description: description.into(),
            },
            parts_replaced: Vec::new(),
            recommendations: String::new(),
        }
    }

    #[test]
    fn inc_5_data_lost_is_described_and_informed_by_its_own_deadline() {
        let policy = Policy::default_policy();
        let tech = Reference::parse("TECH-A").unwrap();
        let mut ticket = incident();
        let t0 = ticket.received_at;
        // Not taken in charge yet: nothing to resolve.
        assert!(matches!(
            ticket.resolve(&policy, resolution(false, ""), &tech, t0 + 1),
            Err(DeskError::Conflict(_))
        ));
        ticket
            .act(&policy, Action::TakeCharge, &tech, t0 + 1)
            .unwrap();
        // An incident is not resolved by the bare step: its impact must be said.
        assert!(matches!(
            ticket.act(&policy, Action::Resolve, &tech, t0 + 2),
            Err(DeskError::Invalid(_))
        ));
        // Footage lost without saying what: refused.
        assert!(matches!(
            ticket.resolve(&policy, resolution(true, " "), &tech, t0 + 2),
            Err(DeskError::Invalid(_))
        ));
        let lost = resolution(true, "Caméras 1 à 4, du 2 mars 22 h au 3 mars 8 h");
        let events = ticket.resolve(&policy, lost, &tech, t0 + 2).unwrap();
        let day = 24 * 3_600_000;
        assert!(matches!(
            &events[0].kind,
            EventKind::Resolved { gdpr_due: Some(due), .. } if *due == t0 + 2 + day
        ));
        assert_eq!(ticket.status, Status::Resolved);
        assert_eq!(
            ticket.resolution.as_ref().unwrap().root_cause,
            "Disque de l'enregistreur plein"
        );
        let gdpr = ticket.gdpr.clone().unwrap();
        assert_eq!(
            ticket.next_due(),
            Some(gdpr.due.min(ticket.next_due().unwrap()))
        );
        // Informed before the deadline: nothing is overdue, and informing twice records once.
        let mut informed = ticket.clone();
        assert_eq!(informed.gdpr_informed(t0 + 3).len(), 1);
        assert!(informed.gdpr_informed(t0 + 4).is_empty());
        let events = informed
            .on_time(&policy, gdpr.due + 1, &Default::default())
            .unwrap();
        assert!(!events.iter().any(|e| e.kind.key() == "gdpr_overdue"));
        // Not informed: overdue at its deadline, once.
        let events = ticket
            .on_time(&policy, gdpr.due + 1, &Default::default())
            .unwrap();
        let overdue: Vec<_> = events
            .iter()
            .filter(|e| e.kind.key() == "gdpr_overdue")
            .collect();
        assert_eq!(overdue.len(), 1);
        assert_eq!(overdue[0].at, gdpr.due);
        let again = ticket
            .on_time(&policy, gdpr.due + 2, &Default::default())
            .unwrap();
        assert!(!again.iter().any(|e| e.kind.key() == "gdpr_overdue"));
        // No loss: no duty.
        let mut clean = incident();
        clean
            .act(&policy, Action::TakeCharge, &tech, t0 + 1)
            .unwrap();
        clean
            .resolve(&policy, resolution(false, ""), &tech, t0 + 2)
            .unwrap();
        assert!(clean.gdpr.is_none());
        let notice =
            vigie_domain::ticket::message::data_impact_line(clean.data_impact.as_ref().unwrap());
        assert!(notice.contains("aucune perte"), "{notice}");
    }
}

/// INC-6: every P1 gets a post-mortem within 5 business days of its resolution, with its
/// timeline, analysis and measures; shared with the client; anonymisable.
mod post_mortem {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::ticket::desk::{
        DataImpact, DeskError, EventKind, Kind, Report, Resolution, Source, Terms, Ticket,
    };
    use vigie_domain::ticket::post_mortem::{
        Measure, MeasureKind, PostMortemText, anonymise, timeline,
    };

    fn incident(priority: Priority) -> Ticket {
        let report = Report {
            client: Reference::parse("CLI-A").unwrap(),
            site: None,
            equipment: None,
            kind: Kind::Incident,
            source: Source::Phone,
            symptom: "Hyperviseur de sécurité arrêté".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm: None,
            topic: None,
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        // Friday 6 March 2026, 10:00 in Paris.
        let received = at("2026-03-06T09:00:00Z");
        Ticket::open(
            1,
            report,
            priority,
            &Policy::default_policy(),
            terms,
            received,
            None,
        )
        .unwrap()
        .0
    }

    fn resolved(priority: Priority) -> (Ticket, Vec<vigie_domain::ticket::desk::TicketEvent>) {
        let policy = Policy::default_policy();
        let tech = Reference::parse("TECH-A").unwrap();
        let mut ticket = incident(priority);
        let t0 = ticket.received_at;
        let mut events = Vec::new();
        events.extend(
            ticket
                .act(&policy, Action::TakeCharge, &tech, t0 + 60_000)
                .unwrap(),
        );
        let resolution = Resolution {
            root_cause: "Alimentation de l'hyperviseur défaillante".into(),
            actions: "Alimentation remplacée".into(),
            intervention_minutes: 120,
            data_impact: DataImpact {
                footage_lost: false,
                accesses_untracked: false,
                description: String::new(),
            },
            parts_replaced: Vec::new(),
            recommendations: String::new(),
        };
        events.extend(
            ticket
                .resolve(&policy, resolution, &tech, t0 + 3_600_000)
                .unwrap(),
        );
        (ticket, events)
    }

    #[test]
    fn inc_6_a_p1_resolved_owes_its_post_mortem_within_5_business_days() {
        let policy = Policy::default_policy();
        let tech = Reference::parse("TECH-A").unwrap();
        let (mut ticket, events) = resolved(Priority::P1);
        // Resolved Friday 6 March 11:00 in Paris: due at the close of the fifth business day
        // after, Friday 13 March at 18:00.
        let due = at("2026-03-13T17:00:00Z");
        assert!(
            events
                .iter()
                .any(|e| e.kind == EventKind::PostMortemDue { due }),
            "{events:?}"
        );
        assert!(resolved(Priority::P2).0.post_mortem.is_none());
        // Not shared without its analysis and both kinds of measures.
        assert!(matches!(
            ticket.publish_post_mortem(&tech, due - 10),
            Err(DeskError::Invalid(_))
        ));
        let text = PostMortemText {
            analysis: "L'alimentation vieillissante n'était pas supervisée.".into(),
            measures: vec![
                Measure {
                    kind: MeasureKind::Corrective,
                    action: "Remplacer l'alimentation".into(),
                    owner: "Karim Haddad".into(),
                    due: due - 1,
                },
                Measure {
                    kind: MeasureKind::Preventive,
                    action: "Superviser les alimentations".into(),
                    owner: "Équipe supervision".into(),
                    due: due + 86_400_000,
                },
            ],
        };
        let mut late = ticket.clone();
        ticket
            .write_post_mortem(text.clone(), &tech, due - 9)
            .unwrap();
        ticket.publish_post_mortem(&tech, due - 8).unwrap();
        assert!(matches!(
            ticket.write_post_mortem(text, &tech, due - 7),
            Err(DeskError::Conflict(_))
        ));
        let events = ticket
            .on_time(&policy, due + 1, &Default::default())
            .unwrap();
        assert!(!events.iter().any(|e| e.kind.key() == "post_mortem_overdue"));
        // Not shared by its deadline: overdue, once, at the deadline.
        let events = late.on_time(&policy, due + 1, &Default::default()).unwrap();
        let overdue: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::PostMortemOverdue { due })
            .collect();
        assert_eq!(overdue.len(), 1, "{events:?}");
        assert_eq!(overdue[0].at, due);
        let again = late.on_time(&policy, due + 2, &Default::default()).unwrap();
        assert!(!again.iter().any(|e| e.kind.key() == "post_mortem_overdue"));
    }

    #[test]
    fn the_timeline_is_in_order_of_time_and_in_french() {
        let (_, events) = resolved(Priority::P1);
        let lines = timeline(&events, &[]);
        assert!(lines.windows(2).all(|w| w[0].at <= w[1].at));
        let whats: Vec<&str> = lines.iter().map(|l| l.what.as_str()).collect();
        assert!(whats.contains(&"Étape : prise en charge"), "{whats:?}");
        assert!(
            whats
                .iter()
                .any(|w| w.starts_with("Résolu : Alimentation de l'hyperviseur défaillante")),
            "{whats:?}"
        );
        assert!(whats.contains(&"Post-mortem à rédiger"), "{whats:?}");
    }

    #[test]
    fn anonymising_hides_names_addresses_and_numbers() {
        let names = vec![
            ("Banque Exemple".to_owned(), "le client".to_owned()),
            ("Banque Exemple Nord".to_owned(), "site 1".to_owned()),
            ("Hélène Marchand".to_owned(), "contact 1".to_owned()),
        ];
        let text = "Hélène Marchand (banque exemple nord) a appelé du 06 11 11 11 11, \
                    puis écrit de helene.marchand@banque-exemple.fr : BANQUE EXEMPLE attend.";
        let hidden = anonymise(text, &names);
        assert_eq!(
            hidden,
            "contact 1 (site 1) a appelé du 06 11 11 11 11, puis écrit de [adresse] : le client attend."
        );
        // A number written in one piece is hidden as well.
        assert_eq!(
            anonymise("rappeler le +33611111111.", &[]),
            "rappeler le [numéro]."
        );
    }
}

/// INC-3, INC-4: the one in charge is warned before each deadline, once, and reminded before
/// each client update.
mod warnings {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::ticket::desk::{EventKind, Kind, Report, Source, Terms, Ticket};

    fn opened(priority: Priority) -> Ticket {
        let report = Report {
            client: Reference::parse("CLI-A").unwrap(),
            site: None,
            equipment: None,
            kind: Kind::Incident,
            source: Source::Phone,
            symptom: "Caméras du parc hors service".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm: None,
            topic: None,
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        // Monday 2 March 2026, 11:00 in Paris.
        let received = at("2026-03-02T10:00:00Z");
        Ticket::open(
            1,
            report,
            priority,
            &Policy::default_policy(),
            terms,
            received,
            None,
        )
        .unwrap()
        .0
    }

    fn warned(events: &[vigie_domain::ticket::desk::TicketEvent]) -> Vec<(SlaMeasure, i64, i64)> {
        events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::SlaWarning { timer, due } => Some((timer, due, e.at)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_deadline_is_warned_of_30_minutes_before_once_and_a_met_one_never() {
        let policy = Policy::default_policy();
        let mut ticket = opened(Priority::P2);
        // P2: take charge within 4 business hours, by 15:00; warned at 14:30.
        let due = at("2026-03-02T14:00:00Z");
        let warn = due - 30 * 60_000;
        // The ticket wakes for its warning.
        assert!(ticket.next_due().unwrap() <= warn);
        let events = ticket
            .on_time(&policy, warn - 1, &Default::default())
            .unwrap();
        assert!(warned(&events).is_empty());
        let events = ticket
            .on_time(&policy, warn + 5_000, &Default::default())
            .unwrap();
        assert_eq!(warned(&events), vec![(SlaMeasure::TakeCharge, due, warn)]);
        let events = ticket
            .on_time(&policy, warn + 10_000, &Default::default())
            .unwrap();
        assert!(warned(&events).is_empty(), "once");
        // Taken in charge before its warning: never warned.
        let mut early = opened(Priority::P2);
        let tech = Reference::parse("TECH-A").unwrap();
        early
            .act(&policy, Action::TakeCharge, &tech, warn - 60_000)
            .unwrap();
        let events = early
            .on_time(&policy, due + 1, &Default::default())
            .unwrap();
        assert!(
            !warned(&events)
                .iter()
                .any(|(timer, _, _)| *timer == SlaMeasure::TakeCharge),
            "{events:?}"
        );
        // A deadline passed while no one looked is breached, not warned of.
        let mut late = opened(Priority::P2);
        let events = late.on_time(&policy, due + 1, &Default::default()).unwrap();
        assert!(
            !warned(&events)
                .iter()
                .any(|(timer, _, _)| *timer == SlaMeasure::TakeCharge)
        );
        assert!(events.iter().any(|e| e.kind.key() == "sla_breached"));
    }

    #[test]
    fn inc_4_the_client_update_is_reminded_10_minutes_before_it_is_due() {
        let policy = Policy::default_policy();
        let mut ticket = opened(Priority::P1);
        let tech = Reference::parse("TECH-A").unwrap();
        let t0 = ticket.received_at;
        ticket
            .act(&policy, Action::TakeCharge, &tech, t0 + 60_000)
            .unwrap();
        let update = ticket.sla.dues()[&SlaMeasure::ClientUpdate];
        assert_eq!(update, t0 + 60_000 + 3_600_000);
        let events = ticket
            .on_time(&policy, update - 10 * 60_000, &Default::default())
            .unwrap();
        assert_eq!(
            warned(&events),
            vec![(SlaMeasure::ClientUpdate, update, update - 10 * 60_000)]
        );
        // The update given, the next one is reminded in its turn.
        ticket
            .update_client(&policy, "Diagnostic en cours", &tech, update - 5 * 60_000)
            .unwrap();
        let next = ticket.sla.dues()[&SlaMeasure::ClientUpdate];
        assert!(next > update);
        let events = ticket
            .on_time(&policy, next - 10 * 60_000, &Default::default())
            .unwrap();
        assert_eq!(
            warned(&events),
            vec![(SlaMeasure::ClientUpdate, next, next - 10 * 60_000)]
        );
    }
}

/// Issue 22's joints at the desk: one ticket per alarm across its escalation (NOT-7), a ticket
/// that follows its alarm's worsening (NOT-8), updates that reach the client (INC-4), and no
/// closure without the client's word or a reason (SAV-6).
mod joints {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::policy::Severity;
    use vigie_domain::ticket::desk::{
        DeskError, EventKind, Kind, Note, Report, Resolution, Source, Terms, Ticket,
    };

    const HOUR: i64 = 3_600_000;

    fn alarm_ticket(kind: Kind, priority: Priority, received: i64) -> Ticket {
        let report = Report {
            client: Reference::parse("CLI-A").unwrap(),
            site: Some(Reference::parse("SITE-A").unwrap()),
            equipment: Some(Reference::parse("NVR-1").unwrap()),
            kind,
            source: Source::Alarm,
            symptom: "Alarme Majeure n°7 : disque presque plein".into(),
            impact: None,
            stated_criticality: None,
            reporter: None,
            reply_to: None,
            alarm: Some(7),
            topic: None,
        };
        let terms = Terms {
            tier: ContractTier::Standard,
            round_the_clock: false,
        };
        Ticket::open(
            1,
            report,
            priority,
            &Policy::default_policy(),
            terms,
            received,
            None,
        )
        .unwrap()
        .0
    }

    #[test]
    fn not_7_an_escalation_is_recorded_on_the_alarms_ticket_which_becomes_an_intervention() {
        // Tuesday 3 March 2026, 14:05 Paris.
        let received = at("2026-03-03T13:05:00Z");
        let mut ticket = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        let events = ticket
            .alarm_escalated(
                7,
                "major/responsable-astreinte",
                Kind::Intervention,
                received + HOUR,
            )
            .unwrap();
        assert_eq!(ticket.report.kind, Kind::Intervention);
        assert_eq!(
            events[0].kind,
            EventKind::AlarmEscalated {
                alarm: 7,
                step: "major/responsable-astreinte".into(),
                from: Kind::Maintenance,
                to: Kind::Intervention,
            }
        );
        // A later step asking for a maintenance ticket never makes it one again.
        ticket
            .alarm_escalated(7, "major/autre", Kind::Maintenance, received + 2 * HOUR)
            .unwrap();
        assert_eq!(ticket.report.kind, Kind::Intervention);
    }

    #[test]
    fn not_8_a_ticket_follows_its_alarm_up_with_deadlines_from_the_upgrade() {
        let policy = Policy::default_policy();
        // Tuesday 3 March 2026, 09:05 Paris; the alarm becomes Critical at 17:05.
        let received = at("2026-03-03T08:05:00Z");
        let upgrade = at("2026-03-03T16:05:00Z");
        let mut ticket = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        let events = ticket
            .alarm_worsened(&policy, 7, Severity::Critical, upgrade)
            .unwrap();
        assert_eq!(ticket.priority, Priority::P1);
        assert!(matches!(
            &events[0].kind,
            EventKind::Requalified { from: Priority::P2, to: Priority::P1, reason } if reason.contains("n°7")
        ));
        // P1's hour to take charge counts from 17:05 (business hours: 55 minutes that day,
        // 5 the next morning), not from 09:05, which would already be past.
        let due = ticket.sla.dues()[&SlaMeasure::TakeCharge];
        assert_eq!(due, at("2026-03-04T07:05:00Z"));
        assert!(due > upgrade);
        // Never down, never twice.
        assert!(
            ticket
                .alarm_worsened(&policy, 7, Severity::Major, upgrade + 1)
                .unwrap()
                .is_empty()
        );
        assert!(
            ticket
                .alarm_worsened(&policy, 7, Severity::Critical, upgrade + 1)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn inc_4_an_update_is_a_text_for_the_client_never_a_bare_step() {
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let tech = Reference::parse("TECH-A").unwrap();
        let mut ticket = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        ticket
            .act(&policy, Action::TakeCharge, &tech, received + 60_000)
            .unwrap();
        assert!(matches!(
            ticket.act(&policy, Action::UpdateClient, &tech, received + 120_000),
            Err(DeskError::Invalid(_))
        ));
        assert!(matches!(
            ticket.update_client(&policy, "   ", &tech, received + 120_000),
            Err(DeskError::Invalid(_))
        ));
        let events = ticket
            .update_client(
                &policy,
                "Disque remplacé demain matin",
                &tech,
                received + 120_000,
            )
            .unwrap();
        assert!(events.iter().any(|e| matches!(
            &e.kind,
            EventKind::Noted { note: Note::Message { text, .. } } if text == "Disque remplacé demain matin"
        )));
        assert!(events.iter().any(|e| e.kind
            == EventKind::Action {
                action: Action::UpdateClient
            }));
    }

    #[test]
    fn sav_5_a_diagnosis_without_visit_waives_the_visit_deadlines_and_one_with_a_visit_keeps_them()
    {
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let tech = Reference::parse("TECH-A").unwrap();
        let diagnosis = |on_site_needed| Note::Diagnosis {
            checks: vec!["ping".into()],
            result: "Flux désactivé dans le VMS".into(),
            on_site_needed,
            parts: Vec::new(),
        };
        let mut visit = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        let events = visit
            .note(&policy, diagnosis(true), &tech, received + HOUR)
            .unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e.kind, EventKind::SlaWaived { .. }))
        );
        assert!(visit.sla.dues().contains_key(&SlaMeasure::OnSite));
        let mut remote = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        let events = remote
            .note(&policy, diagnosis(false), &tech, received + HOUR)
            .unwrap();
        assert!(events.iter().any(|e| e.kind
            == EventKind::SlaWaived {
                timer: SlaMeasure::OnSite
            }));
        assert!(!remote.sla.dues().contains_key(&SlaMeasure::OnSite));
        // Long after the visit deadline, nothing is breached.
        let later = remote
            .on_time(&policy, received + 30 * 24 * HOUR, &Default::default())
            .unwrap();
        assert!(
            !later.iter().any(|e| matches!(
                e.kind,
                EventKind::SlaBreached {
                    timer: SlaMeasure::OnSite,
                    ..
                }
            )),
            "{later:?}"
        );
    }

    #[test]
    fn cm_8_an_alarm_closed_with_its_parts_and_advice_gives_a_complete_intervention_report() {
        use vigie_domain::alarm::lifecycle::ClosureReport;
        use vigie_domain::ticket::report::{Names, intervention_report};
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let tech = Reference::parse("TECH-A").unwrap();
        let mut ticket = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        let mut events = ticket
            .alarm_taken_in_charge(&policy, &tech, received + HOUR)
            .unwrap();
        let report = ClosureReport {
            parts_replaced: vec!["Disque 8 To WD Purple".into()],
            recommendations: "Réduire la rétention à 21 jours".into(),
            ..ClosureReport::new(
                "Disque remplacé, grappe reconstruite",
                90,
                "Disque défaillant",
            )
        };
        events.extend(
            ticket
                .alarm_closed(&policy, 7, &report, &tech, received + 3 * HOUR, false)
                .unwrap(),
        );
        assert_eq!(ticket.status, Status::Resolved);
        let zone = vigie_domain::values::TimeZoneName::default();
        let document = intervention_report(
            &ticket,
            &events,
            Names {
                client: "Client A",
                site: Some("Site A"),
                equipment: Some("NVR 1"),
                zone: &zone,
                staff: &[],
            },
        );
        assert!(
            document.text.contains("Disque 8 To WD Purple"),
            "{}",
            document.text
        );
        assert!(
            document.text.contains("Réduire la rétention à 21 jours"),
            "{}",
            document.text
        );
        assert!(
            !document.text.contains("Aucune pièce remplacée"),
            "{}",
            document.text
        );
    }

    #[test]
    fn sav_6_no_closure_without_the_clients_word_a_reason_or_the_reminders_five_days() {
        let policy = Policy::default_policy();
        let received = at("2026-03-03T09:00:00Z");
        let tech = Reference::parse("TECH-A").unwrap();
        // Not even resolved: closing is refused without a reason.
        let mut new = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        assert!(matches!(
            new.act(&policy, Action::Close, &tech, received + 1),
            Err(DeskError::Conflict(_))
        ));
        assert_eq!(new.status, Status::New);
        // Resolved, the reminder not yet unanswered for 5 days: refused too.
        let mut ticket = alarm_ticket(Kind::Maintenance, Priority::P2, received);
        ticket
            .act(&policy, Action::TakeCharge, &tech, received + 60_000)
            .unwrap();
        ticket
            .resolve(
                &policy,
                Resolution {
                    root_cause: "Disque plein".into(),
                    actions: "Rétention réduite".into(),
                    intervention_minutes: 20,
                    data_impact: vigie_domain::ticket::desk::DataImpact {
                        footage_lost: false,
                        accesses_untracked: false,
                        description: String::new(),
                    },
                    parts_replaced: Vec::new(),
                    recommendations: String::new(),
                },
                &tech,
                received + HOUR,
            )
            .unwrap();
        assert_eq!(ticket.status, Status::Resolved);
        assert!(matches!(
            ticket.close(&policy, None, &tech, received + 2 * HOUR),
            Err(DeskError::Conflict(_))
        ));
        // With the client's word by phone, recorded: closed.
        let mut by_phone = ticket.clone();
        let events = by_phone
            .close(
                &policy,
                Some("Confirmé par téléphone par M. Martin le 03/03 à 12 h"),
                &tech,
                received + 3 * HOUR,
            )
            .unwrap();
        assert_eq!(by_phone.status, Status::Closed);
        assert!(matches!(
            &events[0].kind,
            EventKind::ClosedWithoutConfirmation { reason } if reason.contains("M. Martin")
        ));
        // Once the automatic closure's instant has passed, no reason is needed.
        let reminder = ticket
            .aftercare
            .closure_reminder_due
            .expect("la relance de clôture");
        ticket
            .on_time(&policy, reminder, &Default::default())
            .unwrap();
        let auto = ticket
            .aftercare
            .auto_close_due
            .expect("la clôture automatique");
        assert!(matches!(
            ticket.close(&policy, None, &tech, auto - 1),
            Err(DeskError::Conflict(_))
        ));
        ticket.close(&policy, None, &tech, auto).unwrap();
        assert_eq!(ticket.status, Status::Closed);
    }
}
