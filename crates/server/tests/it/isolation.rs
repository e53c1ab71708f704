//! a client user sees only its own client. Every inventory object of every other client,
//! through every endpoint, answers 404 exactly as an object that does not exist.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_store::UserKind;

use crate::TestApp;

#[tokio::test]
async fn a_client_user_gets_404_for_every_object_of_another_client_through_every_endpoint() {
    let app = TestApp::spawn().await;
    let inventory = app.import_fleet().await;
    let own = inventory.clients[0].reference.clone();
    let session = app
        .login_as("securite.client", UserKind::Client, Some(own.as_str()), &[])
        .await;

    // Which client each object belongs to.
    let site_client: BTreeMap<_, _> = inventory
        .sites
        .iter()
        .map(|s| (s.reference.clone(), s.client.clone()))
        .collect();
    let mut owned: Vec<(ObjectKind, Record, vigie_domain::Reference)> = Vec::new();
    for record in inventory.records() {
        let client = match &record {
            Record::Staff(_) => continue,
            Record::Equipment(e) => site_client[&e.site].clone(),
            other => other.direct_client().unwrap().clone(),
        };
        owned.push((record.kind(), record, client));
    }
    assert!(
        owned.iter().any(|(_, _, c)| *c != own),
        "the fleet has other clients"
    );

    let absent = session.get("/api/v1/sites/N-EXISTE-PAS").await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    let mut checked = 0;
    for (kind, record, client) in &owned {
        let path = format!(
            "/api/v1/{}/{}",
            vigie_server::api::collection(*kind),
            record.reference()
        );
        if *client == own {
            assert_eq!(session.get(&path).await.status, StatusCode::OK, "{path}");
            // Its own objects are readable, not writable.
            assert_eq!(
                session.put(&path, &record.to_json()).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
            continue;
        }
        for reply in [
            session.get(&path).await,
            session.put(&path, &record.to_json()).await,
            session.delete(&path).await,
        ] {
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                reply.text
            );
            assert_eq!(
                reply.body, absent.body,
                "{path}: a refusal must look like absence"
            );
        }
        checked += 1;
    }
    assert!(checked > 100, "checked {checked}");

    // Filters naming another client or one of its sites are 404 too.
    let other_client = owned
        .iter()
        .find(|(k, _, c)| *k == ObjectKind::Client && *c != own)
        .unwrap()
        .2
        .clone();
    let other_site = inventory
        .sites
        .iter()
        .find(|s| s.client != own)
        .unwrap()
        .reference
        .clone();
    for path in [
        format!("/api/v1/sites?client={other_client}"),
        format!("/api/v1/equipment?client={other_client}"),
        format!("/api/v1/equipment?site={other_site}"),
    ] {
        assert_eq!(
            session.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Lists and the export hold its own objects only, across every page.
    for kind in [
        ObjectKind::Client,
        ObjectKind::Contact,
        ObjectKind::Contract,
        ObjectKind::Site,
        ObjectKind::Equipment,
    ] {
        let mut after = String::new();
        let mut seen = 0;
        loop {
            let reply = session
                .get(&format!(
                    "/api/v1/{}?limit=50{after}",
                    vigie_server::api::collection(kind)
                ))
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            for item in reply.body["items"].as_array().unwrap() {
                let reference = item["ref"].as_str().unwrap();
                let (_, _, client) = owned
                    .iter()
                    .find(|(k, r, _)| *k == kind && r.reference().as_str() == reference)
                    .unwrap();
                assert_eq!(*client, own, "{kind} {reference} leaked");
                seen += 1;
            }
            match reply.body["next_after"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => break,
            }
        }
        assert_eq!(
            seen,
            owned
                .iter()
                .filter(|(k, _, c)| *k == kind && *c == own)
                .count(),
            "{kind}"
        );
    }
    let export = session.get("/api/v1/inventory/export").await;
    assert_eq!(export.status, StatusCode::OK);
    for (_, record, client) in &owned {
        if *client != own {
            assert!(
                !export.text.contains(&format!("\"{}\"", record.reference())),
                "{} leaked in the export",
                record.reference()
            );
        }
    }
    // Credentials never reach a client user.
    assert!(
        !export.text.contains("password"),
        "credentials leaked in a client export"
    );

    // What is the integrator's own is refused outright.
    for path in ["/api/v1/staff", "/api/v1/audit", "/api/v1/users"] {
        assert_eq!(
            session.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let staff = &inventory.staff[0].reference;
    assert_eq!(
        session.get(&format!("/api/v1/staff/{staff}")).await.status,
        StatusCode::FORBIDDEN
    );
    let import = session
        .raw(
            reqwest::Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            crate::example_fleet().into_bytes(),
        )
        .await;
    assert_eq!(import.status, StatusCode::FORBIDDEN);
    app.finish().await;
}
