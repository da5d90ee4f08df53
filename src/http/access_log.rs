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
    /// The answer was one stored under an `Idempotency-Key`, sent again.
    pub(super) replayed: bool,
}

/// One JSON line per request on stderr, which Spin keeps in the component's log.
/// Never a body, a query string or a secret: the query may carry search text, and bodies
/// carry passwords. Of the header fields only a valid `traceparent`'s ids, which tie the
/// line to the trace the caller (and Spin's own spans) belong to.
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
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        replayed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        trace_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        span_id: Option<&'a str>,
    }
    let trace = trace_context(request);
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
        replayed: outcome.replayed,
        trace_id: trace.map(|(trace_id, _)| trace_id),
        span_id: trace.map(|(_, span_id)| span_id),
    };
    crate::log::write_line(&line);
}

/// The trace id and the caller's span id of the request's `traceparent` (W3C Trace
/// Context, level 1, §3.2), if exactly one was sent and it is valid; anything else is
/// ignored, as the standard asks of a field a receiver cannot parse.
fn trace_context(request: &Request) -> Option<(&str, &str)> {
    let mut fields = request.header_values("traceparent");
    let (Some(field), None) = (fields.next(), fields.next()) else {
        return None;
    };
    parse_traceparent(std::str::from_utf8(field).ok()?.trim())
}

/// `version-trace_id-parent_id-flags`, all lowercase hex: version `00` is exactly that
/// (55 characters); a later version may add fields after a `-`, and `ff` is never valid;
/// an id of all zeros is invalid.
fn parse_traceparent(value: &str) -> Option<(&str, &str)> {
    let hex = |text: &str, len: usize| {
        text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let nonzero = |text: &str| text.bytes().any(|b| b != b'0');
    let version = value.get(..2)?;
    let trace_id = value.get(3..35)?;
    let span_id = value.get(36..52)?;
    let flags = value.get(53..55)?;
    let dashes = [2, 35, 52].iter().all(|&at| value.as_bytes()[at] == b'-');
    let rest_ok = match version {
        "00" => value.len() == 55,
        _ => value.len() == 55 || value.as_bytes()[55] == b'-',
    };
    let valid = dashes
        && rest_ok
        && hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && nonzero(trace_id)
        && hex(span_id, 16)
        && nonzero(span_id)
        && hex(flags, 2);
    valid.then_some((trace_id, span_id))
}

/// A random id that ties a response to its log line: 64 bits, as 16 hex digits.
pub(super) fn new_request_id() -> String {
    format!("{:016x}", u64::from_le_bytes(crate::random::bytes()))
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    #[test]
    fn a_valid_traceparent_gives_its_trace_and_span() {
        let value = format!("00-{TRACE}-{SPAN}-01");
        assert_eq!(parse_traceparent(&value), Some((TRACE, SPAN)));
        // A later version may carry more fields after its own four.
        let later = format!("01-{TRACE}-{SPAN}-00-what-comes-next");
        assert_eq!(parse_traceparent(&later), Some((TRACE, SPAN)));
    }

    #[test]
    fn an_invalid_traceparent_is_ignored() {
        let zeros_trace = "0".repeat(32);
        let zeros_span = "0".repeat(16);
        let upper = TRACE.to_uppercase();
        for bad in [
            String::new(),
            format!("ff-{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}-01-extra"),
            format!("00-{TRACE}-{SPAN}-1"),
            format!("00-{zeros_trace}-{SPAN}-01"),
            format!("00-{TRACE}-{zeros_span}-01"),
            format!("00-{upper}-{SPAN}-01"),
            format!("00_{TRACE}_{SPAN}_01"),
            format!("01-{TRACE}-{SPAN}-01x"),
            format!("0g-{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}-0é"),
        ] {
            assert_eq!(parse_traceparent(&bad), None, "{bad:?}");
        }
    }
}
