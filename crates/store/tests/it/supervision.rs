//! Supervision in the store (SUP-1…SUP-3): observations through the one entry point, state
//! changes only when the status moves, batches taken once, the watchdog for heartbeats and site
//! probes (a lost probe makes its equipment unknown, not down), samples rolled up by the hour
//! with retention, traps kept even when unknown, and client walls on every read.

use std::collections::BTreeMap;

use vigie_domain::access::{Actor, TokenScope, TokenUse};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};
use vigie_store::StoreError;
use vigie_store::System;
use vigie_store::supervision::{Resolution, Retention, Scope, TrapRecord};

use crate::{NOW, admin, client_user, conformance, probe_token, reference, seed, staff};

conformance!(
    observations_move_states_and_history,
    a_batch_sent_twice_is_taken_once,
    a_missing_heartbeat_is_an_observation,
    a_silent_probe_makes_its_site_unknown_not_down,
    samples_roll_up_by_the_hour_and_expire,
    traps_are_kept_even_unknown,
    supervision_reads_stay_inside_the_client,
    concurrent_pushes_are_committed_together_each_once,
    grouped_pushes_are_each_credited_with_the_samples_they_added,
    sample_values_are_stored_exactly,
);

async fn sample_values_are_stored_exactly(store: System, _: String) {
    seed(&store).await;
    // Values awkward in decimal, both ways of writing them (bulk rows travel as JSON text).
    let values = [
        0.1,
        1.0 / 3.0,
        -2.5e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        123_456_789.123_456_79,
        42.0,
        9_007_199_254_740_993.0,
    ];
    let batch: Vec<Observation> = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            with_sample(
                seen("A-SW-1", "agent", NOW + i as i64 * MINUTE, None),
                "exact",
                *value,
            )
        })
        .collect();
    store
        .record_observations(&agent_token(), None, &batch, NOW)
        .await
        .unwrap();
    let points = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &MetricName::parse("exact").unwrap(),
            NOW,
            NOW + 10 * MINUTE,
            Resolution::Raw,
        )
        .await
        .unwrap();
    let stored: Vec<u64> = points.iter().map(|p| p.value.to_bits()).collect();
    let sent: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(stored, sent);
}

async fn grouped_pushes_are_each_credited_with_the_samples_they_added(store: System, _: String) {
    seed(&store).await;
    let actor = agent_token();
    // 60 unnumbered pushes at once (grouped into shared transactions): each carries one sample
    // of its own and one that all share (same equipment, metric and instant), and every other
    // one names an equipment that does not exist. The shared sample is credited once, to
    // one push only, and unknown equipment fails nobody.
    let mut handles = Vec::new();
    for i in 0..60i64 {
        let (store, actor) = (store.clone(), actor.clone());
        handles.push(tokio::spawn(async move {
            let mut batch = vec![
                with_sample(
                    seen("A-SW-1", "agent", NOW + (10 + i) * MINUTE, None),
                    "own",
                    i as f64,
                ),
                with_sample(seen("A-SW-1", "agent", NOW, None), "shared", 1.0),
            ];
            if i % 2 == 1 {
                batch.push(with_sample(seen("NOPE-1", "agent", NOW, None), "own", 0.0));
            }
            let report = store
                .record_observations(&actor, None, &batch, NOW)
                .await
                .unwrap();
            (i, report)
        }));
    }
    let mut credited = Vec::new();
    for handle in handles {
        let (i, report) = handle.await.unwrap();
        assert_eq!(report.accepted, 2);
        assert_eq!(report.unknown_equipment.len(), usize::from(i % 2 == 1));
        credited.push(report.samples);
    }
    assert_eq!(credited.iter().sum::<usize>(), 61);
    assert_eq!(credited.iter().filter(|&&n| n == 2).count(), 1);
    let shared = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &MetricName::parse("shared").unwrap(),
            NOW,
            NOW + 1,
            Resolution::Raw,
        )
        .await
        .unwrap();
    assert_eq!(shared.len(), 1);
}

async fn concurrent_pushes_are_committed_together_each_once(store: System, _: String) {
    seed(&store).await;
    let actor = agent_token();
    // 100 pushes at once, each sent twice: grouped into shared transactions, each taken once.
    let mut handles = Vec::new();
    for i in 0..200i64 {
        let (store, actor) = (store.clone(), actor.clone());
        handles.push(tokio::spawn(async move {
            let sequence = i % 100;
            let batch = [with_sample(
                seen(
                    "A-SW-1",
                    "agent",
                    NOW + sequence * MINUTE,
                    Some(CheckStatus::Up),
                ),
                "cpu_percent",
                sequence as f64,
            )];
            store
                .record_observations(&actor, Some(("agent:A-SW-1", sequence)), &batch, NOW)
                .await
                .unwrap()
        }));
    }
    let mut taken = 0;
    let mut duplicates = 0;
    for handle in handles {
        let report = handle.await.unwrap();
        if report.duplicate {
            duplicates += 1
        } else {
            taken += report.samples
        }
    }
    assert_eq!((taken, duplicates), (100, 100));
    let points = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &MetricName::parse("cpu_percent").unwrap(),
            NOW,
            NOW + 100 * MINUTE,
            Resolution::Raw,
        )
        .await
        .unwrap();
    assert_eq!(points.len(), 100);
}

fn agent_token() -> Actor {
    let mut actor = staff(&[vigie_domain::inventory::StaffRole::Administrator]);
    actor.token = Some(TokenUse {
        id: "t1".into(),
        scope: TokenScope::Agent,
        site: None,
    });
    actor
}

fn seen(equipment: &str, check: &str, at: i64, status: Option<CheckStatus>) -> Observation {
    Observation {
        equipment: reference(equipment),
        check: CheckName::parse(check).unwrap(),
        at,
        status,
        detail: None,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    }
}

fn with_sample(mut observation: Observation, name: &str, value: f64) -> Observation {
    observation.samples.push(Sample {
        name: MetricName::parse(name).unwrap(),
        value,
    });
    observation
}

const MINUTE: i64 = 60_000;

async fn observations_move_states_and_history(store: System, _: String) {
    seed(&store).await;
    let actor = agent_token();
    let cam = || Scope::Equipment(reference("A-CAM-1"));
    let batch = [
        seen("A-CAM-1", "ping", NOW, Some(CheckStatus::Up)),
        seen("A-CAM-1", "ping", NOW + MINUTE, Some(CheckStatus::Up)),
        seen("A-CAM-1", "ping", NOW + 2 * MINUTE, Some(CheckStatus::Down)),
        seen("A-CAM-1", "rtsp", NOW + 2 * MINUTE, Some(CheckStatus::Up)),
        seen("NOPE", "ping", NOW, Some(CheckStatus::Up)),
    ];
    let report = store
        .record_observations(&actor, None, &batch, NOW + 3 * MINUTE)
        .await
        .unwrap();
    assert_eq!(report.accepted, 4);
    assert_eq!(report.unknown_equipment.len(), 1);
    // First status of ping, then up→down, first status of rtsp: three changes, not five.
    assert_eq!(report.changes.len(), 3);
    let history = store
        .state_changes(&admin(), &cam(), NOW - MINUTE, NOW + 10 * MINUTE, None, 100)
        .await
        .unwrap();
    let moves: Vec<(i64, Option<CheckStatus>, CheckStatus)> = history
        .iter()
        .map(|c| (c.change.at - NOW, c.change.from, c.change.to))
        .collect();
    assert_eq!(
        moves,
        vec![
            (0, None, CheckStatus::Up),
            (2 * MINUTE, Some(CheckStatus::Up), CheckStatus::Down),
            (2 * MINUTE, None, CheckStatus::Up)
        ]
    );
    assert_eq!(history[0].site, "A-PARIS");

    // A late observation does not move the state back in time.
    let late = store
        .record_observations(
            &actor,
            None,
            &[seen(
                "A-CAM-1",
                "ping",
                NOW + MINUTE / 2,
                Some(CheckStatus::Up),
            )],
            NOW + 4 * MINUTE,
        )
        .await
        .unwrap();
    assert_eq!((late.stale, late.changes.len()), (1, 0));
    let states = store.current_states(&admin(), &cam()).await.unwrap();
    let ping = states.iter().find(|s| s.check == "ping").unwrap();
    assert_eq!(
        (ping.state.status, ping.state.since),
        (CheckStatus::Down, NOW + 2 * MINUTE)
    );

    // People do not push observations; only agent and probe tokens do.
    assert!(matches!(
        store
            .record_observations(
                &staff(&[vigie_domain::inventory::StaffRole::Administrator]),
                None,
                &batch,
                NOW
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
    // A batch over its bound is refused whole.
    let flood = vec![
        seen("A-CAM-1", "ping", NOW, Some(CheckStatus::Up));
        vigie_store::supervision::MAX_OBSERVATIONS_PER_BATCH + 1
    ];
    assert!(matches!(
        store.record_observations(&actor, None, &flood, NOW).await,
        Err(StoreError::Invalid(_))
    ));
    // An observation with nothing in it is refused, and nothing of the batch is written.
    let empty = seen("A-CAM-1", "ping", NOW + 5 * MINUTE, None);
    let refused = store
        .record_observations(
            &actor,
            None,
            &[
                seen("A-CAM-1", "ping", NOW + 5 * MINUTE, Some(CheckStatus::Up)),
                empty,
            ],
            NOW,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let states = store.current_states(&admin(), &cam()).await.unwrap();
    assert_eq!(
        states
            .iter()
            .find(|s| s.check == "ping")
            .unwrap()
            .state
            .status,
        CheckStatus::Down
    );
}

async fn a_batch_sent_twice_is_taken_once(store: System, _: String) {
    seed(&store).await;
    let actor = agent_token();
    let batch = [with_sample(
        seen("A-SW-1", "agent", NOW, Some(CheckStatus::Up)),
        "cpu_percent",
        12.5,
    )];
    let first = store
        .record_observations(&actor, Some(("agent:A-SW-1", 7)), &batch, NOW)
        .await
        .unwrap();
    assert_eq!((first.duplicate, first.samples), (false, 1));
    let again = store
        .record_observations(&actor, Some(("agent:A-SW-1", 7)), &batch, NOW + 1)
        .await
        .unwrap();
    assert!(again.duplicate);
    // Even without a batch number, the same sample is stored once.
    let unnumbered = store
        .record_observations(&actor, None, &batch, NOW + 2)
        .await
        .unwrap();
    assert_eq!(unnumbered.samples, 0);
    let points = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &MetricName::parse("cpu_percent").unwrap(),
            NOW - 1,
            NOW + 1,
            Resolution::Raw,
        )
        .await
        .unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].value, 12.5);
}

async fn a_missing_heartbeat_is_an_observation(store: System, _: String) {
    seed(&store).await;
    let Record::Equipment(mut camera) = store
        .get(&admin(), ObjectKind::Equipment, &reference("B-CAM-1"))
        .await
        .unwrap()
    else {
        panic!()
    };
    camera.checks.heartbeat = Some(vigie_domain::inventory::HeartbeatCheck {
        interval: vigie_domain::values::DurationSpec::parse("2m").unwrap(),
    });
    store
        .put(&admin(), Record::Equipment(camera), NOW)
        .await
        .unwrap();
    let actor = agent_token();
    store
        .record_observations(
            &actor,
            None,
            &[seen("B-CAM-1", "heartbeat", NOW, Some(CheckStatus::Up))],
            NOW,
        )
        .await
        .unwrap();
    let scope = Scope::Equipment(reference("B-CAM-1"));
    let state = store
        .current_states(&admin(), &scope)
        .await
        .unwrap()
        .remove(0);
    // Expected again within the interval and a half.
    assert_eq!(state.expect_by, Some(NOW + 3 * MINUTE));
    assert!(
        store
            .watchdog_step(NOW + 3 * MINUTE - 1)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    let report = store.watchdog_step(NOW + 3 * MINUTE).await.unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].to, CheckStatus::Down);
    assert!(
        report.changes[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("battement"),
        "{:?}",
        report.changes[0]
    );
    // Fired once, not at every step.
    assert!(
        store
            .watchdog_step(NOW + 10 * MINUTE)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    // The next heartbeat brings it back up.
    let back = store
        .record_observations(
            &actor,
            None,
            &[seen(
                "B-CAM-1",
                "heartbeat",
                NOW + 11 * MINUTE,
                Some(CheckStatus::Up),
            )],
            NOW + 11 * MINUTE,
        )
        .await
        .unwrap();
    assert_eq!(back.changes[0].to, CheckStatus::Up);
}

async fn a_silent_probe_makes_its_site_unknown_not_down(store: System, _: String) {
    seed(&store).await;
    let probe = probe_token("CLI-A", "A-PARIS");
    store
        .probe_seen(&probe, "sonde-paris", &reference("A-PARIS"), MINUTE, NOW)
        .await
        .unwrap();
    store
        .record_observations(
            &probe,
            None,
            &[seen("A-CAM-1", "ping", NOW, Some(CheckStatus::Up))],
            NOW,
        )
        .await
        .unwrap();
    // Another site's equipment, checked by the server itself.
    store
        .record_observations(
            &agent_token(),
            None,
            &[seen("B-CAM-1", "ping", NOW, Some(CheckStatus::Up))],
            NOW,
        )
        .await
        .unwrap();
    assert!(
        store
            .watchdog_step(NOW + MINUTE)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    let report = store.watchdog_step(NOW + 2 * MINUTE).await.unwrap();
    // Only the probe's site; unknown from just after its last report.
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    assert_eq!(
        (
            report.changes[0].equipment.as_str(),
            report.changes[0].to,
            report.changes[0].at
        ),
        ("A-CAM-1", CheckStatus::Unknown, NOW + 1)
    );
    let probes = store.probes(&admin()).await.unwrap();
    assert_eq!(probes[0].link, "lost");
    // Backfilled observations from during the outage still count: the camera was down.
    let backfill = store
        .record_observations(
            &probe,
            None,
            &[seen(
                "A-CAM-1",
                "ping",
                NOW + MINUTE,
                Some(CheckStatus::Down),
            )],
            NOW + 5 * MINUTE,
        )
        .await
        .unwrap();
    assert_eq!(backfill.changes[0].from, Some(CheckStatus::Unknown));
    store
        .probe_seen(
            &probe,
            "sonde-paris",
            &reference("A-PARIS"),
            MINUTE,
            NOW + 5 * MINUTE,
        )
        .await
        .unwrap();
    assert_eq!(store.probes(&admin()).await.unwrap()[0].link, "up");
    // The probe of another client's site is invisible to this client.
    assert!(
        store
            .probes(&client_user("CLI-B"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.probes(&client_user("CLI-A")).await.unwrap().len(), 1);
}

async fn samples_roll_up_by_the_hour_and_expire(store: System, _: String) {
    seed(&store).await;
    let actor = agent_token();
    let hour = 3_600_000;
    let start = NOW - NOW % hour; // an hour boundary
    let metric = MetricName::parse("disk_used_percent:/srv").unwrap();
    let observations: Vec<Observation> = (0..120)
        .map(|i| {
            with_sample(
                seen("A-SW-1", "agent", start + i * MINUTE, None),
                metric.as_str(),
                i as f64,
            )
        })
        .collect();
    store
        .record_observations(&actor, None, &observations, start)
        .await
        .unwrap();
    store
        .roll_up_and_prune(start + 3 * hour, Retention::default(), 1000)
        .await
        .unwrap();
    let hourly = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &metric,
            start,
            start + 3 * hour,
            Resolution::Hourly,
        )
        .await
        .unwrap();
    assert_eq!(hourly.len(), 2);
    assert_eq!(
        (hourly[0].value, hourly[0].min, hourly[0].max),
        (29.5, Some(0.0), Some(59.0))
    );
    assert_eq!(
        (hourly[1].value, hourly[1].min, hourly[1].max),
        (89.5, Some(60.0), Some(119.0))
    );
    // A late sample of a rolled-up hour (a backfill) is counted in its hour.
    store
        .record_observations(
            &actor,
            None,
            &[with_sample(
                seen("A-SW-1", "agent", start + 30 * MINUTE + 1, None),
                metric.as_str(),
                1000.0,
            )],
            start + 3 * hour,
        )
        .await
        .unwrap();
    let hourly = store
        .samples(
            &admin(),
            &reference("A-SW-1"),
            &metric,
            start,
            start + hour,
            Resolution::Hourly,
        )
        .await
        .unwrap();
    assert_eq!(hourly[0].max, Some(1000.0));
    // Past the raw retention, raw samples go and the hours stay.
    let later = start + Retention::default().raw_ms + 3 * hour;
    store
        .roll_up_and_prune(later, Retention::default(), 1_000_000)
        .await
        .unwrap();
    assert!(
        store
            .samples(
                &admin(),
                &reference("A-SW-1"),
                &metric,
                start,
                start + 3 * hour,
                Resolution::Raw
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .samples(
                &admin(),
                &reference("A-SW-1"),
                &metric,
                start,
                start + 3 * hour,
                Resolution::Hourly
            )
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn traps_are_kept_even_unknown(store: System, _: String) {
    seed(&store).await;
    let known = TrapRecord {
        id: 0,
        received: NOW,
        source: "192.0.2.10:162".into(),
        version: "2c".into(),
        sender: Some("public".into()),
        trap_oid: Some("1.3.6.1.4.1.99999.0.1".into()),
        equipment: Some("A-SW-1".into()),
        check: Some("snmp.power_supply".into()),
        error: None,
        varbinds: vec![("1.3.6.1.2.1.1.3.0".into(), "12345".into())],
    };
    store.record_trap(&known).await.unwrap();
    let garbage = TrapRecord {
        trap_oid: None,
        equipment: None,
        check: None,
        error: Some("paquet illisible".into()),
        varbinds: vec![],
        ..known.clone()
    };
    store.record_trap(&garbage).await.unwrap();
    let all = store.traps(&admin(), false, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    let unknown = store.traps(&admin(), true, 10).await.unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].error.as_deref(), Some("paquet illisible"));
    assert!(matches!(
        store.traps(&client_user("CLI-A"), false, 10).await,
        Err(StoreError::Forbidden(_))
    ));
    // A trap's source address names its equipment, and follows changes of the inventory.
    assert_eq!(
        store.equipment_by_address("192.0.2.10").await.unwrap(),
        None
    );
    let Record::Equipment(mut switch) = store
        .get(&admin(), ObjectKind::Equipment, &reference("A-SW-1"))
        .await
        .unwrap()
    else {
        panic!()
    };
    switch.address = Some(vigie_domain::values::Text::parse("192.0.2.10").unwrap());
    store
        .put(&admin(), Record::Equipment(switch.clone()), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .equipment_by_address("192.0.2.10")
            .await
            .unwrap()
            .unwrap()
            .reference
            .as_str(),
        "A-SW-1"
    );
    switch.address = Some(vigie_domain::values::Text::parse("192.0.2.11").unwrap());
    store
        .put(&admin(), Record::Equipment(switch), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.equipment_by_address("192.0.2.10").await.unwrap(),
        None
    );
}

async fn supervision_reads_stay_inside_the_client(store: System, _: String) {
    seed(&store).await;
    store
        .record_observations(
            &agent_token(),
            None,
            &[with_sample(
                seen("B-CAM-1", "ping", NOW, Some(CheckStatus::Up)),
                "rtt_ms",
                1.0,
            )],
            NOW,
        )
        .await
        .unwrap();
    let alpha = client_user("CLI-A");
    let beta = client_user("CLI-B");
    let metric = MetricName::parse("rtt_ms").unwrap();
    for scope in [
        Scope::Equipment(reference("B-CAM-1")),
        Scope::Site(reference("B-LYON")),
    ] {
        assert!(matches!(
            store.current_states(&alpha, &scope).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .state_changes(&alpha, &scope, 0, i64::MAX, None, 10)
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.current_states(&beta, &scope).await.unwrap().len(), 1);
        assert_eq!(
            store
                .state_changes(&beta, &scope, 0, i64::MAX, None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    assert!(matches!(
        store
            .samples(
                &alpha,
                &reference("B-CAM-1"),
                &metric,
                0,
                i64::MAX,
                Resolution::Raw
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .samples(
                &beta,
                &reference("B-CAM-1"),
                &metric,
                0,
                i64::MAX,
                Resolution::Raw
            )
            .await
            .unwrap()
            .len(),
        1
    );
}
