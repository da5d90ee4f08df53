//! The HTTP edge: turns Spin's incoming request into a [`Request`] the handlers read
//! ([`request`]), and a handler's `Result<Reply>` ([`reply`]) into the response, with
//! `X-Request-Id`, `Cache-Control: no-store` where the route catalogue says, and one log
//! line per request ([`access_log`]).

mod access_log;
mod reply;
mod request;

pub use reply::Reply;
pub use request::{Request, MAX_BODY};

use crate::error::{ApiError, Result};
use ::http::{Method, StatusCode};
use access_log::{log_request, new_request_id, Outcome};
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use std::time::Instant;

/// A response ready to go out: status, header fields and body.
struct Rendered {
    status: StatusCode,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Serves one request: routes it, writes the answer to Spin, and writes the log line.
pub async fn serve(
    incoming: IncomingRequest,
    out: ResponseOutparam,
    route: impl FnOnce(&Request) -> (Option<&'static str>, Result<Reply>),
) {
    let started = Instant::now();
    let request_id = new_request_id();
    let request = Request::from_incoming(incoming);
    let (template, answer) = route(&request);
    let (mut rendered, mut outcome) = match answer {
        Ok(reply) => render(reply, &request_id),
        Err(err) => render_error(&err, &request_id),
    };
    if crate::router::is_private(&request.path) {
        rendered
            .headers
            .push(field("cache-control", "no-store".to_string()));
    }
    outcome.route = template;
    // HEAD: what GET would answer, without the body (RFC 9110 §9.3.2).
    if request.method == Some(Method::HEAD) {
        rendered.body.clear();
    }
    if let Err(why) = send(out, rendered).await {
        let error = outcome
            .error
            .take()
            .map(|e| format!("{e}; "))
            .unwrap_or_default();
        outcome.error = Some(format!("{error}the response could not be sent: {why}"));
    }
    log_request(&request, &request_id, &outcome, started);
}

fn render(reply: Reply, request_id: &str) -> (Rendered, Outcome) {
    let replayed = reply
        .headers
        .iter()
        .any(|(name, _)| *name == "idempotent-replayed");
    let mut headers = vec![field("x-request-id", request_id.to_string())];
    headers.extend(reply.headers.into_iter().map(|(n, v)| field(n, v)));
    let body = match reply.body {
        Some((content_type, bytes)) => {
            headers.push(field("content-type", content_type.to_string()));
            bytes
        }
        None => Vec::new(),
    };
    let outcome = Outcome {
        route: None,
        status: reply.status,
        error: None,
        replayed,
    };
    let rendered = Rendered {
        status: reply.status,
        headers,
        body,
    };
    (rendered, outcome)
}

fn render_error(err: &ApiError, request_id: &str) -> (Rendered, Outcome) {
    let mut headers = vec![
        field("content-type", "application/problem+json".to_string()),
        field("x-request-id", request_id.to_string()),
    ];
    headers.extend(err.headers().into_iter().map(|(n, v)| field(n, v)));
    let outcome = Outcome {
        route: None,
        status: err.status(),
        error: err.log_detail().map(str::to_string),
        replayed: false,
    };
    let rendered = Rendered {
        status: err.status(),
        headers,
        body: serde_json::to_vec(&err.body(request_id)).unwrap_or_default(),
    };
    (rendered, outcome)
}

/// A header field as wasi-http takes it. Our names are lowercase already.
fn field(name: &str, value: String) -> (String, Vec<u8>) {
    (name.to_string(), value.into_bytes())
}

/// Hands the response to Spin and streams its body.
async fn send(out: ResponseOutparam, rendered: Rendered) -> std::result::Result<(), String> {
    let fields = Fields::from_list(&rendered.headers).map_err(|e| format!("headers: {e:?}"))?;
    let response = OutgoingResponse::new(fields);
    response
        .set_status_code(rendered.status.as_u16())
        .map_err(|()| format!("status {}", rendered.status.as_u16()))?;
    out.set_with_body(response, rendered.body)
        .await
        .map_err(|e| format!("body: {e:?}"))
}
