//! The request's one log line, and the id that ties it to the answer.

use super::Request;
use ::http::StatusCode;
use std::time::Instant;

/// What a request produced, for the log line.
pub(super) struct Outcome {
    /// The route's template, if a route had the path.
    pub(super) route: Option<&'static str>,
    pub(super) status: StatusCode,
    pub(super) error: Option<String>,
}

/// One JSON line per request on stderr, which Spin keeps in the component's log.
/// Never a body, a header value, a query string or a secret: the query may carry
/// search text, and bodies carry passwords.
pub(super) fn log_request(
    request: &Request,
    request_id: &str,
    outcome: &Outcome,
    started: Instant,
) {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        level: &'static str,
        request_id: &'a str,
        method: &'a str,
        path: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        route: Option<&'a str>,
        status: u16,
        duration_ms: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let line = Line {
        level: if outcome.status.is_server_error() {
            "error"
        } else {
            "info"
        },
        request_id,
        method: request.method_name(),
        path: &request.path,
        route: outcome.route,
        status: outcome.status.as_u16(),
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
        error: outcome.error.as_deref(),
    };
    crate::log::write_line(&line);
}

/// A random id that ties a response to its log line: 64 bits, as 16 hex digits.
pub(super) fn new_request_id() -> String {
    format!("{:016x}", u64::from_le_bytes(crate::random::bytes()))
}
