//! `/health/live` and `/health`: what monitors see when things work and when they don't.

use crate::helpers::{assert_json, store_tests, TestApp};
use crate::host::{io, FaultTimes, StoreMode};

store_tests!(
    liveness_answers_without_opening_a_database,
    health_reports_the_database_up_with_its_schema_version,
    health_is_503_in_the_monitor_shape_when_the_database_cannot_be_opened,
    health_is_503_when_the_schema_is_behind_and_cannot_be_migrated
);

fn liveness_answers_without_opening_a_database(app: TestApp) {
    let response = app.get("/health/live", None);
    assert_eq!(
        assert_json(&response, 200),
        serde_json::json!({"status": "ok"})
    );
    assert_eq!(
        response.stats.opens, 0,
        "/health/live must not open the database"
    );
    assert!(response.stats.statements.is_empty());
}

fn health_reports_the_database_up_with_its_schema_version(app: TestApp) {
    let response = app.get("/health", None);
    let body = assert_json(&response, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["status"], "up");
    assert_eq!(
        body["database"]["schema_version"],
        pokefavs::db::SCHEMA_VERSION
    );
    assert!(body["database"]["latency_ms"]
        .as_f64()
        .is_some_and(|ms| ms >= 0.0));
}

fn health_is_503_in_the_monitor_shape_when_the_database_cannot_be_opened(app: TestApp) {
    app.host
        .faults()
        .fail_open(io("unable to open database file"), FaultTimes::Always);
    let response = app.get("/health", None);
    let body = assert_json(&response, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["status"], "down");
    assert_eq!(body["database"]["error"], "database cannot be opened");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health/live", None).status, 200);
}

fn health_is_503_when_the_schema_is_behind_and_cannot_be_migrated(app: TestApp) {
    app.host
        .faults()
        .fail_matching("CREATE TABLE", io("not authorized"), FaultTimes::Always);
    let response = app.get("/health", None);
    let body = assert_json(&response, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["status"], "down");
    assert!(
        body["database"]["error"]
            .as_str()
            .unwrap()
            .contains("schema is behind"),
        "{body}"
    );
    // Once the fault is gone the next request migrates and health recovers.
    app.host.faults().clear();
    assert_eq!(app.get("/health", None).status, 200);
}

#[test]
fn health_is_503_when_the_database_label_is_not_granted() {
    let app = TestApp::with(StoreMode::Local, |cfg| cfg.sqlite_databases(&[]));
    let response = app.get("/health", None);
    let body = assert_json(&response, 503);
    assert_eq!(body["database"]["error"], "access denied");
    assert!(!response.text().contains("spin.toml"));
}

#[test]
fn health_reports_a_jwt_secret_that_is_too_short() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.variable("jwt_secret", "too-short")
    });
    let response = app.get("/health", None);
    let body = assert_json(&response, 503);
    assert_eq!(body["database"]["status"], "up");
    assert_eq!(body["config"]["status"], "invalid");
    assert_eq!(
        body["config"]["error"],
        "jwt_secret is shorter than 32 bytes"
    );
    assert!(
        !response.text().contains("too-short"),
        "never show the secret"
    );
}

#[test]
fn health_reports_a_token_lifetime_that_is_not_usable() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.variable("token_ttl_seconds", "5")
    });
    let body = assert_json(&app.get("/health", None), 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["status"], "up");
    assert!(body["config"]["error"]
        .as_str()
        .unwrap()
        .starts_with("token_ttl_seconds"));
}
