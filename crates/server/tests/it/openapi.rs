//! The OpenAPI document matches the API: every documented operation is routed, every route is
//! documented, and each record schema names exactly the fields the API reads and writes.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::inventory::{ObjectKind, Record};

use crate::TestApp;

/// Every route the server serves, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/password"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/users/{username}/password"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/inventory/export"),
    ("post", "/api/v1/inventory/import"),
    ("get", "/api/v1/time"),
    ("get", "/api/v1/clock"),
    ("post", "/api/v1/clock"),
    ("post", "/api/v1/observations"),
    ("get", "/api/v1/equipment/{reference}/heartbeat"),
    ("post", "/api/v1/equipment/{reference}/heartbeat"),
    ("get", "/api/v1/equipment/{reference}/state"),
    ("get", "/api/v1/equipment/{reference}/history"),
    ("get", "/api/v1/equipment/{reference}/samples"),
    ("get", "/api/v1/sites/{reference}/state"),
    ("get", "/api/v1/sites/{reference}/history"),
    ("get", "/api/v1/probes"),
    ("get", "/api/v1/traps"),
    ("get", "/api/v1/alarms"),
    ("get", "/api/v1/alarms/{id}"),
    ("post", "/api/v1/alarms/{id}/acknowledge"),
    ("post", "/api/v1/alarms/{id}/take-charge"),
    ("post", "/api/v1/alarms/{id}/close"),
    ("get", "/api/v1/rotations"),
    ("get", "/api/v1/rotations/{name}"),
    ("put", "/api/v1/rotations/{name}"),
    ("delete", "/api/v1/rotations/{name}"),
    ("post", "/api/v1/rotations/{name}/swap"),
    ("get", "/api/v1/oncall"),
    ("get", "/api/v1/oncall/coverage"),
    ("get", "/api/v1/oncall/figures"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{number}"),
    ("post", "/api/v1/tickets/{number}/actions"),
    ("post", "/api/v1/tickets/{number}/requalify"),
    ("post", "/api/v1/tickets/{number}/assign"),
    ("post", "/api/v1/tickets/{number}/notes"),
    ("post", "/api/v1/tickets/{number}/updates"),
    ("post", "/api/v1/tickets/{number}/close"),
    ("post", "/api/v1/tickets/{number}/resolution"),
    ("post", "/api/v1/tickets/{number}/location"),
    ("post", "/api/v1/tickets/{number}/told-by"),
    ("get", "/api/v1/tickets/{number}/post-mortem"),
    ("put", "/api/v1/tickets/{number}/post-mortem"),
    ("post", "/api/v1/tickets/{number}/post-mortem/publish"),
    ("get", "/api/v1/tickets/{number}/attachments"),
    ("get", "/api/v1/tickets/{number}/attachments/{id}"),
    ("get", "/api/v1/mail"),
    ("post", "/api/v1/mail/{id}/ticket"),
    ("post", "/api/v1/mail/{id}/attach"),
    ("post", "/api/v1/mail/{id}/discard"),
    ("get", "/api/v1/windows"),
    ("post", "/api/v1/windows"),
    ("get", "/api/v1/windows/{id}"),
    ("post", "/api/v1/windows/{id}/end"),
    ("get", "/api/v1/documents"),
    ("get", "/api/v1/documents/{id}"),
    ("get", "/api/v1/console"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/sms/inbound"),
    ("post", "/api/v1/voice/keypad/{token}"),
    ("get", "/api/v1/policy"),
    ("put", "/api/v1/policy"),
    ("get", "/api/v1/policy/versions"),
    ("get", "/api/v1/policy/versions/{version}"),
    ("post", "/api/v1/policy/versions/{version}/restore"),
];

#[tokio::test]
async fn the_document_describes_exactly_the_routes() {
    let app = TestApp::spawn().await;
    let document = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    let document = document.body;
    assert_eq!(document["openapi"], "3.1.0");

    let mut expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for kind in ObjectKind::ALL {
        let base = format!("/api/v1/{}", vigie_server::api::collection(kind));
        for method in ["get", "post"] {
            expected.insert((method.into(), base.clone()));
        }
        for method in ["get", "put", "delete"] {
            expected.insert((method.into(), format!("{base}/{{reference}}")));
        }
    }
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            documented.insert((method.clone(), path.clone()));
        }
    }
    assert_eq!(documented, expected);

    // Each is really routed: the answer is never the fallback's "no such address" nor 405.
    let anonymous = app.anonymous();
    for (method, path) in &documented {
        let concrete = path
            .replace("{reference}", "X")
            .replace("{username}", "x")
            .replace("{id}", "x")
            .replace("{name}", "X")
            .replace("{number}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = anonymous.request(method.clone(), &concrete, None).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}"
        );
        assert!(
            reply.body["error"]["message"] != "cette adresse n'existe pas",
            "{method} {concrete} is not routed"
        );
    }
    app.finish().await;
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn record_schemas_name_exactly_the_record_fields() {
    // A record of each kind with every optional field set, from the example fleet where it
    // has one, so that the comparison covers everything the API can return.
    let fleet = InventoryFile::parse(&crate::example_fleet())
        .unwrap()
        .inventory;
    for kind in ObjectKind::ALL {
        let schema = vigie_server::openapi::record_schema(kind);
        let schema_fields = keys(&schema["properties"]);
        let mut seen = BTreeSet::new();
        for record in fleet.records().into_iter().filter(|r| r.kind() == kind) {
            let json = record.to_json();
            let fields = keys(&json);
            assert!(
                fields.is_subset(&schema_fields),
                "{kind}: {:?} missing from the schema",
                fields.difference(&schema_fields).collect::<Vec<_>>()
            );
            seen.extend(fields);
            if let Record::Equipment(_) = record {
                let checks = keys(&json["checks"]);
                let check_schema = keys(&schema["properties"]["checks"]["properties"]);
                assert!(checks.is_subset(&check_schema), "checks {checks:?}");
            }
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(
                seen.contains(required.as_str().unwrap()),
                "{kind}: required {required} never present"
            );
        }
    }
}
