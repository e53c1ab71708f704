//! Inventory through the store: import, re-import, refused imports, puts, deletes, pages.

use vigie_domain::inventory::check::KnownObjects;
use vigie_domain::inventory::file::{self, InventoryFile};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_store::System;
use vigie_store::{AuditFilter, ImportReport, ListFilter, Store, StoreError, WriteOutcome};

use crate::{NOW, TWO_CLIENTS, admin, conformance, example_fleet, parse, reference, seed};

conformance!(
    the_example_fleet_imports_and_reimports_as_a_no_op,
    a_broken_import_changes_nothing,
    export_then_import_changes_nothing,
    puts_are_checked_like_imports,
    deleting_what_others_refer_to_is_refused,
    lists_are_paged_by_reference,
    concurrent_writes_all_land,
);

async fn audit_count(store: &Store) -> usize {
    store
        .audit_trail(
            &admin(),
            &AuditFilter {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

async fn the_example_fleet_imports_and_reimports_as_a_no_op(store: System, _: String) {
    let parsed = InventoryFile::parse(&example_fleet()).unwrap();
    parsed
        .check(&store.known_objects(&admin()).await.unwrap())
        .unwrap();
    let total = parsed.inventory.len();
    let report = store
        .import(&admin(), &parsed.inventory, 1_000)
        .await
        .unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: total,
            updated: 0,
            unchanged: 0
        }
    );
    let counts = store.count_objects().await.unwrap();
    assert_eq!(
        counts[&ObjectKind::Equipment] as usize,
        parsed.inventory.equipment.len()
    );
    let audited = audit_count(&store).await;
    assert!(audited >= total.min(1000));

    // Re-importing the same file is a no-op: nothing written, nothing audited.
    parsed
        .check(&store.known_objects(&admin()).await.unwrap())
        .unwrap();
    let again = store
        .import(&admin(), &parsed.inventory, 2_000)
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportReport {
            created: 0,
            updated: 0,
            unchanged: total
        }
    );
    assert_eq!(audit_count(&store).await, audited);
}

async fn a_broken_import_changes_nothing(store: System, _: String) {
    seed(&store).await;
    let before = store.export(&admin()).await.unwrap();
    let audited = audit_count(&store).await;
    // A valid change followed by a bad reference: neither lands.
    let text = TWO_CLIENTS
        .replace(
            "name = \"Agence Paris\"",
            "name = \"Agence Paris renommée\"",
        )
        .replace("parent = \"B-SW-1\"", "parent = \"B-SW-404\"");
    let inventory = parse(&text);
    match store.import(&admin(), &inventory, NOW).await {
        Err(StoreError::Rejected(problems)) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].message.contains("B-SW-404"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(store.export(&admin()).await.unwrap(), before);
    assert_eq!(audit_count(&store).await, audited);
}

async fn export_then_import_changes_nothing(store: System, _: String) {
    seed(&store).await;
    let exported = file::write(&store.export(&admin()).await.unwrap());
    let parsed = InventoryFile::parse(&exported).unwrap();
    parsed
        .check(&store.known_objects(&admin()).await.unwrap())
        .unwrap();
    let report = store
        .import(&admin(), &parsed.inventory, NOW)
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 0));
    // Secrets survive the round trip for staff: the file is the integrator's own.
    assert!(exported.contains("s3cret"));
}

async fn puts_are_checked_like_imports(store: System, _: String) {
    seed(&store).await;
    let camera = store
        .get(&admin(), ObjectKind::Equipment, &reference("A-CAM-1"))
        .await
        .unwrap();
    let Record::Equipment(mut camera) = camera else {
        panic!()
    };
    assert_eq!(
        store
            .put(&admin(), Record::Equipment(camera.clone()), NOW)
            .await
            .unwrap(),
        WriteOutcome::Unchanged
    );

    // Moving it to the other client's site is refused.
    camera.site = reference("B-LYON");
    let refused = store
        .put(&admin(), Record::Equipment(camera.clone()), NOW)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );

    // A parent cycle is refused even when it goes through stored objects only.
    let Record::Equipment(mut switch) = store
        .get(&admin(), ObjectKind::Equipment, &reference("A-SW-1"))
        .await
        .unwrap()
    else {
        panic!()
    };
    switch.parent = Some(reference("A-CAM-1"));
    let refused = store.put(&admin(), Record::Equipment(switch), NOW).await;
    match refused {
        Err(StoreError::Rejected(problems)) => {
            assert!(problems[0].message.contains("cycle"), "{problems:?}")
        }
        other => panic!("{other:?}"),
    }

    // A real change lands and is audited with before and after, secrets redacted.
    camera.site = reference("A-PARIS");
    camera.firmware = Some(vigie_domain::values::Text::parse("10.12.1").unwrap());
    assert_eq!(
        store
            .put(&admin(), Record::Equipment(camera), NOW)
            .await
            .unwrap(),
        WriteOutcome::Updated
    );
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_ref: Some("A-CAM-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].after.as_ref().unwrap()["firmware"], "10.12.1");
    assert!(trail[0].before.as_ref().unwrap().get("firmware").is_none());
    assert_eq!(
        trail[0].after.as_ref().unwrap()["checks"]["onvif"]["password"],
        vigie_domain::inventory::REDACTED
    );
    assert_eq!(trail[0].client.as_deref(), Some("CLI-A"));
    let _ = KnownObjects::default();
}

async fn deleting_what_others_refer_to_is_refused(store: System, _: String) {
    seed(&store).await;
    let refused = store
        .delete(&admin(), ObjectKind::Equipment, &reference("A-SW-1"), NOW)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let refused = store
        .delete(&admin(), ObjectKind::Client, &reference("CLI-A"), NOW)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    store
        .delete(&admin(), ObjectKind::Equipment, &reference("A-CAM-1"), NOW)
        .await
        .unwrap();
    store
        .delete(&admin(), ObjectKind::Equipment, &reference("A-SW-1"), NOW)
        .await
        .unwrap();
    let missing = store
        .get(&admin(), ObjectKind::Equipment, &reference("A-SW-1"))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_ref: Some("A-SW-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail[0].action, vigie_domain::audit::AuditAction::Delete);
    assert!(trail[0].after.is_none() && trail[0].before.is_some());
}

async fn lists_are_paged_by_reference(store: System, _: String) {
    seed(&store).await;
    let first = store
        .list(
            &admin(),
            ObjectKind::Equipment,
            &ListFilter {
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let refs: Vec<String> = first.iter().map(|r| r.reference().to_string()).collect();
    assert_eq!(refs, ["A-CAM-1", "A-SW-1", "B-CAM-1"]);
    let next = store
        .list(
            &admin(),
            ObjectKind::Equipment,
            &ListFilter {
                limit: Some(3),
                after: Some(reference("B-CAM-1")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    let by_site = store
        .list(
            &admin(),
            ObjectKind::Equipment,
            &ListFilter {
                site: Some(reference("B-LYON")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_site.len(), 2);
    // Whatever the caller asks, a page has a bound.
    let huge = store
        .list(
            &admin(),
            ObjectKind::Equipment,
            &ListFilter {
                limit: Some(i64::MAX),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(huge.unwrap().len(), 4);
}

async fn concurrent_writes_all_land(store: System, _: String) {
    seed(&store).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let text = format!("[[equipment]]\nref = \"A-EXTRA-{i}\"\nsite = \"A-PARIS\"\nname = \"Caméra {i}\"\nkind = \"camera\"\nparent = \"A-SW-1\"\n");
            store.import(&admin(), &parse(&text), NOW).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store.count_objects().await.unwrap()[&ObjectKind::Equipment],
        20
    );
}
