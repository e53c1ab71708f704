//! The inventory API: create, read, replace, delete, pages, the file import and export, and
//! clear errors for bad input.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use crate::TestApp;

#[tokio::test]
async fn objects_are_created_read_replaced_and_deleted() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let editor = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let site = editor.get("/api/v1/sites?limit=1").await.body["items"][0].clone();
    let camera = json!({"ref": "NOUVELLE-CAM", "site": site["ref"], "name": "Caméra quai de chargement", "kind": "camera", "camera_role": "secondary", "address": "10.0.0.99"});

    let created = editor.post("/api/v1/equipment", &camera).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.headers["location"],
        "/api/v1/equipment/NOUVELLE-CAM"
    );
    let again = editor.post("/api/v1/equipment", &camera).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "conflict")
    );

    let read = editor.get("/api/v1/equipment/NOUVELLE-CAM").await;
    assert_eq!(read.body, camera);

    let mut renamed = camera.clone();
    renamed["name"] = json!("Caméra quai n°2");
    renamed.as_object_mut().unwrap().remove("ref");
    let replaced = editor.put("/api/v1/equipment/NOUVELLE-CAM", &renamed).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(
        editor.get("/api/v1/equipment/NOUVELLE-CAM").await.body["name"],
        "Caméra quai n°2"
    );

    // A reference is never renamed through the body.
    let mut other = camera.clone();
    other["ref"] = json!("AUTRE");
    assert_eq!(
        editor
            .put("/api/v1/equipment/NOUVELLE-CAM", &other)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // PUT on a new reference creates it.
    let mut fresh = camera.clone();
    fresh["ref"] = json!("CAM-PUT");
    assert_eq!(
        editor.put("/api/v1/equipment/CAM-PUT", &fresh).await.status,
        StatusCode::CREATED
    );

    assert_eq!(
        editor.delete("/api/v1/equipment/NOUVELLE-CAM").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        editor.get("/api/v1/equipment/NOUVELLE-CAM").await.status,
        StatusCode::NOT_FOUND
    );
    // A site that still has equipment cannot go.
    let refused = editor
        .delete(&format!("/api/v1/sites/{}", site["ref"].as_str().unwrap()))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let editor = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let site = editor.get("/api/v1/sites?limit=1").await.body["items"][0].clone();
    let site_ref = site["ref"].as_str().unwrap().to_string();

    // A reference to nothing: 422 with the field and a French message.
    let dangling = editor.post("/api/v1/equipment", &json!({"ref": "CAM-X", "site": site_ref, "name": "X", "kind": "camera", "parent": "SW-NULLE-PART"})).await;
    assert_eq!(
        (dangling.status, dangling.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        "{}",
        dangling.text
    );
    assert_eq!(dangling.body["error"]["details"][0]["field"], "parent");
    assert!(
        dangling.body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SW-NULLE-PART")
    );

    // An unknown field, a bad phone, a bad enum value.
    let unknown = editor
        .post(
            "/api/v1/clients",
            &json!({"ref": "CLI-Z", "name": "Z", "couleur": "bleu"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("champ inconnu « couleur »"),
        "{}",
        unknown.text
    );
    let client = editor.get("/api/v1/clients?limit=1").await.body["items"][0]["ref"].clone();
    let phone = editor
        .post(
            "/api/v1/contacts",
            &json!({"ref": "CT-Z", "client": client, "name": "Z", "phone": "12"}),
        )
        .await;
    assert_eq!(phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        phone.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("téléphone"),
        "{}",
        phone.text
    );
    let kind = editor
        .post(
            "/api/v1/equipment",
            &json!({"ref": "X1", "site": site_ref, "name": "X", "kind": "television"}),
        )
        .await;
    assert!(
        kind.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("valeur inconnue « television »"),
        "{}",
        kind.text
    );

    // Not JSON, broken JSON, too large.
    let not_json = editor
        .raw(
            Method::POST,
            "/api/v1/clients",
            "text/plain",
            b"ref=x".to_vec(),
        )
        .await;
    assert_eq!(
        (not_json.status, not_json.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let broken = editor
        .raw(
            Method::POST,
            "/api/v1/clients",
            "application/json",
            b"{\"ref\": ".to_vec(),
        )
        .await;
    assert_eq!(
        (broken.status, broken.code()),
        (StatusCode::BAD_REQUEST, "bad_json")
    );
    let huge = editor
        .raw(
            Method::POST,
            "/api/v1/clients",
            "application/json",
            format!("{{\"ref\":\"X\",\"name\":\"{}\"}}", "a".repeat(100_000)).into_bytes(),
        )
        .await;
    assert_eq!(
        (huge.status, huge.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let bad_query = editor.get("/api/v1/sites?limit=beaucoup").await;
    assert_eq!(
        (bad_query.status, bad_query.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let unknown_parameter = editor.get("/api/v1/sites?colour=blue").await;
    assert_eq!(unknown_parameter.status, StatusCode::BAD_REQUEST);
    let nowhere = editor.get("/api/v1/nulle-part").await;
    assert_eq!(
        (nowhere.status, nowhere.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    assert_eq!(
        editor.get("/api/v1/equipment/CAM-X").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        editor.get("/api/v1/clients/CLI-Z").await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

#[tokio::test]
async fn the_inventory_file_goes_through_the_api_too() {
    let app = TestApp::spawn().await;
    // The fleet names an administrator and managers: only an administrator gives those roles
    // (nobody_grants_themselves_a_role_through_the_inventory).
    let editor = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision, StaffRole::Administrator],
        )
        .await;
    let fleet = crate::example_fleet();
    let first = editor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            fleet.clone().into_bytes(),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.body["created"].as_u64().unwrap() > 300);
    let again = editor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            fleet.clone().into_bytes(),
        )
        .await;
    assert_eq!(
        (
            again.body["created"].as_u64(),
            again.body["updated"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // A broken file: every error with its line, and nothing changed.
    let before = editor.get("/api/v1/inventory/export").await.text;
    let broken = fleet.replacen("kind = \"camera\"", "kind = \"camera\"\nangle = 90", 1);
    let broken_line = broken.lines().position(|l| l == "angle = 90").unwrap() + 1;
    let refused = editor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            broken.into_bytes(),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file"),
        "{}",
        refused.text
    );
    assert_eq!(refused.body["error"]["details"][0]["line"], broken_line);
    assert_eq!(editor.get("/api/v1/inventory/export").await.text, before);

    // The export is the file format, and importing it back changes nothing.
    let exported = editor.get("/api/v1/inventory/export").await;
    assert!(
        exported.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/toml")
    );
    let round_trip = editor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            exported.text.into_bytes(),
        )
        .await;
    assert_eq!(
        (
            round_trip.body["created"].as_u64(),
            round_trip.body["updated"].as_u64()
        ),
        (Some(0), Some(0)),
        "{}",
        round_trip.text
    );
    app.finish().await;
}

#[tokio::test]
async fn lists_are_paged() {
    let app = TestApp::spawn().await;
    let inventory = app.import_fleet().await;
    let viewer = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = viewer
            .get(&format!("/api/v1/equipment?limit=100{after}"))
            .await;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 100);
        seen.extend(items.iter().map(|i| i["ref"].as_str().unwrap().to_string()));
        match page.body["next_after"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = inventory
        .equipment
        .iter()
        .map(|e| e.reference.to_string())
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
    // Whatever is asked, a page holds at most 1000.
    assert!(
        viewer.get("/api/v1/equipment?limit=100000").await.body["items"]
            .as_array()
            .unwrap()
            .len()
            <= 1000
    );
    app.finish().await;
}

/// Issue 23, item 4: nobody grants themselves a role. A staff record's roles add to its
/// account's, so a supervisor who edits the inventory cannot add `administrator` to its own
/// record (by the record's route or by an import), nor give an editing role it lacks, nor
/// demote an administrator by deleting or editing its record; it may give a technician's role.
/// Nothing refused is written, and the account stays what it was.
#[tokio::test]
async fn nobody_grants_themselves_a_role_through_the_inventory() {
    use std::collections::BTreeSet;
    use vigie_domain::Reference;
    use vigie_domain::access::Actor;
    use vigie_domain::inventory::file::InventoryFile;
    let app = TestApp::spawn().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    app.store
        .import(
            &Actor::console("test"),
            &InventoryFile::parse(&text).unwrap().inventory,
            crate::NOW,
        )
        .await
        .unwrap();
    // The supervision team's account is bound to its staff record.
    app.store
        .create_user(
            &Actor::console("test"),
            vigie_store::NewUser {
                username: "superviseur".into(),
                display_name: "Superviseur".into(),
                kind: UserKind::Staff,
                staff: Some(Reference::parse("ST-SUPERVISION").unwrap()),
                client: None,
                roles: BTreeSet::new(),
                password_hash: vigie_server::auth::hash_password(crate::PASSWORD),
                must_change_password: false,
            },
            crate::NOW,
        )
        .await
        .unwrap();
    let supervisor = app.login("superviseur", crate::PASSWORD).await.unwrap();
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let own = json!({"ref": "ST-SUPERVISION", "name": "Équipe de supervision",
                     "roles": ["supervision", "administrator"], "email": "supervision@integrateur.fr"});
    let refused = supervisor.put("/api/v1/staff/ST-SUPERVISION", &own).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("administrateur"), "{}", refused.text);
    let import = "version = 1\n[[staff]]\nref = \"ST-SUPERVISION\"\nname = \"Équipe de supervision\"\nroles = [\"supervision\", \"administrator\"]\n";
    let refused = supervisor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            import.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    // An editing role it lacks, for someone else.
    let chef = json!({"ref": "ST-CHEF", "name": "Valérie Perrin",
                      "roles": ["technical_manager", "operations_manager"],
                      "email": "valerie.perrin@integrateur.fr", "phone": "+33655555555"});
    let refused = supervisor.put("/api/v1/staff/ST-CHEF", &chef).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    // The records and the account are as they were.
    let record = admin.get("/api/v1/staff/ST-SUPERVISION").await;
    assert_eq!(
        record.body["roles"],
        json!(["supervision"]),
        "{}",
        record.text
    );
    let me = supervisor.get("/api/v1/auth/me").await;
    assert!(!me.text.contains("administrator"), "{}", me.text);
    assert_eq!(
        supervisor.get("/api/v1/users").await.status,
        StatusCode::FORBIDDEN
    );
    // A technician's role is field work: the supervisor may give it.
    let tech = json!({"ref": "ST-TECH-C", "name": "Léa Caron", "roles": ["technician"],
                      "email": "lea.caron@integrateur.fr"});
    let created = supervisor.put("/api/v1/staff/ST-TECH-C", &tech).await;
    assert!(created.status.is_success(), "{}", created.text);
    // An administrator's record can be neither stripped nor deleted by the supervisor; an
    // administrator may.
    let boss = json!({"ref": "ST-ADMIN", "name": "Admin", "roles": ["administrator"]});
    assert!(
        admin
            .put("/api/v1/staff/ST-ADMIN", &boss)
            .await
            .status
            .is_success()
    );
    let deleted = supervisor.delete("/api/v1/staff/ST-ADMIN").await;
    assert_eq!(deleted.status, StatusCode::FORBIDDEN, "{}", deleted.text);
    let stripped = supervisor
        .put(
            "/api/v1/staff/ST-ADMIN",
            &json!({"ref": "ST-ADMIN", "name": "Admin", "roles": []}),
        )
        .await;
    assert_eq!(stripped.status, StatusCode::FORBIDDEN, "{}", stripped.text);
    assert!(
        admin
            .delete("/api/v1/staff/ST-ADMIN")
            .await
            .status
            .is_success()
    );
}

/// Issue 23, item 12: with the session cookie, a write to the API must be JSON (or TOML for an
/// inventory): a cross-site form (`text/plain`, urlencoded, multipart) or a body-less "simple"
/// POST is refused with 415 and changes nothing, whatever SameSite says; the same import in
/// TOML goes through, and a token is not concerned.
#[tokio::test]
async fn cookie_writes_to_the_api_must_say_json_or_toml() {
    let app = TestApp::spawn().await;
    let editor = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision, StaffRole::Administrator],
        )
        .await;
    let inventory = "version = 1\n[[client]]\nref = \"CLI-FORGE\"\nname = \"Client forgé\"\n";
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let forged = editor
            .raw(
                Method::POST,
                "/api/v1/inventory/import",
                content_type,
                inventory.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(
            forged.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}: {}",
            forged.text
        );
    }
    assert_eq!(
        editor.get("/api/v1/clients/CLI-FORGE").await.status,
        StatusCode::NOT_FOUND
    );
    let toml = editor
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "application/toml",
            inventory.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(toml.status, StatusCode::OK, "{}", toml.text);
    // A token is sent by no browser on its own: not concerned.
    let token = app
        .token("supervision", vigie_domain::access::TokenScope::Integration)
        .await;
    let by_token = token
        .raw(
            Method::POST,
            "/api/v1/inventory/import",
            "text/plain",
            inventory.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(by_token.status, StatusCode::OK, "{}", by_token.text);
}
