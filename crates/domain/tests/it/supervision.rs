//! The one rule of supervision (SUP-1): how an observation moves a check's state, and the
//! arithmetic of time spent in each status (the basis of availability), as named cases and
//! properties.

use std::collections::BTreeMap;

use proptest::prelude::*;
use vigie_domain::Reference;
use vigie_domain::supervision::{
    CheckName, CheckState, CheckStatus, Effect, MetricName, Observation, Sample, expected_by,
    observe, overall, time_in_status,
};

fn seen(at: i64, status: Option<CheckStatus>) -> Observation {
    Observation {
        equipment: Reference::parse("CAM-1").unwrap(),
        check: CheckName::parse("ping").unwrap(),
        at,
        status,
        detail: None,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    }
}

#[test]
fn an_observation_refreshes_changes_or_is_stale() {
    let Effect::Changed(state, change) = observe(None, &seen(100, Some(CheckStatus::Up))) else {
        panic!()
    };
    assert_eq!(
        (state.since, state.last, change.from, change.to),
        (100, 100, None, CheckStatus::Up)
    );
    let Effect::Refreshed(refreshed) = observe(Some(&state), &seen(160, Some(CheckStatus::Up)))
    else {
        panic!()
    };
    assert_eq!((refreshed.since, refreshed.last), (100, 160));
    let Effect::Changed(down, change) =
        observe(Some(&refreshed), &seen(220, Some(CheckStatus::Down)))
    else {
        panic!()
    };
    assert_eq!((down.since, change.from), (220, Some(CheckStatus::Up)));
    // Older than what was taken into account: ignored for the state.
    assert_eq!(
        observe(Some(&down), &seen(150, Some(CheckStatus::Up))),
        Effect::Stale
    );
    // Measures only: no state.
    assert_eq!(observe(Some(&down), &seen(300, None)), Effect::NoStatus);
}

#[test]
fn names_and_bounds_are_checked_at_the_edge() {
    assert!(CheckName::parse("service:recorder").is_ok());
    assert!(CheckName::parse("Ping").is_err());
    assert!(CheckName::parse("").is_err());
    assert!(MetricName::parse("disk_used_percent:/srv/video").is_ok());
    assert!(MetricName::parse("température").is_err());
    let mut observation = seen(1, None);
    assert!(
        observation
            .validate()
            .unwrap_err()
            .to_string()
            .contains("vide")
    );
    observation.samples.push(Sample {
        name: MetricName::parse("x").unwrap(),
        value: f64::NAN,
    });
    assert!(observation.validate().is_err());
    observation.samples = vec![
        Sample {
            name: MetricName::parse("x").unwrap(),
            value: 1.0
        };
        1_001
    ];
    assert!(observation.validate().is_err());
    assert_eq!(expected_by(1_000, 60_000), 91_000);
    assert_eq!(
        overall([CheckStatus::Up, CheckStatus::Unknown]),
        Some(CheckStatus::Unknown)
    );
    assert_eq!(
        overall([CheckStatus::Unknown, CheckStatus::Down, CheckStatus::Up]),
        Some(CheckStatus::Down)
    );
    assert_eq!(overall([]), None);
}

#[test]
fn time_in_each_status_between_two_instants() {
    let changes = [
        (10, CheckStatus::Down),
        (25, CheckStatus::Unknown),
        (40, CheckStatus::Up),
    ];
    let totals = time_in_status(Some(CheckStatus::Up), &changes, 0, 100);
    assert_eq!(totals[&CheckStatus::Up], 10 + 60);
    assert_eq!(totals[&CheckStatus::Down], 15);
    assert_eq!(totals[&CheckStatus::Unknown], 15);
    // Before the first status nothing is counted.
    assert_eq!(
        time_in_status(None, &changes, 0, 20).get(&CheckStatus::Up),
        None
    );
}

fn status() -> impl Strategy<Value = CheckStatus> {
    prop_oneof![
        Just(CheckStatus::Up),
        Just(CheckStatus::Down),
        Just(CheckStatus::Unknown)
    ]
}

proptest! {
    /// The times in each status add up to the whole window once a status is known.
    #[test]
    fn times_add_up_to_the_window(initial in status(), mut changes in proptest::collection::vec((0i64..10_000, status()), 0..50), from in 0i64..5_000, length in 0i64..5_000) {
        changes.sort_by_key(|c| c.0);
        let to = from + length;
        let totals = time_in_status(Some(initial), &changes, from, to);
        prop_assert_eq!(totals.values().sum::<i64>(), length);
        prop_assert!(totals.values().all(|t| *t >= 0));
    }

    /// Replaying observations in order never moves a state back in time, and `since` only
    /// changes when the status does.
    #[test]
    fn states_only_move_forward(observations in proptest::collection::vec((0i64..1_000, status()), 1..100)) {
        let mut state: Option<CheckState> = None;
        for (at, status) in observations {
            match observe(state.as_ref(), &seen(at, Some(status))) {
                Effect::Stale => prop_assert!(at < state.as_ref().unwrap().last),
                Effect::Refreshed(next) => {
                    let before = state.unwrap();
                    prop_assert_eq!(next.since, before.since);
                    prop_assert!(next.last >= before.last);
                    state = Some(next);
                }
                Effect::Changed(next, change) => {
                    prop_assert_eq!(change.from, state.as_ref().map(|s| s.status));
                    prop_assert_eq!(next.since, at);
                    state = Some(next);
                }
                Effect::NoStatus => prop_assert!(false),
            }
        }
    }
}
