//! a client user sees only its own client, a site probe's token only its own site. Every
//! inventory object outside, through every endpoint, answers 404 exactly as an object that does
//! not exist.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;
use vigie_domain::access::TokenScope;
use vigie_domain::inventory::{ObjectKind, Record, StaffRole};
use vigie_store::UserKind;

use crate::{Auth, NOW, Session, TestApp};

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
            // The integrator's own: its staff and its territories.
            Record::Staff(_) | Record::Territory(_) => continue,
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

const OWN_SITE: &str = "BNF-PAR-OPERA";

/// A site probe's token, held by an administrator, reads its own site and that site's equipment
/// (what `vigie probe` reads) and nothing else: not another site of the same client, not another
/// client's, not the client's other records; it pushes observations of its own site's equipment
/// only, and reports as a probe of its own site only.
#[tokio::test]
async fn a_site_probe_token_gets_nothing_of_another_site() {
    let app = TestApp::spawn().await;
    let inventory = app.import_fleet().await;
    app.create_user(
        "robot",
        UserKind::Staff,
        None,
        &[StaffRole::Administrator],
        false,
    )
    .await;
    let admin = app
        .login_as(
            "admin.test",
            UserKind::Staff,
            None,
            &[StaffRole::Administrator],
        )
        .await;

    // Issued through the API with its site, shown with it in the listing.
    let created = admin
        .post(
            "/api/v1/tokens",
            &json!({"name": "sonde opéra", "scope": "probe", "site": OWN_SITE, "username": "robot"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["token"]["site"], OWN_SITE);
    let listed = admin.get("/api/v1/tokens?username=robot").await;
    assert_eq!(listed.body[0]["site"], OWN_SITE, "{}", listed.text);
    let probe = Session {
        app: &app,
        auth: Auth::Bearer(created.body["secret"].as_str().unwrap().to_owned()),
    };

    // Its own site's equipment, as `vigie probe` reads it, with the credentials it needs.
    let mut own_equipment: Vec<&str> = inventory
        .equipment
        .iter()
        .filter(|e| e.site.as_str() == OWN_SITE)
        .map(|e| e.reference.as_str())
        .collect();
    own_equipment.sort();
    let read = probe
        .get(&format!("/api/v1/equipment?site={OWN_SITE}&limit=1000"))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let read_refs: Vec<&str> = read.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ref"].as_str().unwrap())
        .collect();
    assert_eq!(read_refs, own_equipment);
    assert!(read.text.contains("password"), "credentials for the probe");
    // Unfiltered lists hold the same and nothing more.
    let all = probe.get("/api/v1/equipment?limit=1000").await;
    assert_eq!(all.body["items"], read.body["items"]);
    let sites = probe.get("/api/v1/sites").await;
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(sites.body["items"][0]["ref"], OWN_SITE);

    // Every other site and its equipment, of the same client or another: 404 as if absent.
    let absent = probe.get("/api/v1/equipment/N-EXISTE-PAS").await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    let other_sites: Vec<&vigie_domain::inventory::Site> = inventory
        .sites
        .iter()
        .filter(|s| s.reference.as_str() != OWN_SITE)
        .collect();
    assert!(other_sites.iter().any(|s| s.client.as_str() == "CLI-BNF"));
    let mut paths: Vec<String> = other_sites
        .iter()
        .map(|s| format!("/api/v1/sites/{}", s.reference))
        .collect();
    for equipment in inventory
        .equipment
        .iter()
        .filter(|e| e.site.as_str() != OWN_SITE)
    {
        paths.push(format!("/api/v1/equipment/{}", equipment.reference));
        paths.push(format!("/api/v1/equipment/{}/state", equipment.reference));
    }
    for site in &other_sites {
        paths.push(format!("/api/v1/equipment?site={}", site.reference));
        paths.push(format!("/api/v1/sites/{}/history", site.reference));
    }
    paths.push("/api/v1/equipment?client=CLI-CHU".into());
    for path in &paths {
        let reply = probe.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
        assert_eq!(reply.body, absent.body, "{path}");
    }
    assert!(paths.len() > 300, "checked {}", paths.len());
    // The client's records, the integrator's, the trail, traps, tokens: refused outright.
    for path in [
        "/api/v1/clients",
        "/api/v1/clients/CLI-BNF",
        "/api/v1/contacts",
        "/api/v1/contracts",
        "/api/v1/staff",
        "/api/v1/audit",
        "/api/v1/users",
        "/api/v1/traps",
        "/api/v1/tokens",
    ] {
        assert_eq!(
            probe.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let export = probe.get("/api/v1/inventory/export").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    for site in &other_sites {
        assert!(
            !export.text.contains(&format!("\"{}\"", site.reference)),
            "{} leaked in the export",
            site.reference
        );
    }

    // Observations of another site's equipment are reported unknown and not written.
    let own_camera = own_equipment[0];
    let same_client = inventory
        .equipment
        .iter()
        .find(|e| e.site.as_str() == "BNF-PAR-SIEGE")
        .unwrap()
        .reference
        .to_string();
    let other_client = inventory
        .equipment
        .iter()
        .find(|e| e.site.as_str() == "CHU-GRE-NORD")
        .unwrap()
        .reference
        .to_string();
    let observation = |equipment: &str, status: &str| json!({"equipment": equipment, "check": "ping", "at": NOW, "status": status});
    let pushed = probe
        .post(
            "/api/v1/observations",
            &json!({
                "source": "probe:sonde-opera", "sequence": 1,
                "probe": {"name": "sonde-opera", "site": OWN_SITE, "interval_seconds": 60},
                "observations": [observation(own_camera, "up"), observation(&same_client, "down"), observation(&other_client, "down")]
            }),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.text);
    assert_eq!(pushed.body["accepted"], 1);
    let mut unknown = vec![same_client.clone(), other_client.clone()];
    unknown.sort();
    assert_eq!(pushed.body["unknown_equipment"], json!(unknown));
    for equipment in [&same_client, &other_client] {
        let state = admin
            .get(&format!("/api/v1/equipment/{equipment}/state"))
            .await;
        assert_eq!(state.body["items"], json!([]), "{equipment}");
        let beat = probe
            .post(
                &format!("/api/v1/equipment/{equipment}/heartbeat"),
                &json!({}),
            )
            .await;
        assert_eq!(beat.status, StatusCode::NOT_FOUND, "{equipment}");
    }

    // Its probe identity is its own site's only, of the same client or not: refused whole.
    for site in ["BNF-PAR-SIEGE", "CHU-GRE-NORD"] {
        let claimed = probe
            .post(
                "/api/v1/observations",
                &json!({
                    "probe": {"name": "sonde-opera", "site": site, "interval_seconds": 60},
                    "observations": [observation(own_camera, "down")]
                }),
            )
            .await;
        assert_eq!(claimed.status, StatusCode::FORBIDDEN, "{}", claimed.text);
        assert!(
            claimed.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("lié au site « {OWN_SITE} »")),
            "{}",
            claimed.text
        );
    }
    let state = admin
        .get(&format!("/api/v1/equipment/{own_camera}/state"))
        .await;
    assert_eq!(state.body["items"][0]["status"], "up", "{}", state.text);
    // Nor can it take over the name of another client's probe.
    let agent = app.token("robot", TokenScope::Agent).await;
    let chu = agent
        .post(
            "/api/v1/observations",
            &json!({"probe": {"name": "sonde-chu", "site": "CHU-GRE-NORD", "interval_seconds": 60}, "observations": []}),
        )
        .await;
    assert_eq!(chu.status, StatusCode::OK, "{}", chu.text);
    let taken = probe
        .post(
            "/api/v1/observations",
            &json!({"probe": {"name": "sonde-chu", "site": OWN_SITE, "interval_seconds": 60}, "observations": []}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    let probes = admin.get("/api/v1/probes").await;
    let probes: Vec<(&str, &str)> = probes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["site"].as_str().unwrap()))
        .collect();
    assert_eq!(
        probes,
        [("sonde-chu", "CHU-GRE-NORD"), ("sonde-opera", OWN_SITE)]
    );
    let own_probes = probe.get("/api/v1/probes").await;
    assert_eq!(own_probes.body["items"].as_array().unwrap().len(), 1);
    app.finish().await;
}

/// A probe token is issued with exactly one site, by the API and the same rules as the CLI.
#[tokio::test]
async fn a_probe_token_without_a_site_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let admin = app
        .login_as(
            "admin.test",
            UserKind::Staff,
            None,
            &[StaffRole::Administrator],
        )
        .await;
    let refused = admin
        .post(
            "/api/v1/tokens",
            &json!({"name": "sonde", "scope": "probe"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "invalid");
    assert_eq!(
        refused.body["error"]["message"],
        "un jeton de portée « probe » est lié à un site : indiquez le site de la sonde (champ site, option --site)"
    );
    for (body, words) in [
        (
            json!({"name": "agent", "scope": "agent", "site": OWN_SITE}),
            "seul un jeton de portée « probe » est lié à un site",
        ),
        (
            json!({"name": "sonde", "scope": "probe", "site": "N-EXISTE-PAS"}),
            "site « N-EXISTE-PAS » inconnu",
        ),
    ] {
        let reply = admin.post("/api/v1/tokens", &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(words),
            "{}",
            reply.text
        );
    }
    // A client user's probe token would push nothing: refused too.
    let client = app
        .login_as("dsi-bnf", UserKind::Client, Some("CLI-BNF"), &[])
        .await;
    let reply = client
        .post(
            "/api/v1/tokens",
            &json!({"name": "sonde", "scope": "probe", "site": OWN_SITE}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(admin.get("/api/v1/tokens").await.body, json!([]));
    app.finish().await;
}
