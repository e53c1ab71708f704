//! What operators and Prometheus read: health, readiness, metrics.

use reqwest::StatusCode;

use crate::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let anonymous = app.anonymous();
    assert_eq!(anonymous.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(anonymous.get("/readyz").await.status, StatusCode::OK);
    anonymous.get("/api/v1/sites").await;
    let metrics = anonymous.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        metrics.text.contains(
            "vigie_http_requests_total{method=\"GET\",route=\"/api/v1/sites\",status=\"401\"} 1"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("vigie_database_up 1"));
    let equipment_line = metrics
        .text
        .lines()
        .find(|l| l.starts_with("vigie_inventory_objects{kind=\"equipment\"}"))
        .unwrap();
    let count: u64 = equipment_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count > 200);
    // Readiness follows the database.
    app.store.close().await;
    assert_eq!(
        anonymous.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    app.finish().await;
}

/// Issue 23, item 12: `/metrics` names inventory counts and who is on call. With a token
/// configured, it answers only to that bearer token; without, only to the machine itself.
#[tokio::test]
async fn metrics_ask_for_their_token_or_a_loopback_peer() {
    let app = TestApp::spawn_with(|config| {
        config.server.metrics_token = vigie_server::config::Password("jeton-metriques".into());
    })
    .await;
    let get = |token: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send()
    };
    // The token is asked for even from the machine itself.
    let missing = get(None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.text().await.unwrap().contains("metrics_token"));
    assert_eq!(
        get(Some("jeton-metriquez")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let allowed = get(Some("jeton-metriques")).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert!(
        allowed
            .text()
            .await
            .unwrap()
            .contains("vigie_database_up 1")
    );

    // Without a token: the machine itself only.
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use vigie_server::metrics::metrics_allowed;
    assert!(metrics_allowed(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), "", None).is_ok());
    assert!(metrics_allowed(Some(IpAddr::V6(Ipv6Addr::LOCALHOST)), "", None).is_ok());
    let remote = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    assert_eq!(
        metrics_allowed(Some(remote), "", None).unwrap_err().0,
        StatusCode::FORBIDDEN
    );
    assert!(metrics_allowed(None, "", None).is_err());
    // With one, from anywhere with it.
    assert!(metrics_allowed(Some(remote), "t0k", Some("Bearer t0k")).is_ok());
    assert!(metrics_allowed(Some(remote), "t0k", Some("Bearer t0")).is_err());
}

/// Issue 23, item 12: every error of the API, whatever refused the request — the route
/// table, the body limit, an extractor, a handler — is the documented body
/// (`{"error": {"code", "message"}}`, JSON, in French), never an empty body or a framework's
/// English text.
#[tokio::test]
async fn every_api_error_is_the_documented_french_json_body() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let admin = app
        .login_as(
            "admin",
            vigie_store::UserKind::Staff,
            None,
            &[vigie_domain::inventory::StaffRole::Administrator],
        )
        .await;
    let agent = app.agent("robot").await;
    let big = vec![b'x'; 2 * 1024 * 1024];
    let cases: Vec<(&str, crate::Reply, StatusCode)> = vec![
        (
            "méthode non servie",
            admin.request(Method::DELETE, "/api/v1/tickets", None).await,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "méthode non servie sur une route de lecture",
            admin
                .request(Method::PUT, "/api/v1/time", Some(&serde_json::json!({})))
                .await,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "adresse inconnue",
            admin.get("/api/v1/nulle-part").await,
            StatusCode::NOT_FOUND,
        ),
        (
            "JSON cassé",
            agent
                .raw(
                    Method::POST,
                    "/api/v1/observations",
                    "application/json",
                    b"{\"observations\": [".to_vec(),
                )
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "type de contenu",
            agent
                .raw(
                    Method::POST,
                    "/api/v1/observations",
                    "text/xml",
                    b"<observations/>".to_vec(),
                )
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "corps trop grand",
            agent
                .raw(
                    Method::POST,
                    "/api/v1/observations",
                    "application/json",
                    big.clone(),
                )
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "paramètre de requête",
            admin.get("/api/v1/tickets?limit=beaucoup").await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "sans authentification",
            app.anonymous().get("/api/v1/tickets").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "numéro d'alarme illisible",
            admin.get("/api/v1/alarms/quarante-deux").await,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, reply, status) in cases {
        assert_eq!(reply.status, status, "{what} : {}", reply.text);
        let content_type = reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{what} : {content_type} {}",
            reply.text
        );
        let code = reply.body["error"]["code"].as_str().unwrap_or("");
        let message = reply.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !code.is_empty() && !message.is_empty(),
            "{what} : {}",
            reply.text
        );
    }
    app.finish().await;
}
