//! The policy's versions (issue 26, item 4): saved by the roles that may, numbered, kept
//! unchanged, listed newest first, the newest in force, each save audited.

use vigie_domain::inventory::StaffRole;
use vigie_store::policies::MAX_POLICY_BYTES;
use vigie_store::{AuditFilter, StoreError, System};

use crate::{conformance, staff};

conformance!(policy_versions_are_numbered_kept_and_audited);

const NOW: i64 = 1_795_428_000_000;

async fn policy_versions_are_numbered_kept_and_audited(store: System, _url: String) {
    assert_eq!(store.policy_in_force().await.unwrap(), None);
    assert_eq!(store.policy_version_number().await.unwrap(), 0);
    // The supervision team reads the policy, does not change it.
    let supervision = staff(&[StaffRole::Supervision]);
    assert!(matches!(
        store
            .save_policy(&supervision, "[alarm]\n", "", None, NOW)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let manager = staff(&[StaffRole::TechnicalManager]);
    let first = store
        .save_policy(&manager, "# un\n", "première", None, NOW)
        .await
        .unwrap();
    let second = store
        .save_policy(&manager, "# deux\n", "  seconde  ", None, NOW + 1)
        .await
        .unwrap();
    let third = store
        .save_policy(&manager, "# un\n", "retour", Some(first), NOW + 2)
        .await
        .unwrap();
    assert_eq!((first, second, third), (1, 2, 3));
    let in_force = store.policy_in_force().await.unwrap().unwrap();
    assert_eq!(in_force.version, 3);
    assert_eq!(in_force.restored_from, Some(1));
    assert_eq!(store.policy_version_number().await.unwrap(), 3);
    let listed = store.policy_versions(&supervision, None, 10).await.unwrap();
    let numbers: Vec<i64> = listed.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(listed[1].note, "seconde");
    assert_eq!(listed[1].text, "# deux\n");
    let page = store
        .policy_versions(&supervision, Some(3), 1)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|v| v.version).collect::<Vec<_>>(), [2]);
    // Bounded: a text too long is refused, nothing saved.
    let huge = "#".repeat(MAX_POLICY_BYTES + 1);
    assert!(matches!(
        store.save_policy(&manager, &huge, "", None, NOW).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.policy_version_number().await.unwrap(), 3);
    // A client never reads it.
    let client = crate::client_user("CLI-A");
    assert!(store.policy_versions(&client, None, 10).await.is_err());
    let audit = store
        .audit_trail(
            &crate::admin(),
            &AuditFilter {
                object_kind: Some("policy".into()),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
}
