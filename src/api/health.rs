//! `GET /health/live` and `GET /health`: what monitors poll.
//!
//! `/health/live` says the component runs and touches nothing. `/health` opens the
//! database, reads the schema version (migrating a database this build finds behind,
//! exactly as any other request would), and checks the configuration that routes need.
//! Its answers are plain JSON in the shape health monitors parse, not problem+json.

use crate::db::{Db, SCHEMA_VERSION};
use crate::error::Result;
use crate::http::Reply;
use http::StatusCode;
use serde_json::json;
use std::time::Instant;

pub fn live() -> Result<Reply> {
    Reply::json(StatusCode::OK, &json!({"status": "ok"}))
}

pub fn check(db: &Db) -> Result<Reply> {
    let started = Instant::now();
    let database = match db.schema_version() {
        Ok(version) if version == SCHEMA_VERSION => {
            let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
            Ok(json!({"status": "up", "latency_ms": latency_ms, "schema_version": version}))
        }
        Ok(version) if version > SCHEMA_VERSION => Err(format!(
            "schema version {version} is newer than the {SCHEMA_VERSION} this build knows"
        )),
        Ok(version) => Err(format!(
            "schema version {version} is behind the {SCHEMA_VERSION} this build expects"
        )),
        Err(err) => Err(short_reason(&err)),
    };
    let database = database.unwrap_or_else(|error| json!({"status": "down", "error": error}));
    let healthy = database["status"] == "up";
    let mut body = json!({"status": "ok", "database": database});
    if let Some(problem) = crate::config::problem() {
        body["config"] = json!({"status": "invalid", "error": problem});
    }
    if healthy && body.get("config").is_none() {
        return Reply::json(StatusCode::OK, &body);
    }
    body["status"] = json!("unavailable");
    Reply::json(StatusCode::SERVICE_UNAVAILABLE, &body)
}

/// A short reason for a monitor: what kind of failure, not SQL or file paths.
fn short_reason(err: &crate::db::DbError) -> String {
    use crate::db::DbError;
    match err {
        DbError::Unavailable(outage, _) => outage.reason().into(),
        DbError::MigrationFailed(_) => {
            format!("schema is behind version {SCHEMA_VERSION} and could not be migrated")
        }
        DbError::Constraint(_)
        | DbError::Unsupported(_)
        | DbError::SchemaMissing(_)
        | DbError::SchemaAhead(_)
        | DbError::Other(_) => "database error".into(),
    }
}
