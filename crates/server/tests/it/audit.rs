//! every change through the API, by a person or a token, is in the audit trail with who,
//! what, when, before and after.

use reqwest::StatusCode;
use serde_json::json;
use vigie_domain::access::TokenScope;
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use crate::{NOW, TestApp};

#[tokio::test]
async fn the_audit_trail_records_each_change() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let editor = app
        .login_as("m.dubois", UserKind::Staff, None, &[StaffRole::Supervision])
        .await;
    let site = editor.get("/api/v1/sites?limit=1").await.body["items"][0].clone();
    let path = format!("/api/v1/sites/{}", site["ref"].as_str().unwrap());
    let mut renamed = site.clone();
    renamed["name"] = json!("Site renommé");
    app.clock.advance_ms(60_000);
    assert_eq!(editor.put(&path, &renamed).await.status, StatusCode::OK);
    // The same body again changes nothing and records nothing.
    assert_eq!(editor.put(&path, &renamed).await.status, StatusCode::OK);

    let trail = editor
        .get(&format!(
            "/api/v1/audit?object_kind=site&object_ref={}",
            site["ref"].as_str().unwrap()
        ))
        .await;
    assert_eq!(trail.status, StatusCode::OK);
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the import, then one update: {items:#?}");
    let update = &items[0];
    assert_eq!(update["actor"], "user:m.dubois");
    assert_eq!(update["action"], "update");
    assert_eq!(update["at_ms"], NOW + 60_000);
    assert_eq!(update["before"]["name"], site["name"]);
    assert_eq!(update["after"]["name"], "Site renommé");
    assert_eq!(update["client"], site["client"]);
    assert_eq!(items[1]["action"], "create");
    assert_eq!(items[1]["actor"], "console:test");

    // Through a token, the token is named with its holder.
    app.create_user(
        "gmao",
        UserKind::Staff,
        None,
        &[StaffRole::Administrator],
        false,
    )
    .await;
    let token = app.token("gmao", TokenScope::Integration).await;
    let created = token
        .post(
            "/api/v1/clients",
            &json!({"ref": "CLI-NOUVEAU", "name": "Nouveau client"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let trail = editor.get("/api/v1/audit?object_ref=CLI-NOUVEAU").await;
    let actor = trail.body["items"][0]["actor"].as_str().unwrap();
    assert!(
        actor.starts_with("token:") && actor.ends_with(":user:gmao"),
        "{actor}"
    );
    assert!(trail.body["items"][0]["before"].is_null());

    // Deletions keep what was deleted.
    assert_eq!(
        editor.delete("/api/v1/clients/CLI-NOUVEAU").await.status,
        StatusCode::NO_CONTENT
    );
    let trail = editor.get("/api/v1/audit?object_ref=CLI-NOUVEAU").await;
    assert_eq!(trail.body["items"][0]["action"], "delete");
    assert_eq!(trail.body["items"][0]["before"]["name"], "Nouveau client");

    // Pages go back in time.
    let first = editor.get("/api/v1/audit?limit=5").await;
    let next = first.body["next_before_id"].as_i64().unwrap();
    let second = editor
        .get(&format!("/api/v1/audit?limit=5&before_id={next}"))
        .await;
    assert!(second.body["items"][0]["id"].as_i64().unwrap() < next);
    app.finish().await;
}
