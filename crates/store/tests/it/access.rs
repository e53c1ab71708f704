//! X-2 in the data access layer: a client user sees its own objects and nothing of another
//! client's, not even their existence; writes need the right roles.

use vigie_domain::inventory::{ObjectKind, Record, StaffRole};
use vigie_store::{ListFilter, Store, StoreError};

use crate::{NOW, admin, client_user, conformance, reference, seed, staff};

conformance!(
    a_client_user_sees_only_its_own_client,
    writes_need_an_editor_role
);

async fn a_client_user_sees_only_its_own_client(store: Store, _: String) {
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

async fn writes_need_an_editor_role(store: Store, _: String) {
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
