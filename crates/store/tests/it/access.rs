//! X-2 in the data access layer: a client user sees its own objects and nothing of another
//! client's, not even their existence; a site probe's token sees its own site only; writes need
//! the right roles.

use std::collections::BTreeMap;

use vigie_domain::access::{TokenScope, TokenUse};
use vigie_domain::inventory::{ObjectKind, Record, StaffRole};
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};
use vigie_store::System;
use vigie_store::supervision::{Resolution, Scope};
use vigie_store::{ListFilter, StoreError};

use crate::{
    NOW, admin, client_user, conformance, probe_token, reference, seed, seed_three_sites, staff,
};

conformance!(
    a_client_user_sees_only_its_own_client,
    writes_need_an_editor_role,
    a_probe_token_sees_only_its_own_site,
    a_probe_token_reports_only_on_its_own_site,
);

async fn a_client_user_sees_only_its_own_client(store: System, _: String) {
    seed(&store).await;
    let alpha = client_user("CLI-A");
    for (kind, own, other) in [
        (ObjectKind::Client, "CLI-A", "CLI-B"),
        (ObjectKind::Contact, "A-RS", "B-RS"),
        (ObjectKind::Contract, "CTR-A", "CTR-B"),
        (ObjectKind::Site, "A-PARIS", "B-LYON"),
        (ObjectKind::Equipment, "A-CAM-1", "B-CAM-1"),
    ] {
        assert!(
            store.get(&alpha, kind, &reference(own)).await.is_ok(),
            "{kind} {own}"
        );
        // Another client's object and a non-existent one look exactly the same.
        assert!(
            matches!(
                store.get(&alpha, kind, &reference(other)).await,
                Err(StoreError::NotFound)
            ),
            "{kind} {other}"
        );
        assert!(matches!(
            store.get(&alpha, kind, &reference("NOPE")).await,
            Err(StoreError::NotFound)
        ));
        let listed = store
            .list(&alpha, kind, &ListFilter::default())
            .await
            .unwrap();
        assert!(!listed.is_empty());
        assert!(
            listed
                .iter()
                .all(|r| !r.reference().as_str().starts_with('B')
                    && r.reference().as_str() != "CLI-B"
                    && r.reference().as_str() != "CTR-B"),
            "{kind}: {listed:?}"
        );
        // Asking for the other client's objects by filter finds nothing either.
        if kind != ObjectKind::Client {
            let filtered = store
                .list(
                    &alpha,
                    kind,
                    &ListFilter {
                        client: Some(reference("CLI-B")),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(filtered.is_empty());
        }
    }
    let by_site = store
        .list(
            &alpha,
            ObjectKind::Equipment,
            &ListFilter {
                site: Some(reference("B-LYON")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(by_site.is_empty());
    // The integrator's staff list is not for clients.
    assert!(matches!(
        store
            .list(&alpha, ObjectKind::Staff, &ListFilter::default())
            .await,
        Err(StoreError::Forbidden(_))
    ));
    // Credentials are never shown to a client user.
    let Record::Equipment(camera) = store
        .get(&alpha, ObjectKind::Equipment, &reference("A-CAM-1"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(camera.checks.onvif.unwrap().password.is_none());
    // Its export holds its own objects only.
    let export = store.export(&alpha).await.unwrap();
    assert_eq!(export.clients.len(), 1);
    assert_eq!(export.equipment.len(), 2);
    assert!(export.staff.is_empty());
}

async fn writes_need_an_editor_role(store: System, _: String) {
    seed(&store).await;
    let site = store
        .get(&admin(), ObjectKind::Site, &reference("A-PARIS"))
        .await
        .unwrap();
    for actor in [client_user("CLI-A"), staff(&[StaffRole::Technician])] {
        assert!(matches!(
            store.put(&actor, site.clone(), NOW).await,
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            store
                .delete(&actor, ObjectKind::Equipment, &reference("A-CAM-1"), NOW)
                .await,
            Err(StoreError::Forbidden(_))
        ));
    }
    assert!(
        store
            .put(&staff(&[StaffRole::Supervision]), site, NOW)
            .await
            .is_ok()
    );
}

/// A site probe's token sees its one site and the equipment there (with the credentials it needs
/// to check them), nothing of another site of the same client or of another client, none of the
/// client's other records, no trap, whatever the staff member holding it may see.
async fn a_probe_token_sees_only_its_own_site(store: System, _: String) {
    seed_three_sites(&store).await;
    let probe = probe_token("CLI-A", "A-PARIS");
    assert!(
        store
            .get(&probe, ObjectKind::Site, &reference("A-PARIS"))
            .await
            .is_ok()
    );
    let Record::Equipment(camera) = store
        .get(&probe, ObjectKind::Equipment, &reference("A-CAM-1"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        camera.checks.onvif.unwrap().password.as_deref(),
        Some("s3cret"),
        "a probe logs in to its equipment"
    );
    // Another site of the same client, another client's, one that does not exist: all alike.
    for (kind, other) in [
        (ObjectKind::Site, "A-LYON"),
        (ObjectKind::Site, "B-LYON"),
        (ObjectKind::Site, "NOPE"),
        (ObjectKind::Equipment, "A-LYON-CAM-1"),
        (ObjectKind::Equipment, "B-CAM-1"),
        (ObjectKind::Equipment, "NOPE"),
    ] {
        assert!(
            matches!(
                store.get(&probe, kind, &reference(other)).await,
                Err(StoreError::NotFound)
            ),
            "{kind} {other}"
        );
    }
    let refs = |records: Vec<Record>| -> Vec<String> {
        records.iter().map(|r| r.reference().to_string()).collect()
    };
    let list = |kind: ObjectKind, filter: ListFilter| {
        let (store, probe) = (store.clone(), probe.clone());
        async move { store.list(&probe, kind, &filter).await }
    };
    assert_eq!(
        refs(list(ObjectKind::Site, ListFilter::default()).await.unwrap()),
        ["A-PARIS"]
    );
    assert_eq!(
        refs(
            list(ObjectKind::Equipment, ListFilter::default())
                .await
                .unwrap()
        ),
        ["A-CAM-1", "A-SW-1"]
    );
    for filter in [
        ListFilter {
            site: Some(reference("A-LYON")),
            ..Default::default()
        },
        ListFilter {
            site: Some(reference("B-LYON")),
            ..Default::default()
        },
        ListFilter {
            client: Some(reference("CLI-B")),
            ..Default::default()
        },
    ] {
        assert!(
            list(ObjectKind::Equipment, filter.clone())
                .await
                .unwrap()
                .is_empty(),
            "{filter:?}"
        );
    }
    // The client's records (contacts are personal data), contracts and the staff: refused
    // outright, existing or not, which says nothing of what exists.
    for (kind, own) in [
        (ObjectKind::Client, "CLI-A"),
        (ObjectKind::Contact, "A-RS"),
        (ObjectKind::Contract, "CTR-A"),
        (ObjectKind::Staff, "ST-TECH"),
    ] {
        assert!(
            matches!(
                list(kind, ListFilter::default()).await,
                Err(StoreError::Forbidden(_))
            ),
            "{kind}"
        );
        for reference in [reference(own), reference("NOPE")] {
            assert!(
                matches!(
                    store.get(&probe, kind, &reference).await,
                    Err(StoreError::Forbidden(_))
                ),
                "{kind} {reference}"
            );
        }
    }
    let export = store.export(&probe).await.unwrap();
    assert_eq!(
        (
            export.clients.len(),
            export.contacts.len(),
            export.contracts.len(),
            export.staff.len(),
            export.sites.len(),
            export.equipment.len()
        ),
        (0, 0, 0, 0, 1, 2)
    );
    // Supervision reads stay inside the site too.
    for scope in [
        Scope::Site(reference("A-LYON")),
        Scope::Site(reference("B-LYON")),
        Scope::Equipment(reference("A-LYON-CAM-1")),
        Scope::Equipment(reference("B-CAM-1")),
    ] {
        assert!(
            matches!(
                store.current_states(&probe, &scope).await,
                Err(StoreError::NotFound)
            ),
            "{scope:?}"
        );
        assert!(matches!(
            store
                .state_changes(&probe, &scope, 0, i64::MAX, None, 10)
                .await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(
        store
            .current_states(&probe, &Scope::Site(reference("A-PARIS")))
            .await
            .is_ok()
    );
    assert!(matches!(
        store.traps(&probe, false, 10).await,
        Err(StoreError::Forbidden(_))
    ));
    // Bound to A-PARIS of another client (a site deleted and created again under the same
    // reference): it sees nothing.
    let stale = probe_token("CLI-B", "A-PARIS");
    assert!(matches!(
        store
            .get(&stale, ObjectKind::Site, &reference("A-PARIS"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .list(&stale, ObjectKind::Equipment, &ListFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A site probe's token records observations of its own site's equipment only: the others are
/// reported as unknown and nothing of them is written; it reports as a probe of its own site
/// only, and cannot take over the name of another site's probe.
async fn a_probe_token_reports_only_on_its_own_site(store: System, _: String) {
    seed_three_sites(&store).await;
    let probe = probe_token("CLI-A", "A-PARIS");
    let observation = |equipment: &str| Observation {
        equipment: reference(equipment),
        check: CheckName::parse("ping").unwrap(),
        at: NOW,
        status: Some(CheckStatus::Down),
        detail: None,
        samples: vec![Sample {
            name: MetricName::parse("rtt_ms").unwrap(),
            value: 1.0,
        }],
        facts: BTreeMap::new(),
    };
    let batch = ["A-CAM-1", "A-LYON-CAM-1", "B-CAM-1", "NOPE"].map(observation);
    let report = store
        .record_observations(&probe, Some(("probe:sonde-paris", 1)), &batch, NOW)
        .await
        .unwrap();
    assert_eq!((report.accepted, report.samples), (1, 1));
    let unknown: Vec<&str> = report
        .unknown_equipment
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(unknown, ["A-LYON-CAM-1", "B-CAM-1", "NOPE"]);
    for (equipment, written) in [("A-CAM-1", 1), ("A-LYON-CAM-1", 0), ("B-CAM-1", 0)] {
        let scope = Scope::Equipment(reference(equipment));
        assert_eq!(
            store.current_states(&admin(), &scope).await.unwrap().len(),
            written,
            "{equipment}"
        );
        assert_eq!(
            store
                .state_changes(&admin(), &scope, 0, i64::MAX, None, 10)
                .await
                .unwrap()
                .len(),
            written,
            "{equipment}"
        );
        let samples = store
            .samples(
                &admin(),
                &reference(equipment),
                &MetricName::parse("rtt_ms").unwrap(),
                0,
                i64::MAX,
                Resolution::Raw,
            )
            .await
            .unwrap();
        assert_eq!(samples.len(), written, "{equipment}");
    }
    // The same batch again is still taken once.
    let again = store
        .record_observations(&probe, Some(("probe:sonde-paris", 1)), &batch, NOW)
        .await
        .unwrap();
    assert!(again.duplicate && again.unknown_equipment.is_empty());

    // Its own identity.
    store
        .probe_seen(&probe, "sonde-paris", &reference("A-PARIS"), 60_000, NOW)
        .await
        .unwrap();
    // Another site's, of the same client or not, existing or not: refused, nothing written.
    for site in ["A-LYON", "B-LYON", "NOPE"] {
        assert!(
            matches!(
                store.check_probe(&probe, "sonde-x", &reference(site)).await,
                Err(StoreError::Forbidden(_))
            ),
            "{site}"
        );
        assert!(matches!(
            store
                .probe_seen(&probe, "sonde-x", &reference(site), 60_000, NOW)
                .await,
            Err(StoreError::Forbidden(_))
        ));
    }
    // The name of another client's probe, claimed for its own site: refused, and that probe
    // stays where it is (its lost-link watch with it).
    store
        .probe_seen(
            &staff_agent(),
            "sonde-lyon",
            &reference("B-LYON"),
            60_000,
            NOW,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .check_probe(&probe, "sonde-lyon", &reference("A-PARIS"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .probe_seen(&probe, "sonde-lyon", &reference("A-PARIS"), 60_000, NOW + 1)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let probes: Vec<(String, String, Option<i64>)> = store
        .probes(&admin())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.site, p.last))
        .collect();
    assert_eq!(
        probes,
        [
            ("sonde-lyon".into(), "B-LYON".into(), Some(NOW)),
            ("sonde-paris".into(), "A-PARIS".into(), Some(NOW))
        ]
    );
    // And it lists its own site's probes only.
    let seen: Vec<String> = store
        .probes(&probe)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(seen, ["sonde-paris"]);
}

/// An agent token of the staff, which sees everything (the server's own pushes, a probe before
/// tokens had sites).
fn staff_agent() -> vigie_domain::access::Actor {
    let mut actor = staff(&[StaffRole::Administrator]);
    actor.token = Some(TokenUse {
        id: "agent".into(),
        scope: TokenScope::Agent,
        site: None,
    });
    actor
}
