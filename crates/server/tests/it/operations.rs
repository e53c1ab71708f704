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
